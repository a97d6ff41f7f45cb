"""The targets of the benchmarks, each with its measured value and limit."""

from __future__ import annotations

from typing import Any

from ._format import MARGIN_POINTS
from ._report_rounds import round_cost_targets, trees_targets

MLP_STEP_MISSED = (
    "The step is one epoch of sequential mini-batches (15,625 of 64 rows at 1M rows), each "
    "about 25 numpy calls on 64 x 20 and 64 x 32 arrays: some 40 microseconds a batch on this "
    "machine whatever the arithmetic, so 0.6 s an epoch, plus the incoming weights' loss over "
    "every row (in chunks of 32,768 rows, about 0.1 s). The full-batch pass it is compared with "
    "is a handful of large calls (0.35-1.0 s from call to call, with its 256 MB arrays). Writing "
    "the batch loop in place (no array allocated per call) was measured and is no faster; what "
    "would close it is fewer calls per batch: the biases folded into augmented weight matrices "
    "(one product and one update per layer), and the batch loop compiled (a numba or Cython "
    "kernel, or torch for this family)."
)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue with its measured value (``None`` when not measured)."""
    out: list[dict[str, Any]] = []

    def add(
        name: str, value: float | None, limit: float, unit: str, how: str, if_missed: str = ""
    ) -> None:
        """``if_missed``: why the target can miss, and what would close it (shown if it does)."""
        met = None if value is None else bool(value <= limit)
        out.append(
            {
                "target": name,
                "value": value,
                "limit": limit,
                "unit": unit,
                "met": met,
                "how": how,
                "if_missed": if_missed,
            }
        )

    # accuracy within 0.5 points of MLlib, every size (secure aggregation, non-DP)
    for group in ("demo", "sizes", "large"):
        entries = results.get(group)
        if not entries:
            continue
        items = [entries] if group == "demo" else list(entries.values())
        for entry in items:
            best = max(
                (r["accuracy"] for r in entry["collab"] if r["dp_epsilon"] is None), default=None
            )
            gap = None if best is None else 100 * (entry["mllib"]["accuracy"] - best)
            add(
                f"accuracy gap to MLlib, {entry['rows']:,} rows ({group})",
                gap,
                MARGIN_POINTS,
                "points",
                "MLlib test accuracy minus collab's after the last round",
            )

    sizes = results.get("sizes") or {}
    if "1000000" in sizes:
        entry = sizes["1000000"]
        mllib = entry["mllib"]
        for run in entry["collab"]:
            if run["dp_epsilon"] is not None:
                continue
            seconds = run.get("seconds_to_target")
            cold = "first job" in run["label"]
            base = mllib["fit_seconds"] + (mllib["load_seconds"] if cold else 0.0)
            add(
                f"1M rows: time to MLlib accuracy vs MLlib fit ({run['label']})",
                None if seconds is None else seconds / base,
                1.5,
                "x",
                "collab from job start (keys, statistics, rounds) / MLlib fit on the cached "
                "pooled rows" + (" plus reading and caching them" if cold else ""),
            )

    yard = results.get("yardsticks")
    if yard:
        shape = f"{yard['rows']:,} x {yard['features']}"
        add(
            f"local step vs one MLlib iteration ({shape})",
            yard["ratio_step_to_mllib_iteration"],
            2.0,
            "x",
            "median full-batch local step / MLlib seconds per extra L-BFGS iteration",
        )
        add(
            f"local step vs one numpy pass ({shape})",
            yard["ratio_step_to_numpy_pass"],
            10.0,
            "x",
            "median full-batch local step / one numpy gradient pass in memory",
        )

    wide = results.get("features") or {}
    if "10000" in wide:
        add(
            "privacy layer share of a round at 10,000 parameters",
            100 * wide["10000"]["privacy_share_of_round"],
            10.0,
            "%",
            "masking, key agreement, shares and encoding (lakes + coordinator) / round time",
        )
        first = wide["10000"]["collab"][0]
        add(
            "round time at 10,000 features",
            (first["round_split"] or {}).get("round"),
            2.0,
            "s",
            f"mean round wall time after the first, {first['label']}, 3 lakes",
        )

    coding = results.get("encoding")
    if coding:
        add(
            "encoding and transforms: round step vs pre-encoded numbers "
            f"({coding['rows']:,} rows, {len(coding['categorical'])} categorical)",
            coding["ratio_step"]["full_batch"],
            1.2,
            "x",
            "median full-batch round step, categories one-hot encoded in the lake with "
            "transforms / the same rows one-hot encoded by the owner (same inputs), rounds "
            "alternating in one run",
        )

    step = results.get("mlp_step")
    if step:
        add(
            f"MLP step vs one numpy forward and backward pass ({step['rows']:,} rows)",
            step["ratio_step_to_numpy_pass"],
            2.0,
            "x",
            f"median local step (one epoch, batches of {step['batch_size']}, hidden "
            f"{step['hidden']}) / one full-batch numpy gradient over the same rows in memory",
            MLP_STEP_MISSED,
        )
    kernel = (results.get("memory") or {}).get("demo_kernel")
    if kernel:
        # the "1 GB", read as the smaller of 10^9 bytes and 1 GiB: 953.7 MiB
        add(
            f"demo kernel peak memory ({kernel['notebook']}), at most 1 GB (10^9 bytes)",
            kernel["peak_total_bytes"] / 2**20,
            1e9 / 2**20,
            "MiB",
            "peak PSS of the notebook's kernel, its Spark JVM and Python workers, plus the "
            "bytes its kept rows hold in shared memory, as the notebook runs (MiB = 2^20 "
            "bytes; the limit, 10^9 bytes, is 953.7 MiB)",
        )
    round_cost_targets(results.get("round_cost"), add)
    trees_targets(results.get("trees"), add)

    lakes = results.get("lakes") or {}
    if "growth_own_machines" in lakes:
        counts = sorted(int(k) for k in lakes if k.isdigit())
        span = f"{counts[0]} -> {counts[-1]} lakes"
        add(
            f"round time growth {span}, fixed total rows (lakes on own machines)",
            100 * lakes["growth_own_machines"],
            20.0,
            "%",
            f"slowest lake's calls timed alone + coordinator, {span}",
        )
        add(
            f"round time growth {span}, fixed total rows (all on this machine)",
            100 * lakes["growth_shared_machine"],
            100.0,
            "%",
            "measured round wall time, every lake in this process on the same cores",
        )
    return out
