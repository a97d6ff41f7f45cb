"""A lake sums its step over its blocks of rows (a partition's rows come in blocks of
``BLOCK_ROWS``) before it suppresses small cells: what it releases must not depend on how
many blocks its rows came in."""

from __future__ import annotations

import numpy as np
import pytest

from collab.plans import CoxPH, GradientBoostedTrees
from collab.plans._survival._curves import SurvivalCounts
from collab.plans._update import Update

MIN_ROWS = 60  # enough that some of these rows' bins are merged


def _rows(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    age = rng.normal(60.0, 8.0, n)
    time = rng.exponential(500.0, n)
    event = (rng.random(n) < 0.6).astype(float)
    return np.column_stack([age, time]), event


def _cox(kind: str) -> tuple[object, dict, np.ndarray, np.ndarray]:
    X, event = _rows()
    plan = CoxPH(table="t", duration="time", event="cens", features=["age"])
    edges = [100.0, 250.0, 400.0, 700.0]
    request = {
        "newton": {"kind": "newton", "edges": edges, "beta": [0.01], "centre": [60.0]},
        "spread": {"kind": "newton", "edges": edges, "beta": [0.01], "centre": [60.0],
                   "shares": [3.0, 5.0, 4.0, 6.0, 2.0, 1.0, 2.0, 2.0, 1.0, 3.0]},
        "concordance": {"kind": "concordance", "edges": edges, "beta": [0.01],
                        "centre": [60.0], "scale": 8.0},
    }[kind]  # fmt: skip
    return plan, request, X, event


def _curves(kind: str) -> tuple[object, dict, np.ndarray, np.ndarray]:
    X, event = _rows()
    plan = SurvivalCounts(table="t", duration="time", event="cens")
    request = {"counts": {"kind": "counts", "edges": [100.0, 400.0]}}
    if kind.startswith("grouped"):  # two groups on one partition of the lake's runs
        plan = SurvivalCounts(table="t", duration="time", event="cens", group="old",
                              groups=(False, True))  # fmt: skip
        shares = np.random.default_rng(4).random(2 * 3 * 2).tolist()
        request = {
            "grouped counts": {"kind": "counts", "edges": [100.0, 400.0]},
            "grouped spread": {"kind": "spread", "edges": [100.0, 400.0], "shares": shares},
        }
        return plan, request[kind], np.column_stack([X[:, 0] > 60, X[:, 1]]), event
    if kind.startswith("fine"):  # on the times asked: fine cells, and their shares
        plan = SurvivalCounts(table="t", duration="time", event="cens", times=(100.0, 400.0))
        n_cells = len(plan.cells()[1])
        shares = np.random.default_rng(4).random(n_cells * 2).tolist()
        request = {
            "fine counts": {"kind": "counts", "edges": [100.0, 400.0]},
            "fine spread": {"kind": "spread", "edges": [100.0, 400.0], "shares": shares},
        }
    return plan, request[kind], X[:, 1:], event


def _trees(kind: str) -> tuple[object, dict, np.ndarray, np.ndarray]:
    X, _ = _rows()
    plan = GradientBoostedTrees(table="t", features=["age", "time"], label="y")
    return plan, {"kind": "start"}, X, (X[:, 0] > 60).astype(float)


@pytest.mark.parametrize(
    ("family", "kind"),
    [
        (_cox, "newton"),
        (_cox, "spread"),
        (_cox, "concordance"),
        (_curves, "grouped counts"),
        (_curves, "grouped spread"),
        (_curves, "counts"),
        (_curves, "fine counts"),
        (_curves, "fine spread"),
        (_trees, "start"),
    ],
)
def test_a_lake_releases_the_same_from_one_block_or_several(family, kind):
    plan, request, X, y = family(kind)
    n_metrics = len(plan.metric_sums)
    whole = plan.local_update(X, y, request)
    one = plan.suppress(whole, MIN_ROWS)
    total = sum(
        plan.local_update(X[part], y[part], request).flat()
        for part in np.array_split(np.arange(len(y)), 3)
    )
    several = plan.suppress(Update.from_flat(total, n_metrics), MIN_ROWS)
    # the rows' cells were suppressed at all (the check below compares released values)
    assert not np.array_equal(one.values, whole.values)
    assert several.rows == one.rows
    np.testing.assert_allclose(several.values[2:], one.values[2:], rtol=1e-9, atol=1e-9)
