"""Wider tables: the privacy layer's share of a round as parameters grow."""

from __future__ import annotations

from typing import Any

from .. import _collab, _data
from .._context import Context, central_pair, collab_runs, forget_data


def features(ctx: Context) -> dict[str, Any]:
    """20, 1,000 and 10,000 features over 3 lakes (L2-regularised: wide tables have more
    features than rows); the privacy layer's share of a round as parameters grow."""
    s = ctx.suite
    out = {}
    for d in s.feature_counts:
        ctx.log(f"features: {d:,}")
        test_rows = int(min(20_000, max(1_000, 20_000_000 // d)))
        data = _data.synthetic(
            ctx.root, f"wide_{d}", s.feature_rows, lakes=3, n_features=d, test_rows=test_rows
        )
        table = f"wide_{d}"
        (_, add_seconds) = _collab.timed(lambda: ctx.lakes(3).add(data, table))  # noqa: B023
        central = central_pair(ctx, data, reg=s.feature_l2)
        target = central["mllib"]["accuracy"]
        plan = {
            "rounds": s.feature_rounds,
            "local_epochs": 1,
            "batch_size": 128,
            "learning_rate": s.learning_rate,
            "l2": s.feature_l2,
        }
        runs = collab_runs(ctx, data, table, 3, target, plan, None, warm=False)
        split = runs[0]["round_split"]
        privacy = split["crypto_lake"] + split["crypto_coordinator"]
        forget_data(data)
        out[str(d)] = {
            "features": d,
            "parameters": d + 1,
            "rows": s.feature_rows,
            "add_table_seconds_3_lakes": add_seconds,
            **central,
            "collab": runs,
            "privacy_share_of_round": privacy / split["round"],
            "unmask_round_trip_share": split["slowest_unmask_call"] / split["round"],
        }
    return out
