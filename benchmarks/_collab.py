"""collab's side of a workload: in-process lakes, jobs submitted through PySyft, and (for the
largest size) the same FedAvg loop driving the lakes' engines directly."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import collab
from collab.plans import LogisticRegression

from ._data import Dataset, accuracy
from ._probe import Probe, mean_split, split_round

EMAIL, PASSWORD = "bench@uni.edu", "benchmark-scientist-1"
MARGIN = 0.005  # "within 0.5 points"


@dataclass
class Run:
    """One training run of collab: per-round test accuracy and timings."""

    label: str
    lakes: int
    rounds: int
    secure_aggregation: bool
    dp_epsilon: float | None
    transport: str  # "pysyft" or "engine-direct"
    total_seconds: float = 0.0
    setup_seconds: float = 0.0  # job start until the first round starts (keys, statistics)
    round_end: list[float] = field(default_factory=list)  # seconds since job start
    round_accuracy: list[float] = field(default_factory=list)
    round_split: dict[str, float] = field(default_factory=dict)  # means over rounds
    round_splits: list[dict[str, float]] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    kept_row_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.round_accuracy[-1] if self.round_accuracy else float("nan")

    def seconds_to(self, target: float) -> float | None:
        """Seconds from the job's start until its model is within 0.5 points of ``target``."""
        for seconds, acc in zip(self.round_end, self.round_accuracy, strict=True):
            if acc >= target - MARGIN:
                return seconds
        return None

    def rounds_to(self, target: float) -> int | None:
        for r, acc in enumerate(self.round_accuracy, start=1):
            if acc >= target - MARGIN:
                return r
        return None

    def to_dict(self, target: float | None = None) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k != "round_splits"}
        out["accuracy"] = self.accuracy
        if target is not None:
            out["seconds_to_target"] = self.seconds_to(target)
            out["rounds_to_target"] = self.rounds_to(target)
        return out


