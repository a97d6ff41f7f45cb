"""collab's side of a workload: in-process lakes and jobs submitted through PySyft, and the
same coordinator driving lakes' phase handlers in this process (over their Spark engines for
the largest size, or over arrays)."""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import collab
import collab.probe
from collab.plans import LogisticRegression, Plan, Standardizer

from ._data import METRICS, Dataset, reaches, score
from ._probe import Probe, mean_split, split_round

EMAIL, PASSWORD = "bench@uni.edu", "benchmark-scientist-1"


@dataclass
class Run:
    """One training run of collab: the test metric after every round, and timings.

    ``metric`` is ``accuracy`` or ``rmse``; :meth:`to_dict` names the values after it
    (``round_accuracy`` and ``accuracy``, or ``round_rmse`` and ``rmse``).
    """

    label: str
    lakes: int
    rounds: int
    secure_aggregation: bool
    dp_epsilon: float | None
    transport: str  # "pysyft", "engine-direct" or "arrays"
    metric: str = "accuracy"
    total_seconds: float = 0.0
    setup_seconds: float = 0.0  # job start until the first round starts (keys, statistics)
    round_end: list[float] = field(default_factory=list)  # seconds since job start
    round_metric: list[float] = field(default_factory=list)
    round_split: dict[str, float] = field(default_factory=dict)  # means over rounds
    round_splits: list[dict[str, float]] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    kept_row_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def final(self) -> float:
        """The test metric after the last round."""
        return self.round_metric[-1] if self.round_metric else float("nan")

    def seconds_to(self, target: float) -> float | None:
        """Seconds from the job's start until its model reaches ``target`` (within 0.5 points
        of an accuracy, 0.5% of an RMSE)."""
        for seconds, value in zip(self.round_end, self.round_metric, strict=True):
            if reaches(self.metric, value, target):
                return seconds
        return None

    def rounds_to(self, target: float) -> int | None:
        for r, value in enumerate(self.round_metric, start=1):
            if reaches(self.metric, value, target):
                return r
        return None

    def to_dict(self, target: float | None = None) -> dict[str, Any]:
        skip = ("round_splits", "round_metric")
        out = {k: v for k, v in vars(self).items() if k not in skip}
        out[f"round_{self.metric}"] = self.round_metric
        out[self.metric] = self.final
        if target is not None:
            out["seconds_to_target"] = self.seconds_to(target)
            out["rounds_to_target"] = self.rounds_to(target)
        return out


def test_score(
    plan: Plan, state: Mapping[str, Any], standardizer: Mapping[str, Any], data: Dataset
) -> float:
    """The test metric of the model ``plan`` builds from a round's public ``state``."""
    model = plan.build_model(state, Standardizer.from_dict(dict(standardizer)))
    return score(METRICS[data.task], model.predict(data.X_test), data.y_test)


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


def plan_for(
    data: Dataset, table: str, family: type[Plan] = LogisticRegression, **settings: Any
) -> Plan:
    """A plan over every feature. It holds out no rows (``validation=0``) unless given, so
    that it trains on the rows MLlib and scikit-learn are fitted on."""
    settings = {"validation": 0.0, **settings}
    return family(table=table, features=data.features, label=data.label, **settings)


def approve_job(lakes: Sequence[collab.Lake], job: collab.Job) -> None:
    """Each of ``lakes`` approves its pending request of ``job`` (as its owner would)."""
    for lake in lakes:
        for request in lake.requests:
            if request.job_id == job.job_id and request.status == "pending":
                request.approve()


# A round's public state as the coordinator reports it: when, rounds done, state, scaling.
Mark = tuple[float, int, dict[str, Any], dict[str, Any]]


def _mark(marks: list[Mark], progress: Any) -> None:
    """Record ``progress`` once per completed round."""
    if progress is not None and progress.rounds_done > len(marks):
        marks.append(
            (
                time.perf_counter(),
                progress.rounds_done,
                dict(progress.state),
                dict(progress.standardizer),
            )
        )


