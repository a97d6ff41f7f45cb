"""Least squares, softmax regression and a perceptron against their centralised counterparts."""

from __future__ import annotations

from typing import Any

from collab.plans import LinearRegression, MLPClassifier, Plan, SoftmaxRegression

from .. import _data
from .._context import Context, central_pair, collab_runs, forget_data
from .._suite import Suite


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
    lakes (secure aggregation, rounds over the round channel), against MLlib's and
    scikit-learn's counterparts on the pooled rows (the same rows, this process)."""
    s = ctx.suite
    out: dict[str, Any] = {}
    for rows in s.family_sizes:
        for family, signal, settings in _family_cases(s):
            ctx.log(f"families: {family.model}, {rows:,} rows")
            table = f"{signal}_{rows}"
            data = _data.synthetic(ctx.root, table, rows, lakes=3, signal=signal)
            ctx.lakes(3).add(data, table)
            central = central_pair(ctx, data, family=family.model)
            metric = _data.METRICS[data.task]
            target = central["mllib"][metric]
            if data.task == "classification":
                settings = {**settings, "classes": data.classes}
            runs = collab_runs(
                ctx, data, table, 3, target, settings, None, warm=s.warm_runs, family=family
            )
            forget_data(data)
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
