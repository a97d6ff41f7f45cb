"""A round's fixed cost, before and after the round channel.

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
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._collab import approve_job
from .._context import DEMO_PLAN, Context, free_ports

# Flower 1.42 measured on this machine in its own virtual environment (FACTS.md, "the wider
# field"): 3 parties, the demo's 455 rows, FedAvg, no secure aggregation; flwr cannot be
# installed beside syft 0.9.5, so these are carried reference figures, not re-measured here.
FLOWER_SIMULATION_ROUND = 0.105
FLOWER_DEPLOYMENT_ROUND = (6.2, 9.3)
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
    approve_job(lakes, job)
    model = job.result(progress=False, timeout=3600)
    return job, model


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
    ctx: Context, served: bool, lr_rounds: int, trees: tuple[int, int]
) -> dict[str, Any]:
    """Three hospital lakes (in this process, or each served over HTTP on loopback): each plan
    before and after the round channel, after one untimed warm-up job (Spark's start)."""
    from collab.demo import hospitals

    ports = free_ports(3) if served else None
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


def round_cost(ctx: Context) -> dict[str, Any]:
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