def run_job(
    label: str,
    lakes: Lakes,
    k: int,
    data: Dataset,
    plan: Plan,
    probe: Probe,
    *,
    isolate: bool = False,
) -> Run:
    """Submit ``plan`` to the first ``k`` lakes, approve it, train, and time every round
    (``probe`` active: a round's time counts from the job's first call to a lake).

    With ``isolate``, the lakes' calls run one at a time, so each is timed without the others
    competing for this machine's cores (as if every lake had its own machine).
    """
    fed = lakes.federation(k)
    run = Run(
        label=label,
        lakes=k,
        rounds=plan.total_rounds,
        secure_aggregation=plan.secure_aggregation,
        dp_epsilon=None if plan.dp is None else float(plan.dp.epsilon),
        transport="pysyft",
        metric=METRICS[data.task],
    )
    marks: list[Mark] = []
    submitted = time.perf_counter()
    job = fed.submit(plan)
    collab.probe.follow(job, lambda progress: _mark(marks, progress))
    with collab.probe.one_call_at_a_time() if isolate else contextlib.nullcontext():
        approve_job(lakes.lakes[:k], job)
        job.result(progress=False, timeout=3600)
    start = probe.first_call(submitted)
    assert start is not None, "run_job times a job inside probe.active()"
    history = job.history
    for (when, _, state, standardizer), seconds in zip(marks, history["seconds"], strict=False):
        run.round_end.append(when - start)
        run.round_metric.append(test_score(job.plan, state, standardizer, data))
        run.round_splits.append(split_round(probe.between(when - seconds, when), float(seconds)))
    run.total_seconds = run.round_end[-1] if run.round_end else 0.0
    run.setup_seconds = run.round_end[0] - float(history["seconds"].iloc[0]) if marks else 0.0
    run.round_split = mean_split(run.round_splits[1:] or run.round_splits)
    run.step_seconds = [s["step"] for s in run.round_splits]
    run.kept_row_bytes = collab.probe.kept_rows().nbytes
    return run


def engine_parties(data: Dataset, plan: Plan) -> list[Any]:
    """Each lake's phase handler over its Parquet file and this process's Spark engine, as a
    party (no PySyft, and no runner: no approvals or records). Categorical features are read
    as a lake reads them: Spark codes each to the index of its published category."""
    from collab.engine import table_rows

    job_id = uuid.uuid4().hex
    return [
        collab.probe.local_lake(
            f"lake-{i}",
            plan,
            table_rows(str(path), "parquet", plan.columns, plan.encodings),
            job_id=job_id,
        )
        for i, path in enumerate(data.lake_paths)
    ]


def array_parties(data: Dataset, plan: Plan) -> list[Any]:
    """Each lake's phase handler over its rows held as arrays in this process."""
    from collab.protocol import ArrayRows

    job_id = uuid.uuid4().hex
    return [
        collab.probe.local_lake(f"lake-{i}", plan, ArrayRows(X, y), job_id=job_id)
        for i, (X, y) in enumerate(data.lake_arrays())
    ]


def run_here(
    label: str, data: Dataset, plan: Plan, parties: Sequence[Any], transport: str, probe: Probe
) -> Run:
    """``plan`` trained by collab's coordinator over ``parties`` in this process."""
    run = Run(
        label,
        len(parties),
        plan.total_rounds,
        plan.secure_aggregation,
        None if plan.dp is None else float(plan.dp.epsilon),
        transport,
        metric=METRICS[data.task],
    )
    marks: list[Mark] = []
    start = time.perf_counter()
    _, history = collab.probe.train_here(plan, parties, on_progress=lambda p: _mark(marks, p))
    for (when, _, state, standardizer), record in zip(marks, history, strict=False):
        run.round_end.append(when - start)
        run.round_metric.append(test_score(plan, state, standardizer, data))
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
    run.kept_row_bytes = collab.probe.kept_rows().nbytes
    return run


def temporary_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="collab-bench-"))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started
