"""A round's fixed cost, before and after the round channel, and trees against MLlib and
scikit-learn.

A round's **fixed cost** is what it costs beyond the lakes' own work: the coordinator's wall
time of the round (``job.history``'s ``seconds``, which includes the round's unmask exchange)
minus the slowest lake's step in that round. A lake's step is the ``seconds`` its audit log
records for the job's ``round`` release of that round: the lake's handler time for the message
(its Spark pass over its rows and the masking of its own sums). The unmask exchange's lake
time is not counted as step: it is secure aggregation's crypto, paid whatever the rows, so it
is fixed cost. The benchmark reads the audit as the lakes' owner may.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import _central, _collab, _data

# Flower 1.42 measured on this machine in its own virtual environment (FACTS.md, "the wider
# field"): 3 parties, the demo's 455 rows, FedAvg, no secure aggregation; flwr cannot be
# installed beside syft 0.9.5, so these are carried reference figures, not re-measured here.
FLOWER_SIMULATION_ROUND = 0.105
FLOWER_DEPLOYMENT_ROUND = (6.2, 9.3)
DEMO_PLAN = {"local_epochs": 5, "learning_rate": 0.5}  # the hospitals demo's plan
CHANNELS = (("before", False), ("after", True))  # round_channel off (every round over PySyft)


def releases(lakes: Sequence[Any], job_id: str) -> Iterator[dict[str, Any]]:
    """The details of every lake's audited releases for ``job_id``."""
    for lake in lakes:
        audit = lake.audit
        for detail in audit.loc[audit["action"] == "release", "detail"]:
            entry = json.loads(detail)
            if entry.get("job") == job_id:
                yield entry


def lake_steps(lakes: Sequence[Any], job_id: str) -> dict[int, float]:
    """Per round of ``job_id``, the slowest lake's step: the largest audited ``seconds`` of
    the round's ``round`` releases."""
    steps: dict[int, float] = {}
    for entry in releases(lakes, job_id):
        if entry.get("phase") == "round":
            r = int(entry["round"])
            steps[r] = max(steps.get(r, 0.0), float(entry["seconds"]))
    return steps


def lake_routes(lakes: Sequence[Any], job_id: str) -> dict[str, int]:
    """How many of the job's releases travelled each route (``pysyft`` or ``channel``)."""
    routes: dict[str, int] = {}
    for entry in releases(lakes, job_id):
        via = str(entry.get("via", "?"))
        routes[via] = routes.get(via, 0) + 1
    return routes


def fixed_costs(job: Any, lakes: Sequence[Any]) -> dict[str, Any]:
    """The job's rounds: wall time, slowest lake step and fixed cost (their difference)."""
    steps = lake_steps(lakes, job.job_id)
    history = job.history
    rounds = [int(r) for r in history["round"]]
    wall = [float(s) for s in history["seconds"]]
    step = [steps.get(r, 0.0) for r in rounds]
    fixed = [max(w - s, 0.0) for w, s in zip(wall, step, strict=True)]
    return {
        "rounds": len(rounds),
        "round_seconds": wall,
        "step_seconds": step,
        "fixed_seconds": fixed,
        "fixed_median": float(np.median(fixed)),
        "fixed_p90": float(np.percentile(fixed, 90)),
        "round_median": float(np.median(wall)),
        "step_median": float(np.median(step)),
        "routes": lake_routes(lakes, job.job_id),
    }


def run_approved(fed: Any, lakes: Sequence[Any], plan: Any, channel: bool) -> tuple[Any, Any]:
    """Submit ``plan`` with the round channel on or off, approve it on every lake, train; the
    job and its model."""
    fed.round_channel = channel
    job = fed.submit(plan)
    for lake in lakes:
        for request in lake.requests:
            if request.job_id == job.job_id and request.status == "pending":
                request.approve()
    model = job.result(progress=False, timeout=3600)
    return job, model


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def round_cost_plans(demo: Any, lr_rounds: int, trees: tuple[int, int]) -> dict[str, Any]:
    """The two plans timed: the demo's logistic regression and trees, secure aggregation on."""
    from collab.plans import GradientBoostedTrees, LogisticRegression

    common = {"table": demo.table, "features": demo.features, "label": demo.label}
    n_trees, depth = trees
    return {
        "logistic_regression": LogisticRegression(**common, rounds=lr_rounds, **DEMO_PLAN),
        "trees": GradientBoostedTrees(**common, n_trees=n_trees, max_depth=depth),
    }


