"""The workloads, run side by side in one process, and the targets they are checked against."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from collab.plans import (
    LinearRegression,
    LogisticRegression,
    MLPClassifier,
    Plan,
    SoftmaxRegression,
)

from . import _central, _collab, _data, _report, _rounds
from ._probe import Probe, mean_split

WORKLOADS = (
    "yardsticks",
    "first_run",
    "demo",
    "sizes",
    "large",
    "lakes",
    "features",
    "memory",
    "families",
    "server_optimisers",
    "encoding",
    "round_cost",
    "trees",
)
SERVER_OPTIMISERS = (
    ("sgd", 1.0),
    *((name, rate) for name in ("adam", "yogi", "adagrad") for rate in (0.03, 0.1, 0.3)),
)
DEMO_PLAN = {"local_epochs": 5, "learning_rate": 0.5}  # the hospitals demo's plan


@dataclass(frozen=True)
class Suite:
    """Sizes and settings of one benchmark run."""

    name: str
    yardstick_rows: int = 1_000_000
    sizes: tuple[int, ...] = (100_000, 1_000_000)  # 3 lakes, every round through PySyft
    large_sizes: tuple[int, ...] = (5_000_000,)  # 3 lakes, the engines driven directly
    lake_counts: tuple[int, ...] = (2, 5, 10)
    lakes_rows: int = 300_000
    lakes_rounds: int = 4
    feature_counts: tuple[int, ...] = (20, 1_000, 10_000)
    feature_rows: int = 3_000
    feature_rounds: int = 3
    feature_l2: float = 1e-3
    memory_rows: tuple[int, ...] = (333_334, 1_666_667)  # one lake's share of 1M and 5M
    rounds: int = 6
    warm_runs: bool = True  # run each secure-aggregation job again once the rows are kept
    step_repeats: int = 8  # local steps timed per plan in the yardsticks (median of the last)
    mllib_iterations: tuple[int, int] = (3, 13)
    batch_size: int = 1024
    learning_rate: float = 0.5
    dp_rounds: int = 30
    dp_learning_rate: float = 10.0
    demo_rounds: int = 30
    demo_dp_learning_rate: float = 1.0
    first_run_rounds: int = 30  # `python -m collab demo`'s own default
    family_sizes: tuple[int, ...] = (100_000, 1_000_000)  # 3 lakes, every round through PySyft
    family_rounds: int = 6
    mlp_hidden: tuple[int, ...] = (32,)
    mlp_batch_size: int = 64
    mlp_learning_rate: float = 0.1
    sklearn_mlp_epochs: int = 10
    server_optimisers: tuple[tuple[str, float], ...] = SERVER_OPTIMISERS
    server_optimiser_rounds: int = 50
    encoding_rows: int = 1_000_000  # one lake, 5 text categories and 10 numbers with gaps
    encoding_repeats: int = 12  # round steps timed per plan (median of all but the first two)
    round_cost_lr_rounds: int = 20  # logistic regression rounds timed per setting
    round_cost_trees: tuple[int, int] = (10, 4)  # trees (n_trees, max_depth) timed per setting
    round_cost_served: bool = True  # also three lakes served over HTTP on loopback
    trees_demo_trees: int = 50
    trees_rows: tuple[int, ...] = (1_000_000,)  # synthetic thresholds signal, 3 uneven lakes
    trees_regression_rows: tuple[int, ...] = (1_000_000,)  # synthetic steps signal, as above
    trees_large_trees: int = 50
    trees_depth: int = 4
    trees_shares: tuple[float, ...] = (0.5, 0.3, 0.2)
    trees_test_rows: int = 50_000
    driver_memory: str = "8g"
    workloads: tuple[str, ...] = WORKLOADS
    notes: tuple[str, ...] = field(default_factory=tuple)


FULL = Suite("full")
SMOKE = Suite(
    "smoke",
    yardstick_rows=5_000,
    sizes=(3_000,),
    large_sizes=(),
    lake_counts=(2, 3),
    lakes_rows=3_000,
    lakes_rounds=1,
    feature_counts=(5, 50),
    feature_rows=300,
    feature_rounds=1,
    memory_rows=(),
    rounds=1,
    dp_rounds=1,
    demo_rounds=1,
    first_run_rounds=2,
    family_sizes=(3_000,),
    family_rounds=1,
    sklearn_mlp_epochs=2,
    server_optimisers=(("sgd", 1.0), ("adam", 0.1)),
    server_optimiser_rounds=2,
    warm_runs=False,
    step_repeats=3,
    mllib_iterations=(1, 2),
    encoding_rows=5_000,
    encoding_repeats=3,
    round_cost_lr_rounds=2,
    round_cost_trees=(1, 2),
    round_cost_served=False,
    trees_demo_trees=2,
    trees_rows=(3_000,),
    trees_regression_rows=(3_000,),
    trees_large_trees=2,
    trees_depth=2,
    trees_test_rows=2_000,
    driver_memory="2g",
    workloads=(
        "yardsticks",
        "sizes",
        "lakes",
        "features",
        "families",
        "server_optimisers",
        "encoding",
        "round_cost",
        "trees",
    ),
)


def _machine() -> dict[str, Any]:
    import pyspark

    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    try:
        import psutil

        memory = psutil.virtual_memory().total
    except ImportError:  # pragma: no cover
        memory = 0
    return {
        "date": datetime.date.today().isoformat(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "java": java.splitlines()[0] if java else "unknown",
        "spark": pyspark.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


class Context:
    """What the workloads share: the SparkSession, lakes, the probe, folders, results."""

    def __init__(self, suite: Suite, out: Path, workloads: list[str]) -> None:
        from collab import engine

        self.suite = suite
        self.out = out
        self.workloads = workloads
        self.root = _collab.temporary_root()
        self.spark = engine.spark_session(
            conf={"spark.driver.memory": suite.driver_memory, "spark.ui.enabled": "false"}
        )
        self.probe = Probe()
        self._lakes: _collab.Lakes | None = None
        self.results: dict[str, Any] = {}

    def lakes(self, n: int) -> _collab.Lakes:
        if self._lakes is None or len(self._lakes.lakes) < n:
            counts = self.suite.lake_counts if "lakes" in self.workloads else ()
            needed = max([n, *counts, 3])
            if self._lakes is not None:
                self._lakes.close()
            self._lakes = _collab.Lakes(needed, self.root / "lakes")
        return self._lakes

    def close(self) -> None:
        if self._lakes is not None:
            self._lakes.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _dp() -> Any:
    import collab

    return collab.DP(epsilon=1.0) if hasattr(collab, "DP") else None


def _central_pair(
    ctx: Context, data: _data.Dataset, reg: float = 0.0, family: str = "logistic_regression"
) -> dict[str, Any]:
    s = ctx.suite
    mllib, df = _central.mllib(ctx.spark, data, reg, family, s.mlp_hidden)
    df.unpersist()
    sk = _central.sklearn(data, reg, family, s.mlp_hidden, s.sklearn_mlp_epochs)
    return {"mllib": mllib.to_dict(), "sklearn": sk.to_dict()}


def _forget(data: _data.Dataset) -> None:
    from collab.engine._tables import forget

    for path in data.lake_paths:
        forget(str(path))


# --- workloads ------------------------------------------------------------------------------


def yardsticks(ctx: Context) -> dict[str, Any]:
    """A lake's local step per round against one MLlib iteration and one numpy pass, all over
    the same 1M x 20 rows (one table, cached). The lake is its phase handler over this
    process's Spark engine, sent the statistics message once and then one round's message
    again and again."""
    from collab.engine._step import last_step
    from collab.plans import Standardizer, Update
    from collab.plans._stats import STAT_METRICS
    from collab.protocol import Round, Stats

    rows = ctx.suite.yardstick_rows
    data = _data.synthetic(ctx.root, "yardsticks", rows, lakes=1)
    full_batch = _collab.plan_for(data, "t", local_epochs=1, secure_aggregation=False)
    mini_batch = _collab.plan_for(
        data, "t", local_epochs=1, batch_size=ctx.suite.batch_size, secure_aggregation=False
    )
    with ctx.probe.active():
        (lake,) = _collab.engine_parties(data, full_batch)
        stats, first_pass = _collab.timed(
            lambda: lake.compute(Stats(full_batch.hash, 1, [lake.name]).to_dict())
        )
        std = Standardizer.from_stats(Update.from_flat(stats["vector"], len(STAT_METRICS)))
        steps: dict[str, list[float]] = {"full_batch": [], "mini_batch": []}
        compute: dict[str, list[float]] = {"full_batch": [], "mini_batch": []}
        for name, plan in (("full_batch", full_batch), ("mini_batch", mini_batch)):
            (lake,) = _collab.engine_parties(data, plan)
            request = plan.round_request(plan.start(std), 1)
            message = Round(plan.hash, 1, [lake.name], request, std.to_dict()).to_dict()
            for _ in range(ctx.suite.step_repeats):
                lake.compute(message)
                steps[name].append(last_step().seconds)
                compute[name].append(last_step().compute_seconds)
    mllib, df = _central.mllib(ctx.spark, data)
    per_iteration = _central.mllib_seconds_per_iteration(df, *ctx.suite.mllib_iterations)
    df.unpersist()
    numpy_pass = _central.numpy_pass_seconds(data)
    _forget(data)
    step = {k: _settled(v) for k, v in steps.items()}
    return {
        "rows": rows,
        "features": len(data.features),
        "first_pass_seconds": first_pass,
        "step_seconds": step,
        "step_compute_seconds": {k: _settled(v) for k, v in compute.items()},
        "step_samples": steps,
        "mllib": mllib.to_dict(),
        "mllib_iteration": per_iteration,
        "numpy_pass_seconds": numpy_pass,
        "ratio_step_to_mllib_iteration": step["full_batch"] / per_iteration["marginal_seconds"],
        "ratio_step_to_mllib_iteration_average": step["full_batch"]
        / per_iteration["average_seconds"],
        "ratio_step_to_numpy_pass": step["full_batch"] / numpy_pass,
        "ratio_mini_batch_step_to_numpy_pass": step["mini_batch"] / numpy_pass,
    }


def _collab_runs(
    ctx: Context,
    data: _data.Dataset,
    table: str,
    k: int,
    target: float,
    plan_settings: dict[str, Any],
    dp_settings: dict[str, Any] | None,
    *,
    warm: bool = True,
    family: type[Plan] = LogisticRegression,
) -> list[dict[str, Any]]:
    lakes = ctx.lakes(k)
    runs = []
    plan = _collab.plan_for(data, table, family, **plan_settings)
    with ctx.probe.active():
        labels = ["collab, secure aggregation (first job)"]
        if warm:
            labels.append("collab, secure aggregation (rows cached)")
        for label in labels:
            run = _collab.run_job(label, lakes, k, data, plan, ctx.probe)
            runs.append(run.to_dict(target))
        dp = _dp()
        if dp_settings is not None and dp is not None:
            dp_plan = _collab.plan_for(data, table, dp=dp, **dp_settings)
            run = _collab.run_job(
                "collab, secure aggregation + DP (epsilon 1)", lakes, k, data, dp_plan, ctx.probe
            )
            runs.append(run.to_dict(target))
    return runs


def first_run(ctx: Context) -> dict[str, Any]:
    """``python -m collab demo`` (the iid split), as a newcomer runs it after installing: its
    own process, its own Spark, its wall time and its parts as the demo measures them."""
    timings = ctx.root / "first_run.json"
    command = [
        sys.executable,
        "-m",
        "collab",
        "demo",
        "--split",
        "iid",
        "--quiet",
        "--rounds",
        str(ctx.suite.first_run_rounds),
        "--log",
        str(ctx.root / "first_run.log"),
        "--timings",
        str(timings),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if not timings.is_file():
        raise RuntimeError(f"the demo failed (exit {done.returncode}): {done.stderr[-2000:]}")
    measured = json.loads(timings.read_text())
    return {
        "rounds": ctx.suite.first_run_rounds,
        "exit_code": done.returncode,
        "process_seconds": wall,  # with the interpreter's start and the imports
        "demo_seconds": measured["total"],
        "parts": measured["parts"],
    }


def demo(ctx: Context) -> dict[str, Any]:
    """The hospitals demo: breast-cancer data, 3 lakes, the demo's plan."""
    data = _data.demo(ctx.root, "breast_cancer", lakes=3)
    ctx.lakes(3).add(data, "bc")
    central = _central_pair(ctx, data)
    target = central["mllib"]["accuracy"]
    plan = {"rounds": ctx.suite.demo_rounds, **DEMO_PLAN}
    dp = {
        "rounds": ctx.suite.demo_rounds,
        "local_epochs": 1,
        "learning_rate": ctx.suite.demo_dp_learning_rate,
    }
    runs = _collab_runs(ctx, data, "bc", 3, target, plan, dp, warm=False)
    return {"rows": data.rows, "lakes": 3, "test_rows": len(data.y_test), **central, "collab": runs}


