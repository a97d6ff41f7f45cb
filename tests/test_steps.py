"""The local-step arithmetic: missing values, standardisation, and FedAvg's sums."""

from __future__ import annotations

import numpy as np

from collab.plans import LogisticRegression, Standardizer
from collab.plans._stats import table_stats
from collab.protocol import ArrayRows
from collab.scientist._coordinator import Coordinator
from collab.scientist._parties import LocalParty


def party(name, X, y, plan):
    """A lake's handler over arrays, run here."""
    return LocalParty(name, plan, ArrayRows(X, y), job_id="0" * 32)


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + [0.0, 10.0, -1.0]
    y = (X @ [1.0, 0.3, -4.0] + rng.normal(size=n) > 3.0).astype(float)
    return X, y


def test_rows_without_label_are_dropped_and_missing_features_count_as_the_mean():
    X = np.array([[1.0, 2.0], [np.nan, 4.0], [3.0, np.nan], [5.0, 6.0]])
    y = np.array([1.0, 0.0, np.nan, 1.0])
    stats = table_stats(X, y)
    assert stats.rows == 3 and stats.metrics[0] == 2  # row 3 has no label
    std = Standardizer.from_stats(stats)
    np.testing.assert_allclose(std.mean, [3.0, 4.0])  # means over present values only
    Z = std.transform(X[:2])
    assert Z[1, 0] == 0.0  # the missing value sits at the mean


def test_one_lake_full_batch_fedavg_is_centralised_gradient_descent():
    X, y = data()
    plan = LogisticRegression(
        table="t",
        features=["a", "b", "c"],
        label="y",
        rounds=5,
        learning_rate=0.5,
        secure_aggregation=False,
        validation=0,  # every row trains, as in the steps written out below
    )
    model = Coordinator(plan, [party("a", X, y, plan)]).fit()
    # the same 5 steps written out by hand
    mean, sd = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / sd
    w = np.zeros(4)
    for _ in range(5):
        p = 1 / (1 + np.exp(-(Z @ w[:3] + w[3])))
        w[:3] -= 0.5 * Z.T @ (p - y) / len(y)
        w[3] -= 0.5 * (p - y).mean()
    np.testing.assert_allclose(model.coef_, w[:3] / sd, rtol=1e-10)
    np.testing.assert_allclose(model.intercept_, w[3] - np.sum(w[:3] / sd * mean), rtol=1e-10)


def test_splitting_rows_over_lakes_gives_the_same_full_batch_model():
    X, y = data()
    plan = LogisticRegression(
        table="t",
        features=["a", "b", "c"],
        label="y",
        rounds=8,
        secure_aggregation=False,
        validation=0,  # a lake's held-out rows depend on its rows: none, to compare splits
    )
    one = Coordinator(plan, [party("a", X, y, plan)]).fit()
    parts = np.array_split(np.arange(len(y)), 3)
    three = Coordinator(plan, [party(str(i), X[p], y[p], plan) for i, p in enumerate(parts)]).fit()
    np.testing.assert_allclose(three.coef_, one.coef_, rtol=1e-9)


def test_model_surface_matches_scikit_learn_export():
    X, y = data()
    plan = LogisticRegression(
        table="t", features=["a", "b", "c"], label="y", rounds=20, secure_aggregation=False
    )
    model = Coordinator(plan, [party("a", X, y, plan)]).fit()
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.to_sklearn().predict(X), model.predict(X))
    assert model.score(X, y) > 0.8