def round_cost_setting(
    ctx: Any, served: bool, lr_rounds: int, trees: tuple[int, int]
) -> dict[str, Any]:
    """Three hospital lakes (in this process, or each served over HTTP on loopback): each plan
    before and after the round channel, after one untimed warm-up job (Spark's start)."""
    from collab.demo import hospitals

    ports = _free_ports(3) if served else None
    demo = hospitals(3, ports=ports, data_dir=ctx.root / ("served" if served else "in_process"))
    out: dict[str, Any] = {"lakes": 3, "served": served, "rows": int(sum(map(len, demo.parts)))}
    try:
        plans = round_cost_plans(demo, lr_rounds, trees)
        run_approved(demo.federation, demo.lakes, plans["logistic_regression"], True)  # warm-up
        for family, plan in plans.items():
            for when, channel in CHANNELS:
                ctx.log(f"round_cost: {'served' if served else 'in-process'} {family} {when}")
                job, model = run_approved(demo.federation, demo.lakes, plan, channel)
                costs = fixed_costs(job, demo.lakes)
                test = demo.test_set()
                costs["accuracy"] = float(
                    np.mean(model.predict(test[demo.features]) == test[demo.label])
                )
                if family == "trees":
                    # the first round (labels and sketch) and the last (final metrics) grow none
                    costs["rounds_per_tree"] = (costs["rounds"] - 2) / plan.n_trees
                out[f"{family}/{when}"] = costs
    finally:
        demo.close()
    return out


def round_cost(ctx: Any) -> dict[str, Any]:
    """A round's fixed cost for logistic regression and trees on the demo data, three lakes in
    this process and three served on loopback, before and after the round channel."""
    s = ctx.suite
    out: dict[str, Any] = {
        "trees": {"n_trees": s.round_cost_trees[0], "max_depth": s.round_cost_trees[1]},
        "lr_rounds": s.round_cost_lr_rounds,
        "flower_simulation_round": FLOWER_SIMULATION_ROUND,
        "flower_deployment_round": list(FLOWER_DEPLOYMENT_ROUND),
    }
    for served in (False, True)[: 2 if s.round_cost_served else 1]:
        name = "served" if served else "in_process"
        out[name] = round_cost_setting(ctx, served, s.round_cost_lr_rounds, s.round_cost_trees)
    return out


# --- trees against MLlib and scikit-learn -------------------------------------------------------


def tree_settings(n_trees: int, max_depth: int) -> dict[str, Any]:
    """The settings all three libraries get (collab's defaults for the rest)."""
    return {
        "n_trees": n_trees,
        "max_depth": max_depth,
        "learning_rate": 0.1,
        "max_bins": 32,
        "l2": 1.0,
    }


def tree_yardsticks(ctx: Any, data: _data.Dataset, settings: dict[str, Any]) -> dict[str, Any]:
    """MLlib's and scikit-learn's boosted trees on the pooled rows, with ``settings``."""
    args = (settings["n_trees"], settings["max_depth"], settings["learning_rate"])
    mllib = _central.mllib_gbt(ctx.spark, data, *args, settings["max_bins"])
    sk = _central.sklearn_hgb(data, *args, settings["max_bins"], settings["l2"])
    return {"mllib": mllib.to_dict(), "sklearn": sk.to_dict()}


def tree_case(
    ctx: Any, data: _data.Dataset, table: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """Trees trained across 3 lakes (in this process, secure aggregation on) against the two
    yardsticks on the same rows: accuracy, gaps in points, time to MLlib's accuracy."""
    from collab.plans import GradientBoostedTrees

    # no published bounds: bin edges come from the lakes' federated quantile sketch, as both
    # yardsticks bin by quantiles
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
    }


def trees(ctx: Any) -> dict[str, Any]:
    """Boosted trees on the demo data (3 lakes as the hospitals demo deals them) and on a
    synthetic non-linear signal split unevenly over 3 lakes."""
    from ._suite import _forget

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
        _forget(data)
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
        _forget(data)
    return out