def sizes(ctx: Context) -> dict[str, Any]:
    """Synthetic 20-feature data over 3 lakes; every round through PySyft."""
    out = {}
    s = ctx.suite
    for rows in s.sizes:
        ctx.log(f"sizes: {rows:,} rows")
        data = _data.synthetic(ctx.root, f"syn_{rows}", rows, lakes=3)
        table = f"syn_{rows}"
        ctx.lakes(3).add(data, table)
        central = _central_pair(ctx, data)
        target = central["mllib"]["accuracy"]
        plan = {
            "rounds": s.rounds,
            "local_epochs": 1,
            "batch_size": s.batch_size,
            "learning_rate": s.learning_rate,
        }
        dp = {"rounds": s.dp_rounds, "local_epochs": 1, "learning_rate": s.dp_learning_rate}
        runs = _collab_runs(ctx, data, table, 3, target, plan, dp, warm=s.warm_runs)
        _forget(data)
        out[str(rows)] = {
            "rows": rows,
            "lakes": 3,
            "test_rows": len(data.y_test),
            **central,
            "collab": runs,
        }
    return out


def large(ctx: Context) -> dict[str, Any]:
    """The largest sizes: FedAvg over the three lakes' phase handlers and engines (no PySyft,
    no masking), with the per-round transport and privacy cost measured at 1M added as an
    estimate."""
    out = {}
    s = ctx.suite
    for rows in s.large_sizes:
        ctx.log(f"large: {rows:,} rows")
        data = _data.synthetic(ctx.root, f"large_{rows}", rows, lakes=3)
        central = _central_pair(ctx, data)
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
        _forget(data)
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
        _forget(data)
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


