"""Synthetic tables of growing size over 3 lakes, rounds over the round channel."""

from __future__ import annotations

from typing import Any

from .. import _data
from .._context import Context, central_pair, collab_runs, forget_data


def sizes(ctx: Context) -> dict[str, Any]:
    """Synthetic 20-feature data over 3 lakes; rounds over the round channel."""
    out = {}
    s = ctx.suite
    for rows in s.sizes:
        ctx.log(f"sizes: {rows:,} rows")
        data = _data.synthetic(ctx.root, f"syn_{rows}", rows, lakes=3)
        table = f"syn_{rows}"
        ctx.lakes(3).add(data, table)
        central = central_pair(ctx, data)
        target = central["mllib"]["accuracy"]
        plan = {
            "rounds": s.rounds,
            "local_epochs": 1,
            "batch_size": s.batch_size,
            "learning_rate": s.learning_rate,
        }
        dp = {"rounds": s.dp_rounds, "local_epochs": 1, "learning_rate": s.dp_learning_rate}
        runs = collab_runs(ctx, data, table, 3, target, plan, dp, warm=s.warm_runs)
        forget_data(data)
        out[str(rows)] = {
            "rows": rows,
            "lakes": 3,
            "test_rows": len(data.y_test),
            **central,
            "collab": runs,
        }
    return out
