"""Server optimisers and step sizes on the demo's skewed split, lakes as arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from collab.plans import LogisticRegression, SoftmaxRegression

from .. import _central, _collab, _data
from .._context import DEMO_PLAN, Context


def server_optimisers(ctx: Context) -> dict[str, Any]:
    """The demo's skewed split (3 hospitals of different sizes and label mixes) trained with
    each server optimiser and step size: test accuracy after every round. The hospitals are
    their phase handlers over arrays in this process (secure aggregation on, no PySyft): the
    arithmetic of a real job, without its transport."""
    s = ctx.suite
    out: dict[str, Any] = {}
    for dataset, family in (("breast_cancer", LogisticRegression), ("wine", SoftmaxRegression)):
        ctx.log(f"server optimisers: {dataset}")
        data = _data.demo(ctx.root, dataset, lakes=3, split="skewed")
        pooled = _central.sklearn(data, family=family.model)
        classes = {"classes": data.classes} if family is SoftmaxRegression else {}
        runs = []
        for optimiser, rate in s.server_optimisers:
            plan = _collab.plan_for(
                data,
                "patients",
                family,
                rounds=s.server_optimiser_rounds,
                server_optimizer=optimiser,
                server_learning_rate=rate,
                **DEMO_PLAN,
                **classes,
            )
            parties = _collab.array_parties(data, plan)
            run = _collab.run_here(
                f"{optimiser}, server rate {rate:g}", data, plan, parties, "arrays", ctx.probe
            )
            runs.append(
                {
                    "server_optimizer": optimiser,
                    "server_learning_rate": rate,
                    **run.to_dict(pooled.value),
                }
            )
        out[dataset] = {
            "dataset": dataset,
            "family": family.model,
            "split": "skewed",
            "lake_rows": data.lake_rows,
            "lake_label_counts": [
                np.bincount(y.astype(int), minlength=len(data.classes)).tolist()
                for _, y in data.lake_arrays()
            ],
            "test_rows": len(data.y_test),
            "sklearn": pooled.to_dict(),
            "runs": runs,
        }
    return out
