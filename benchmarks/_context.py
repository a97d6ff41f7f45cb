"""What the workloads share: the run's context (Spark, lakes, the probe, results) and the
steps several workloads take alike."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

import collab.probe
from collab.plans import LogisticRegression, Plan

from . import _central, _collab, _data
from ._probe import Probe
from ._suite import Suite

DEMO_PLAN = {"local_epochs": 5, "learning_rate": 0.5}  # the hospitals demo's plan


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


def central_pair(
    ctx: Context, data: _data.Dataset, reg: float = 0.0, family: str = "logistic_regression"
) -> dict[str, Any]:
    """MLlib's and scikit-learn's ``family`` fitted on ``data``'s pooled rows: the yardsticks."""
    s = ctx.suite
    mllib, df = _central.mllib(ctx.spark, data, reg, family, s.mlp_hidden)
    df.unpersist()
    sk = _central.sklearn(data, reg, family, s.mlp_hidden, s.sklearn_mlp_epochs)
    return {"mllib": mllib.to_dict(), "sklearn": sk.to_dict()}


def forget_data(data: _data.Dataset) -> None:
    """Drop what this process's engine keeps of ``data``'s tables, so the next workload's
    first pass reads its own rows as a first pass."""
    for path in data.lake_paths:
        collab.probe.forget(str(path))


def collab_runs(
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
    """``family`` trained by collab over ``k`` lakes through PySyft with secure aggregation
    (again once the rows are kept, with ``warm``), and with DP when ``dp_settings`` are given."""
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


def settled(samples: list[float]) -> float:
    """The median of a plan's steps once its rows are kept and prepared (the first steps
    prepare them)."""
    skip = min(2, len(samples) - 1)
    return float(np.median(samples[skip:]))


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
