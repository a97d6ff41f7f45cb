"""More lakes holding the same total rows: round time on one machine and on own machines."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _collab, _data
from .._context import Context, forget_data
from .._probe import mean_split


def lakes(ctx: Context) -> dict[str, Any]:
    """2, 5 and 10 lakes holding the same total rows: round time as measured here (all lakes
    share this machine's cores) and with each lake's calls timed alone (own machines)."""
    s = ctx.suite
    out = {}
    for k in s.lake_counts:
        ctx.log(f"lakes: {k}")
        data = _data.synthetic(ctx.root, f"lakes_{k}", s.lakes_rows, lakes=k)
        table = f"lakes_{k}"
        pool = ctx.lakes(k)
        pool.add(data, table)
        plan = _collab.plan_for(
            data,
            table,
            rounds=s.lakes_rounds,
            local_epochs=1,
            batch_size=s.batch_size,
            learning_rate=s.learning_rate,
        )
        with ctx.probe.active():
            shared = _collab.run_job(f"{k} lakes, concurrent", pool, k, data, plan, ctx.probe)
            alone = _collab.run_job(
                f"{k} lakes, calls one at a time", pool, k, data, plan, ctx.probe, isolate=True
            )
        critical = []
        for split in alone.round_splits[1:] or alone.round_splits:
            # calls ran one after another: the coordinator's own time is what is left
            split["aggregation"] = max(
                split["round"] - split["all_calls"] - split["crypto_coordinator"], 0.0
            )
            critical.append(
                split["slowest_calls"] + split["aggregation"] + split["crypto_coordinator"]
            )
        alone.round_split = mean_split(alone.round_splits[1:] or alone.round_splits)
        forget_data(data)
        out[str(k)] = {
            "lakes": k,
            "rows": s.lakes_rows,
            "rows_per_lake": s.lakes_rows // k,
            "round_seconds_shared_machine": float(
                np.median([x["round"] for x in shared.round_splits[1:] or shared.round_splits])
            ),
            "round_seconds_own_machines": float(np.median(critical)),
            "split_shared_machine": shared.round_split,
            "split_calls_alone": alone.round_split,
            "accuracy": shared.final,
        }
    counts = sorted(out, key=int)
    if len(counts) >= 2:
        low, high = out[counts[0]], out[counts[-1]]
        out["growth_own_machines"] = (
            high["round_seconds_own_machines"] / low["round_seconds_own_machines"] - 1
        )
        out["growth_shared_machine"] = (
            high["round_seconds_shared_machine"] / low["round_seconds_shared_machine"] - 1
        )
    return out