def features(ctx: Context) -> dict[str, Any]:
    """20, 1,000 and 10,000 features over 3 lakes (L2-regularised: wide tables have more
    features than rows); the privacy layer's share of a round as parameters grow."""
    s = ctx.suite
    out = {}
    for d in s.feature_counts:
        ctx.log(f"features: {d:,}")
        test_rows = int(min(20_000, max(1_000, 20_000_000 // d)))
        data = _data.synthetic(
            ctx.root, f"wide_{d}", s.feature_rows, lakes=3, n_features=d, test_rows=test_rows
        )
        table = f"wide_{d}"
        (_, add_seconds) = _collab.timed(lambda: ctx.lakes(3).add(data, table))  # noqa: B023
        central = _central_pair(ctx, data, reg=s.feature_l2)
        target = central["mllib"]["accuracy"]
        plan = {
            "rounds": s.feature_rounds,
            "local_epochs": 1,
            "batch_size": 128,
            "learning_rate": s.learning_rate,
            "l2": s.feature_l2,
        }
        runs = _collab_runs(ctx, data, table, 3, target, plan, None, warm=False)
        split = runs[0]["round_split"]
        privacy = split["crypto_lake"] + split["crypto_coordinator"]
        _forget(data)
        out[str(d)] = {
            "features": d,
            "parameters": d + 1,
            "rows": s.feature_rows,
            "add_table_seconds_3_lakes": add_seconds,
            **central,
            "collab": runs,
            "privacy_share_of_round": privacy / split["round"],
            "unmask_round_trip_share": split["slowest_unmask_call"] / split["round"],
        }
    return out


def memory(ctx: Context) -> dict[str, Any]:
    """A lake's peak memory: one lake served over HTTP in its own process (its Datasite, its
    Spark JVM and Python workers), trained from here with secure aggregation on."""
    import psutil

    import collab
    from collab.engine._step import row_cache

    from ._memory import PeakMemory, shm_bytes

    s = ctx.suite
    out = {}
    me = psutil.Process()
    for rows in s.memory_rows:
        ctx.log(f"memory: one lake with {rows:,} rows")
        data = _data.synthetic(ctx.root, f"mem_{rows}", rows, lakes=1, test_rows=20_000)
        before = {p.pid for p in me.children()}
        port = _free_port()
        lake = collab.Lake.launch(f"mem-{rows}", port=port, data_dir=ctx.root / f"mem-{rows}")
        try:
            server = [p for p in me.children() if p.pid not in before and "java" not in p.name()]
            lake.add_table("t", data.lake_paths[0], bounds=data.bounds)
            lake.add_scientist(_collab.EMAIL, _collab.PASSWORD)
            fed = collab.connect([lake], email=_collab.EMAIL, password=_collab.PASSWORD)
            plan = _collab.plan_for(
                data,
                "t",
                rounds=3,
                local_epochs=1,
                batch_size=s.batch_size,
                learning_rate=s.learning_rate,
            )
            ours = row_cache()._root
            with PeakMemory(lambda: server, interval=0.3) as peak:  # noqa: B023
                job = fed.submit(plan)
                for request in lake.requests:
                    if request.job_id == job.job_id and request.status == "pending":
                        request.approve()
                model = job.result(progress=False, timeout=1800)
                kept = shm_bytes(skip=ours)
            acc = _data.accuracy(data.X_test, data.y_test, model.coef_, model.intercept_)
        finally:
            lake.stop()
        out[str(rows)] = {
            "rows": rows,
            "features": len(data.features),
            "table_bytes_as_float64": rows * (len(data.features) + 1) * 8,
            "peak_pss_bytes": peak.peak_total,
            "peak_pss_parts": peak.peak_parts,
            "kept_rows_shm_bytes": kept,
            "accuracy": acc,
        }
    return out


def _family_cases(s: Suite) -> list[tuple[type[Plan], str, dict[str, Any]]]:
    """Each family beyond logistic regression, the synthetic signal it learns (see
    ``_data.SIGNALS``), and how it trains."""
    return [
        (LinearRegression, "linear", {"solver": "exact"}),  # one round of X'X and X'y
        (
            SoftmaxRegression,
            "softmax",
            {
                "rounds": s.family_rounds,
                "local_epochs": 1,
                "batch_size": s.batch_size,
                "learning_rate": s.learning_rate,
            },
        ),
        (
            MLPClassifier,
            "xor",
            {
                "hidden": s.mlp_hidden,
                "rounds": s.family_rounds,
                "local_epochs": 1,
                "batch_size": s.mlp_batch_size,
                "learning_rate": s.mlp_learning_rate,
            },
        ),
    ]


def families(ctx: Context) -> dict[str, Any]:
    """Least squares, softmax regression and a perceptron on synthetic 20-feature data over 3
    lakes, every round through PySyft with secure aggregation, against MLlib's and
    scikit-learn's counterparts on the pooled rows (the same rows, this process)."""
    s = ctx.suite
    out: dict[str, Any] = {}
    for rows in s.family_sizes:
        for family, signal, settings in _family_cases(s):
            ctx.log(f"families: {family.model}, {rows:,} rows")
            table = f"{signal}_{rows}"
            data = _data.synthetic(ctx.root, table, rows, lakes=3, signal=signal)
            ctx.lakes(3).add(data, table)
            central = _central_pair(ctx, data, family=family.model)
            metric = _data.METRICS[data.task]
            target = central["mllib"][metric]
            if data.task == "classification":
                settings = {**settings, "classes": data.classes}
            runs = _collab_runs(
                ctx, data, table, 3, target, settings, None, warm=s.warm_runs, family=family
            )
            _forget(data)
            out[f"{family.model}/{rows}"] = {
                "family": family.model,
                "signal": signal,
                "metric": metric,
                "rows": rows,
                "lakes": 3,
                "features": len(data.features),
                "test_rows": len(data.y_test),
                **central,
                "collab": runs,
            }
    return out


def server_optimisers(ctx: Context) -> dict[str, Any]:
    """The demo's skewed split (3 hospitals of different sizes and label mixes) trained with
    each server optimiser and step size: test accuracy after every round. The hospitals are
    their phase handlers over arrays in this process (secure aggregation on, no PySyft): the
    arithmetic of a real job, without its transport."""
    s = ctx.suite
    out: dict[str, Any] = {}
    for dataset, family in (("breast_cancer", LogisticRegression), ("wine", SoftmaxRegression)):
        ctx.log(f"server optimisers: {dataset}")
        data = _data.demo(ctx.root, dataset, lakes=3, split="skewed")
        pooled = _central.sklearn(data, family=family.model)
        classes = {"classes": data.classes} if family is SoftmaxRegression else {}
        runs = []
        for optimiser, rate in s.server_optimisers:
            plan = _collab.plan_for(
                data,
                "patients",
                family,
                rounds=s.server_optimiser_rounds,
                server_optimizer=optimiser,
                server_learning_rate=rate,
                **DEMO_PLAN,
                **classes,
            )
            parties = _collab.array_parties(data, plan)
            run = _collab.run_here(
                f"{optimiser}, server rate {rate:g}", data, plan, parties, "arrays", ctx.probe
            )
            runs.append(
                {
                    "server_optimizer": optimiser,
                    "server_learning_rate": rate,
                    **run.to_dict(pooled.value),
                }
            )
        out[dataset] = {
            "dataset": dataset,
            "family": family.model,
            "split": "skewed",
            "lake_rows": data.lake_rows,
            "lake_label_counts": [
                np.bincount(y.astype(int), minlength=len(data.classes)).tolist()
                for _, y in data.lake_arrays()
            ],
            "test_rows": len(data.y_test),
            "sklearn": pooled.to_dict(),
            "runs": runs,
        }
    return out


# What the encoding workload's plan asks of the numbers, besides one-hot categories.
ENCODING_TRANSFORMS = (
    {"transform": "impute", "columns": ["x0"], "strategy": "median"},
    {"transform": "impute", "columns": ["x1"], "strategy": "mean"},
    {"transform": "missing_indicator", "columns": ["x2"]},
    {"transform": "log1p", "columns": ["x3"]},
    {"transform": "clip", "columns": ["x4"], "lower": -1.0, "upper": 3.0},
)


def encoding(ctx: Context) -> dict[str, Any]:
    """What one-hot categories and transforms add to a lake's round step: the same rows as
    a table of 5 text categorical columns (one-hot encoded in the lake, with imputation, a
    missing indicator, log1p and clip on the numbers) and as the table its owner one-hot
    encoded already (0/1 columns, the indicator included: as many model inputs). Each is one
    lake's phase handler over this process's Spark engine, as in the yardsticks; their
    rounds alternate (each goes first every other time), so both see the same load."""
    from collab.engine._step import last_step
    from collab.features import Transform
    from collab.plans import Update
    from collab.plans._stats import STAT_METRICS
    from collab.protocol import Round, Stats

    s = ctx.suite
    transforms = [Transform.from_spec(t) for t in ENCODING_TRANSFORMS]
    indicated = tuple(c for t in transforms if t.name == "missing_indicator" for c in t.columns)
    coded, numbers = _data.categorical(ctx.root, "encoding", s.encoding_rows, indicated)
    medians = [c for t in transforms if getattr(t, "strategy", "") == "median" for c in t.columns]
    tables = {
        "pre_encoded": (numbers, {}),
        "in_lake": (
            coded,
            {
                "transforms": transforms,
                "encoding": {
                    "categories": coded.categories,
                    "bounds": {c: coded.bounds[c] for c in medians},
                },
            },
        ),
    }
    kinds = {"full_batch": {}, "mini_batch": {"batch_size": s.batch_size}}
    first_pass: dict[str, float] = {}
    inputs: dict[str, int] = {}
    calls: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {k: [] for k in kinds}
    with ctx.probe.active():
        plans = {
            (name, kind): _collab.plan_for(
                data, "t", local_epochs=1, secure_aggregation=False, **extra, **batching
            )
            for name, (data, extra) in tables.items()
            for kind, batching in kinds.items()
        }
        standardizers = {}
        for name, (data, _) in tables.items():
            plan = plans[(name, "full_batch")]

            def statistics() -> tuple[dict[str, Any], float]:
                (lake,) = _collab.engine_parties(data, plan)  # noqa: B023
                message = Stats(plan.hash, 1, [lake.name]).to_dict()  # noqa: B023
                return _collab.timed(lambda: lake.compute(message))

            # a pass read and then forgotten, so that neither table's first pass also starts
            # the JVM's code for it or Spark's Python workers
            statistics()
            _forget(data)
            stats, first_pass[name] = statistics()
            standardizers[name] = plan.standardizer_from(
                Update.from_flat(stats["vector"], len(STAT_METRICS))
            )
            inputs[name] = plan.n_inputs
        for kind in kinds:
            for name, (data, _) in tables.items():
                plan, std = plans[(name, kind)], standardizers[name]
                (lake,) = _collab.engine_parties(data, plan)
                request = plan.round_request(plan.start(std), 1)
                message = Round(plan.hash, 1, [lake.name], request, std.to_dict()).to_dict()
                calls[kind].append((name, lake, message))
        steps: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in tables}
        compute: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in tables}
        for i in range(s.encoding_repeats):
            for kind, pair in calls.items():  # the two tables in turn, first one then the other
                for name, lake, message in pair if i % 2 == 0 else pair[::-1]:
                    lake.compute(message)
                    steps[name][kind].append(last_step().seconds)
                    compute[name][kind].append(last_step().compute_seconds)
    for data, _ in tables.values():
        _forget(data)
    step = {n: {k: _settled(v) for k, v in per.items()} for n, per in steps.items()}
    first_round = {n: per["full_batch"][0] for n, per in steps.items()}
    return {
        "rows": s.encoding_rows,
        "categorical": dict(_data.CATEGORICAL),
        "numbers": len(_data.NUMBER_GAPS),
        "category_gaps": _data.CATEGORY_GAPS,
        "number_gaps": list(_data.NUMBER_GAPS),
        "transforms": [t.to_spec() for t in transforms],
        "inputs": inputs,
        "raw_columns": {n: len(data.features) for n, (data, _) in tables.items()},
        "batch_size": s.batch_size,
        "first_pass_seconds": first_pass,
        "first_round_seconds": first_round,
        "step_seconds": step,
        "step_compute_seconds": {
            n: {k: _settled(v) for k, v in per.items()} for n, per in compute.items()
        },
        "step_samples": steps,
        "ratio_step": {k: step["in_lake"][k] / step["pre_encoded"][k] for k in kinds},
        "ratio_first_pass": first_pass["in_lake"] / first_pass["pre_encoded"],
        "ratio_first_round": first_round["in_lake"] / first_round["pre_encoded"],
    }


def _settled(samples: list[float]) -> float:
    """The median of a plan's steps once its rows are kept and prepared (the first steps
    prepare them)."""
    skip = min(2, len(samples) - 1)
    return float(np.median(samples[skip:]))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "yardsticks": yardsticks,
    "first_run": first_run,
    "demo": demo,
    "sizes": sizes,
    "large": large,
    "lakes": lakes,
    "features": features,
    "memory": memory,
    "families": families,
    "server_optimisers": server_optimisers,
    "encoding": encoding,
    "round_cost": _rounds.round_cost,
    "trees": _rounds.trees,
}


