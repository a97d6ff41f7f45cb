"""A lake's local step against one MLlib iteration and one numpy pass."""

from __future__ import annotations

from typing import Any

import collab.probe

from .. import _central, _collab, _data
from .._context import Context, forget_data, settled


def yardsticks(ctx: Context) -> dict[str, Any]:
    """A lake's local step per round against one MLlib iteration and one numpy pass, all over
    the same 1M x 20 rows (one table, cached). The lake is its phase handler over this
    process's Spark engine, sent the statistics message once and then one round after another,
    each from the same model (a lake answers a round once: the same round again is a replay
    of its stored answer, not a step)."""
    from collab.plans import Standardizer
    from collab.protocol import Round, Stats

    rows = ctx.suite.yardstick_rows
    data = _data.synthetic(ctx.root, "yardsticks", rows, lakes=1)
    repeats = ctx.suite.step_repeats
    full_batch = _collab.plan_for(
        data, "t", rounds=repeats, local_epochs=1, secure_aggregation=False
    )
    mini_batch = _collab.plan_for(
        data,
        "t",
        rounds=repeats,
        local_epochs=1,
        batch_size=ctx.suite.batch_size,
        secure_aggregation=False,
    )
    with ctx.probe.active():
        (lake,) = _collab.engine_parties(data, full_batch)
        stats, first_pass = _collab.timed(
            lambda: lake.compute(Stats(full_batch.hash, 1, [lake.name]).to_dict())
        )
        std = Standardizer.from_stats(collab.probe.stats_update(stats))
        steps: dict[str, list[float]] = {"full_batch": [], "mini_batch": []}
        compute: dict[str, list[float]] = {"full_batch": [], "mini_batch": []}
        for name, plan in (("full_batch", full_batch), ("mini_batch", mini_batch)):
            (lake,) = _collab.engine_parties(data, plan)
            request = plan.round_request(plan.start(std), 1)
            for round_ in range(1, repeats + 1):
                lake.compute(
                    Round(plan.hash, round_, [lake.name], request, std.to_dict()).to_dict()
                )
                steps[name].append(collab.probe.last_step().seconds)
                compute[name].append(collab.probe.last_step().compute_seconds)
    mllib, df = _central.mllib(ctx.spark, data)
    per_iteration = _central.mllib_seconds_per_iteration(df, *ctx.suite.mllib_iterations)
    df.unpersist()
    numpy_pass = _central.numpy_pass_seconds(data)
    forget_data(data)
    step = {k: settled(v) for k, v in steps.items()}
    return {
        "rows": rows,
        "features": len(data.features),
        "first_pass_seconds": first_pass,
        "step_seconds": step,
        "step_compute_seconds": {k: settled(v) for k, v in compute.items()},
        "step_samples": steps,
        "mllib": mllib.to_dict(),
        "mllib_iteration": per_iteration,
        "numpy_pass_seconds": numpy_pass,
        "ratio_step_to_mllib_iteration": None
        if per_iteration["marginal_seconds"] is None
        else step["full_batch"] / per_iteration["marginal_seconds"],
        "ratio_step_to_mllib_iteration_average": step["full_batch"]
        / per_iteration["average_seconds"],
        "ratio_step_to_numpy_pass": step["full_batch"] / numpy_pass,
        "ratio_mini_batch_step_to_numpy_pass": step["mini_batch"] / numpy_pass,
    }