def _test_accuracy(data: Dataset, weights: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    d = len(data.features)
    coef = weights[:d] / std
    return accuracy(data.X_test, data.y_test, coef, float(weights[d] - coef @ mean))


class Lakes:
    """Up to ``n`` in-process lakes, launched once and given each workload's tables.

    They are launched without their auto-approval watcher (the benchmark approves requests
    itself): each watcher lists the lake's requests through PySyft every second, which kept
    about a third of a core busy per lake once a few jobs had run, and ten of them in one
    process would have measured the watchers rather than training.
    """

    def __init__(self, n: int, root: Path) -> None:
        from unittest import mock

        self.root = root
        self.lakes: list[collab.Lake] = []
        with mock.patch.object(collab.Lake, "_watch", lambda self: None):
            for i in range(n):
                lake = collab.Lake.launch(f"lake-{i}", data_dir=root / f"lake-{i}")
                lake.add_scientist(EMAIL, PASSWORD, name="Bench")
                self.lakes.append(lake)

    def add(self, data: Dataset, table: str, with_bounds: bool = True) -> None:
        for lake, path in zip(self.lakes, data.lake_paths, strict=False):
            lake.add_table(table, path, bounds=data.bounds if with_bounds else None)

    def federation(self, k: int) -> collab.Federation:
        return collab.connect(self.lakes[:k], email=EMAIL, password=PASSWORD)

    def close(self) -> None:
        for lake in self.lakes:
            lake.stop()


def plan_for(data: Dataset, table: str, **settings: Any) -> LogisticRegression:
    return LogisticRegression(table=table, features=data.features, label=data.label, **settings)


def run_job(
    label: str,
    lakes: Lakes,
    k: int,
    data: Dataset,
    plan: LogisticRegression,
    probe: Probe,
    *,
    isolate: bool = False,
) -> Run:
    """Submit ``plan`` to the first ``k`` lakes, approve it, train, and time every round.

    With ``isolate``, the lakes' calls run one at a time, so each is timed without the others
    competing for this machine's cores (as if every lake had its own machine).
    """
    import threading

    from collab.scientist._parties import RemoteParty

    fed = lakes.federation(k)
    run = Run(
        label=label,
        lakes=k,
        rounds=plan.rounds,
        secure_aggregation=plan.secure_aggregation,
        dp_epsilon=None if plan.dp is None else float(plan.dp.epsilon),
        transport="pysyft",
    )
    marks: list[tuple[float, int, list[float], list[float], list[float]]] = []
    first_call: list[float] = []
    gate = threading.Lock()
    original = RemoteParty.compute

    def compute(party: Any, message: dict[str, Any]) -> Any:
        if not first_call:
            first_call.append(time.perf_counter())
        if isolate:
            with gate:
                return original(party, message)
        return original(party, message)

    job = fed.submit(plan)
    notify = job._notify

    def on_progress(progress: Any = None) -> None:
        if progress is not None and progress.rounds_done > len(marks):
            marks.append(
                (
                    time.perf_counter(),
                    progress.rounds_done,
                    list(progress.weights),
                    list(progress.mean),
                    list(progress.std),
                )
            )
        notify(progress)

    job._notify = on_progress  # type: ignore[method-assign]
    RemoteParty.compute = compute  # type: ignore[method-assign]
    try:
        for lake in lakes.lakes[:k]:
            for request in lake.requests:
                if request.job_id == job.job_id and request.status == "pending":
                    request.approve()
        job.result(progress=False, timeout=3600)
    finally:
        RemoteParty.compute = original  # type: ignore[method-assign]
    start = first_call[0]
    history = job.history
    for (when, _, weights, mean, std), seconds in zip(marks, history["seconds"], strict=False):
        run.round_end.append(when - start)
        run.round_accuracy.append(
            _test_accuracy(data, np.asarray(weights), np.asarray(mean), np.asarray(std))
        )
        run.round_splits.append(split_round(probe.between(when - seconds, when), float(seconds)))
    run.total_seconds = run.round_end[-1] if run.round_end else 0.0
    run.setup_seconds = run.round_end[0] - float(history["seconds"].iloc[0]) if marks else 0.0
    run.round_split = mean_split(run.round_splits[1:] or run.round_splits)
    run.step_seconds = [s["step"] for s in run.round_splits]
    run.kept_row_bytes = _kept_bytes()
    return run


def _kept_bytes() -> int:
    from collab.engine._step import row_cache

    return int(row_cache().nbytes)


class DirectParty:
    """A lake's engine called directly (no PySyft, no secure aggregation): for sizes where a
    full run would not fit the time budget. The same FedAvg loop and arithmetic."""

    def __init__(self, name: str, source: Path, plan: LogisticRegression) -> None:
        self.name, self.source, self.plan = name, str(source), plan

    def compute(self, message: dict[str, Any]) -> dict[str, Any]:
        import collab.engine as engine
        from collab.plans._steps import Standardizer

        if message["phase"] == "stats":
            return {"vector": engine.compute_stats(self.source, "parquet", self.plan).tolist()}
        std = Standardizer(np.asarray(message["mean"]), np.asarray(message["std"]), 0, 0)
        weights = np.asarray(message["weights"])
        vector = engine.compute_update(self.source, "parquet", self.plan, weights, std)
        return {"vector": vector.tolist()}


def run_direct(label: str, data: Dataset, plan: LogisticRegression, probe: Probe) -> Run:
    """``plan`` (secure aggregation off) trained by collab's FedAvg over the lakes' engines."""
    from collab.scientist._coordinator import FedAvg

    assert not plan.secure_aggregation
    parties = [DirectParty(f"lake-{i}", p, plan) for i, p in enumerate(data.lake_paths)]
    run = Run(label, len(parties), plan.rounds, False, None, "engine-direct")
    marks: list[tuple[float, list[float], list[float], list[float]]] = []

    def on_progress(progress: Any) -> None:
        if progress.rounds_done > len(marks):
            marks.append(
                (
                    time.perf_counter(),
                    list(progress.weights),
                    list(progress.mean),
                    list(progress.std),
                )
            )

    fedavg = FedAvg(plan, parties, on_progress=on_progress)
    start = time.perf_counter()
    fedavg.fit()
    history = fedavg.progress.history
    for (when, weights, mean, std), record in zip(marks, history, strict=False):
        run.round_end.append(when - start)
        run.round_accuracy.append(
            _test_accuracy(data, np.asarray(weights), np.asarray(mean), np.asarray(std))
        )
        steps = [e for e in probe.between(when - record.seconds, when) if e.kind == "step"]
        run.step_seconds.append(float(np.mean([e.seconds for e in steps])) if steps else 0.0)
        run.round_splits.append(
            {
                "round": record.seconds,
                "step": run.step_seconds[-1],
                "aggregation": max(
                    record.seconds - max((e.seconds for e in steps), default=0.0), 0.0
                ),
            }
        )
    run.total_seconds = run.round_end[-1] if run.round_end else 0.0
    run.setup_seconds = run.round_end[0] - history[0].seconds if history else 0.0
    run.round_split = mean_split(run.round_splits[1:] or run.round_splits)
    run.kept_row_bytes = _kept_bytes()
    return run


def temporary_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="collab-bench-"))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started
