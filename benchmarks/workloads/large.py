"""The largest sizes, the lakes' engines driven directly, with the full stack's cost estimated."""

from __future__ import annotations

from typing import Any

from .. import _collab, _data
from .._context import Context, central_pair, forget_data


def large(ctx: Context) -> dict[str, Any]:
    """The largest sizes: FedAvg over the three lakes' phase handlers and engines (no PySyft,
    no masking), with the per-round transport and privacy cost measured at 1M added as an
    estimate."""
    out = {}
    s = ctx.suite
    for rows in s.large_sizes:
        ctx.log(f"large: {rows:,} rows")
        data = _data.synthetic(ctx.root, f"large_{rows}", rows, lakes=3)
        central = central_pair(ctx, data)
        target = central["mllib"]["accuracy"]
        plan = _collab.plan_for(
            data,
            "t",
            rounds=s.rounds,
            local_epochs=1,
            batch_size=s.batch_size,
            learning_rate=s.learning_rate,
            secure_aggregation=False,
        )
        with ctx.probe.active():
            parties = _collab.engine_parties(data, plan)
            run = _collab.run_here(
                "collab, engines driven directly", data, plan, parties, "engine-direct", ctx.probe
            )
        entry = {
            "rows": rows,
            "lakes": 3,
            "test_rows": len(data.y_test),
            **central,
            "collab": [run.to_dict(target)],
        }
        entry["full_stack_estimate"] = _full_stack_estimate(ctx, run, target)
        forget_data(data)
        del data
        out[str(rows)] = entry
    return out


def _full_stack_estimate(ctx: Context, run: _collab.Run, target: float) -> dict[str, Any] | None:
    """Seconds to target if every round also paid the transport and privacy cost measured
    through PySyft at the largest full size (that cost does not depend on rows)."""
    sizes = ctx.results.get("sizes") or {}
    if not sizes:
        return None
    biggest = sizes[max(sizes, key=int)]
    warm = [r for r in biggest["collab"] if "rows cached" in r["label"]]
    if not warm:
        return None
    ref = warm[0]
    per_round = ref["round_split"]["round"] - ref["round_split"]["step"]
    setup = ref["setup_seconds"]
    seconds = run.seconds_to(target)
    rounds = run.rounds_to(target)
    if seconds is None or rounds is None:
        return {"reference_rows": biggest["rows"], "seconds_to_target": None}
    return {
        "reference_rows": biggest["rows"],
        "per_round_overhead_seconds": per_round,
        "setup_overhead_seconds": setup,
        "seconds_to_target": seconds + rounds * per_round + setup,
    }
