"""One-hot categories and transforms in a lake's step against the owner's pre-encoded table."""

from __future__ import annotations

from typing import Any

import collab.probe
from collab.features import Transform

from .. import _collab, _data
from .._context import Context, forget_data, settled

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
            forget_data(data)
            stats, first_pass[name] = statistics()
            standardizers[name] = plan.standardizer_from(collab.probe.stats_update(stats))
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
                    steps[name][kind].append(collab.probe.last_step().seconds)
                    compute[name][kind].append(collab.probe.last_step().compute_seconds)
    for data, _ in tables.values():
        forget_data(data)
    step = {n: {k: settled(v) for k, v in per.items()} for n, per in steps.items()}
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
            n: {k: settled(v) for k, v in per.items()} for n, per in compute.items()
        },
        "step_samples": steps,
        "ratio_step": {k: step["in_lake"][k] / step["pre_encoded"][k] for k in kinds},
        "ratio_first_pass": first_pass["in_lake"] / first_pass["pre_encoded"],
        "ratio_first_round": first_round["in_lake"] / first_round["pre_encoded"],
    }
