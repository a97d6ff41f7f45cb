"""Where a trees job's time goes: the trees workload's lakes and data (1,000,000 rows, 50 x 4,
three uneven lakes, secure aggregation), collab's job only, with per-round wall times split as
the benchmark splits them and, with ``--profile``, cProfile over every thread of the process.

    PYTHONPATH=. python -m benchmarks.profile_trees OUT [--rows N] [--trees N] [--profile]

Writes ``OUT/summary.json`` (the job, its start, first level and final rounds, the level rounds
by depth, the summed splits, the load average), ``OUT/splits.json`` (every round's split) and,
with ``--profile``, ``OUT/job.prof`` (``python -m pstats``), all threads' stats added up: their
times overlap (the lakes' threads run at once), so compare them with each other only.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import _collab, _data
from ._context import Context
from ._suite import Suite
from .workloads.trees import tree_settings


def _profile_threads(profiles: list[cProfile.Profile]) -> None:
    """Every thread started from now on runs under a profiler of its own (in ``profiles``)."""
    run = threading.Thread.run

    def profiled(self: threading.Thread) -> None:
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()
        try:
            run(self)
        finally:
            profile.disable()

    threading.Thread.run = profiled  # type: ignore[method-assign]


def _by_depth(splits: list[dict[str, float]], depth: int) -> dict[str, Any]:
    levels = splits[1:-1]  # the start round (labels, sketch) and the final one are not levels
    return {
        f"depth_{k}": {
            "rounds": len(levels[k::depth]),
            "seconds": float(sum(s["round"] for s in levels[k::depth])),
            "step_seconds": float(sum(s["step"] for s in levels[k::depth])),
        }
        for k in range(depth)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    profiles: list[cProfile.Profile] = []
    if args.profile:
        _profile_threads(profiles)

    from collab.plans import GradientBoostedTrees

    suite = Suite("profile")
    ctx = Context(suite, args.out, ["trees"])
    try:
        table = "trees_profile"
        data = _data.synthetic(
            ctx.root,
            table,
            args.rows,
            lakes=3,
            signal="thresholds",
            shares=suite.trees_shares,
            test_rows=suite.trees_test_rows,
        )
        lakes = ctx.lakes(3)
        lakes.add(data, table, with_bounds=False)
        plan = GradientBoostedTrees(
            table=table,
            features=data.features,
            label=data.label,
            objective="binary",
            **tree_settings(args.trees, args.depth),
        )
        load = os.getloadavg()
        main_profile = cProfile.Profile()
        if args.profile:
            main_profile.enable()
        with ctx.probe.active():
            run = _collab.run_job("collab trees", lakes, 3, data, plan, ctx.probe)
        main_profile.disable()
        splits = run.round_splits
        summary = {
            "rows": args.rows,
            "trees": args.trees,
            "depth": args.depth,
            "job_seconds": run.total_seconds,
            "accuracy": run.final,
            "start_round_seconds": splits[0]["round"],
            "first_level_round_seconds": splits[1]["round"],
            "final_round_seconds": splits[-1]["round"],
            "levels": _by_depth(splits, args.depth),
            "level_round_median": float(np.median([s["round"] for s in splits[1:-1]])),
            "split_sums": {k: float(sum(s.get(k, 0.0) for s in splits)) for k in splits[0]},
            "load_average": {"start": load, "end": os.getloadavg()},
            "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        print(json.dumps(summary, indent=1))
        (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
        (args.out / "splits.json").write_text(json.dumps(splits))
        if args.profile:
            stats = pstats.Stats(main_profile)
            for profile in profiles:
                profile.disable()  # a thread still running (a lake's watcher) stops here
                stats.add(profile)
            stats.dump_stats(str(args.out / "job.prof"))
            stats.sort_stats("tottime").print_stats(30)
    finally:
        ctx.close()


if __name__ == "__main__":
    main()
