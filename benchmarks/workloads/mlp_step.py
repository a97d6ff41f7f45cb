"""A perceptron's local step against one numpy forward and backward pass over the same rows."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from .. import _data
from .._context import Context, forget_data


def _median_seconds(call: Any, repeats: int) -> tuple[float, list[float]]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds)), seconds


def mlp_step(ctx: Context) -> dict[str, Any]:
    """``MLPClassifier``'s local step (one epoch of mini-batch descent, the families
    workload's settings) over ``mlp_step_rows`` standardised rows held in memory, against one
    numpy forward and backward pass over the same rows (the full-batch gradient), both in this
    process on one thread of numpy; medians of ``mlp_step_repeats``."""
    from collab.plans import MLPClassifier

    s = ctx.suite
    rows = s.mlp_step_rows
    ctx.log(f"mlp_step: {rows:,} rows")
    data = _data.synthetic(ctx.root, f"mlp_step_{rows}", rows, lakes=1, signal="xor")
    X, y = data.X, data.y
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    plan = MLPClassifier(
        table="t",
        features=data.features,
        label=data.label,
        classes=data.classes,
        hidden=s.mlp_hidden,
        rounds=1,
        local_epochs=1,
        batch_size=s.mlp_batch_size,
        learning_rate=s.mlp_learning_rate,
    )
    weights = plan.initial_weights(Z.shape[1])
    request = {"weights": weights.tolist()}
    load_start = os.getloadavg()
    step, step_samples = _median_seconds(
        lambda: plan.local_update(Z, y, request), s.mlp_step_repeats
    )
    numpy_pass, pass_samples = _median_seconds(
        lambda: plan.gradient(Z, y, weights), s.mlp_step_repeats
    )
    forget_data(data)
    return {
        "rows": rows,
        "features": Z.shape[1],
        "hidden": list(s.mlp_hidden),
        "batch_size": s.mlp_batch_size,
        "step_seconds": step,
        "step_samples": step_samples,
        "numpy_pass_seconds": numpy_pass,
        "numpy_pass_samples": pass_samples,
        "ratio_step_to_numpy_pass": step / numpy_pass,
        "batches": -(-rows // s.mlp_batch_size),
        "load_average": {"start": load_start, "end": os.getloadavg()},
    }
