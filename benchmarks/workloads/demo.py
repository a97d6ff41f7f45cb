"""The hospitals demo: collab against MLlib and scikit-learn on the same rows."""

from __future__ import annotations

from typing import Any

from .. import _data
from .._context import DEMO_PLAN, Context, central_pair, collab_runs


def demo(ctx: Context) -> dict[str, Any]:
    """The hospitals demo: breast-cancer data, 3 lakes, the demo's plan."""
    data = _data.demo(ctx.root, "breast_cancer", lakes=3)
    ctx.lakes(3).add(data, "bc")
    central = central_pair(ctx, data)
    target = central["mllib"]["accuracy"]
    plan = {"rounds": ctx.suite.demo_rounds, **DEMO_PLAN}
    dp = {
        "rounds": ctx.suite.demo_rounds,
        "local_epochs": 1,
        "learning_rate": ctx.suite.demo_dp_learning_rate,
    }
    runs = collab_runs(ctx, data, "bc", 3, target, plan, dp, warm=False)
    return {"rows": data.rows, "lakes": 3, "test_rows": len(data.y_test), **central, "collab": runs}
