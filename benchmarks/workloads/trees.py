"""Boosted trees against MLlib's and scikit-learn's, on the demo data and on synthetic
non-linear signals split unevenly over 3 lakes."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from .. import _central, _collab, _data
from .._context import Context, forget_data


def tree_settings(n_trees: int, max_depth: int) -> dict[str, Any]:
    """The settings all three libraries get (collab's defaults for the rest)."""
    return {
        "n_trees": n_trees,
        "max_depth": max_depth,
        "learning_rate": 0.1,
        "max_bins": 32,
        "l2": 1.0,
    }


def tree_yardsticks(ctx: Context, data: _data.Dataset, settings: dict[str, Any]) -> dict[str, Any]:
    """MLlib's and scikit-learn's boosted trees on the pooled rows, with ``settings``."""
    args = (settings["n_trees"], settings["max_depth"], settings["learning_rate"])
    mllib = _central.mllib_gbt(ctx.spark, data, *args, settings["max_bins"])
    sk = _central.sklearn_hgb(data, *args, settings["max_bins"], settings["l2"])
    return {"mllib": mllib.to_dict(), "sklearn": sk.to_dict()}


def numpy_histogram_pass(data: _data.Dataset, max_depth: int, max_bins: int) -> dict[str, Any]:
    """One numpy histogram pass over the same rows, all in memory: each row's bin codes kept
    (``uint8``), one ``bincount`` of gradient, hessian and count per node x input x bin over
    every row and input, rows spread over the deepest level's open nodes (the yardstick a
    level round is measured against). Median of 3 passes."""
    X = np.concatenate([X for X, _ in data.lake_arrays()])
    n, d = X.shape
    rng = np.random.default_rng(0)
    codes = np.empty((n, d), dtype=np.uint8)
    for j in range(d):
        edges = np.unique(np.nanquantile(X[:, j], np.linspace(0, 1, max_bins + 1)[1:-1]))
        codes[:, j] = np.searchsorted(edges, X[:, j])
    del X
    nodes, slots = 2 ** (max_depth - 1), max_bins + 1
    node = rng.integers(0, nodes, n)
    g, h = rng.standard_normal(n), rng.random(n)
    size = nodes * d * slots
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        cell = ((node[:, None] * d + np.arange(d)[None, :]) * slots + codes).ravel()
        out = np.empty((size, 3))
        out[:, 0] = np.bincount(cell, weights=np.repeat(g, d), minlength=size)
        out[:, 1] = np.bincount(cell, weights=np.repeat(h, d), minlength=size)
        out[:, 2] = np.bincount(cell, minlength=size)
        seconds.append(time.perf_counter() - started)
        del cell, out
    return {"rows": n, "inputs": d, "nodes": nodes, "seconds": float(np.median(seconds))}


def tree_case(
    ctx: Context, data: _data.Dataset, table: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """Trees trained across 3 lakes (in this process, secure aggregation on) against the two
    yardsticks on the same rows: accuracy, gaps in points, time to MLlib's accuracy."""
    from collab.plans import GradientBoostedTrees

    # no published bounds: bin edges come from the lakes' federated quantile sketch, as both
    # yardsticks bin by quantiles
    load_start = os.getloadavg()
    ctx.lakes(3).add(data, table, with_bounds=False)
    central = tree_yardsticks(ctx, data, settings)
    metric = _data.METRICS[data.task]
    target = central["mllib"][metric]
    objective = "squared_error" if data.task == "regression" else "binary"
    # no validation share (the family holds none out): every row trains, as the yardsticks'
    plan = GradientBoostedTrees(
        table=table, features=data.features, label=data.label, objective=objective, **settings
    )
    with ctx.probe.active():
        run = _collab.run_job(
            "collab trees, secure aggregation", ctx.lakes(3), 3, data, plan, ctx.probe
        )
    result = run.to_dict(target)
    seconds = [split["round"] for split in run.round_splits]
    levels = seconds[1:-1]  # the start round (labels, sketch) and the final one are not levels
    numpy_pass = numpy_histogram_pass(data, settings["max_depth"], settings["max_bins"])
    mllib_read_fit = central["mllib"]["load_seconds"] + central["mllib"]["fit_seconds"]
    to_target = result["seconds_to_target"]
    if metric == "accuracy":
        gaps = {
            f"points_vs_{name}": 100 * (result["accuracy"] - central[name]["accuracy"])
            for name in ("mllib", "sklearn")
        }
    else:
        gaps = {f"rmse_ratio_vs_{name}": result["rmse"] / central[name]["rmse"] for name in central}
    return {
        "rows": data.rows,
        "lake_rows": data.lake_rows,
        "features": len(data.features),
        "test_rows": len(data.y_test),
        "metric": metric,
        "settings": settings,
        **central,
        "collab": result,
        **gaps,
        "time_to_mllib_ratio": (
            None if to_target is None else to_target / central["mllib"]["fit_seconds"]
        ),
        "rounds_per_tree": (run.rounds - 2) / settings["n_trees"],
        "round_seconds_median": float(np.median(seconds)) if seconds else None,
        # the whole job (its first call to its model) against MLlib reading and fitting the
        # pooled rows, in the same run
        "job_seconds": result["total_seconds"],
        "mllib_read_fit_seconds": mllib_read_fit,
        "job_to_mllib_read_fit_ratio": result["total_seconds"] / mllib_read_fit,
        "level_round_seconds_median": float(np.median(levels)) if levels else None,
        "numpy_histogram_pass": numpy_pass,
        "level_round_to_numpy_pass_ratio": (
            float(np.median(levels)) / numpy_pass["seconds"] if levels else None
        ),
        "load_average": {"start": load_start, "end": os.getloadavg()},
    }


def trees(ctx: Context) -> dict[str, Any]:
    """Boosted trees on the demo data (3 lakes as the hospitals demo deals them) and on a
    synthetic non-linear signal split unevenly over 3 lakes."""
    s = ctx.suite
    out: dict[str, Any] = {}
    ctx.log("trees: demo")
    demo = _data.demo(ctx.root, "breast_cancer", lakes=3)
    out["demo"] = tree_case(ctx, demo, "trees_demo", tree_settings(s.trees_demo_trees, 4))
    for rows in s.trees_rows:
        ctx.log(f"trees: {rows:,} rows")
        table = f"trees_{rows}"
        data = _data.synthetic(
            ctx.root,
            table,
            rows,
            lakes=3,
            signal="thresholds",
            shares=s.trees_shares,
            test_rows=s.trees_test_rows,
        )
        out[str(rows)] = tree_case(
            ctx, data, table, tree_settings(s.trees_large_trees, s.trees_depth)
        )
        forget_data(data)
    for rows in s.trees_regression_rows:
        ctx.log(f"trees: regression, {rows:,} rows")
        table = f"trees_regression_{rows}"
        data = _data.synthetic(
            ctx.root,
            table,
            rows,
            lakes=3,
            signal="steps",
            shares=s.trees_shares,
            test_rows=s.trees_test_rows,
        )
        out[f"regression_{rows}"] = tree_case(
            ctx, data, table, tree_settings(s.trees_large_trees, s.trees_depth)
        )
        forget_data(data)
    return out