def _earlier(out: Path, chosen: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Results in ``out`` of the workloads not run now, and when (and by which suite) each was
    measured, so that a run of some workloads keeps the others in ``results.md``."""
    path = out / "summary.json"
    if not path.is_file():
        return {}, {}
    earlier = json.loads(path.read_text())
    measured = earlier.get("measured") or {
        name: {"date": earlier["machine"]["date"], "suite": earlier["suite"]["name"]}
        for name in earlier.get("workloads", [])
    }
    results, when = {}, {}
    for name in WORKLOADS:
        if name not in chosen and name in measured and (out / f"{name}.json").is_file():
            results[name] = json.loads((out / f"{name}.json").read_text())
            when[name] = measured[name]
    return results, when


def run(suite: Suite, out: Path, only: list[str] | None = None) -> dict[str, Any]:
    """Run ``suite``'s workloads (or ``only`` these) and write the results to ``out``.

    With ``only``, the other workloads' results already in ``out`` stay in ``summary.json``
    and ``results.md``, each with the date of the run that measured it.
    """
    started = time.perf_counter()
    load_start = os.getloadavg()
    out.mkdir(parents=True, exist_ok=True)
    chosen = [w for w in suite.workloads if only is None or w in only]
    carried, measured = _earlier(out, chosen) if only is not None else ({}, {})
    ctx = Context(suite, out, chosen)
    ctx.results.update(carried)
    machine = _machine()
    summary: dict[str, Any] = {
        "suite": asdict(replace(suite, notes=())),
        "machine": machine,
        "workloads": chosen,
        "carried": sorted(carried),
        "seconds": {},
    }
    try:
        for name in chosen:
            ctx.log(f"workload {name}")
            began = time.perf_counter()
            result = RUNNERS[name](ctx)
            summary["seconds"][name] = time.perf_counter() - began
            ctx.results[name] = result
            measured[name] = {"date": machine["date"], "suite": suite.name}
            (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=_json))
    finally:
        ctx.close()
    summary["measured"] = {name: measured[name] for name in WORKLOADS if name in measured}
    summary["load_average_start"] = load_start
    summary["load_average_end"] = os.getloadavg()
    summary["total_seconds"] = time.perf_counter() - started
    summary["targets"] = _report.targets(ctx.results)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=_json))
    _report.write(out, summary, ctx.results)
    return summary


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


if __name__ == "__main__":  # pragma: no cover
    run(SMOKE if "--smoke" in sys.argv else FULL, Path(__file__).parent / "results")
