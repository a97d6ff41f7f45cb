"""Differential privacy: calibration with dp-accounting, noise shares, clipping."""

from __future__ import annotations

import numpy as np
import pytest

import collab
from collab.plans import LogisticRegression, Standardizer
from collab.secure import DP, clip_rows, epsilon_spent, noise_multiplier_for, privatise


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 3.0, 10.0])
def test_calibrated_noise_spends_the_asked_epsilon(epsilon):
    sigma = noise_multiplier_for(epsilon, 1e-5, 30)
    assert epsilon_spent(sigma, 1e-5, 30) <= epsilon
    assert epsilon_spent(sigma * 0.99, 1e-5, 30) > epsilon * 0.99


def test_more_rounds_need_more_noise():
    assert noise_multiplier_for(1.0, 1e-5, 60) > noise_multiplier_for(1.0, 1e-5, 30)


def test_noise_shares_of_t_lakes_add_up_to_the_full_noise():
    dp = DP(epsilon=1.0)
    sums = np.zeros(4000)
    bound = 2.0
    total = sum(privatise(sums, dp, releases=10, row_bound=bound, shares=3) for _ in range(3))
    expected = noise_multiplier_for(1.0, 1e-5, 10) * bound
    assert total.std() == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogisticRegression(table="t", features=list("abc"), label="y", dp=DP(1.0)),
        lambda: collab.plans.SoftmaxRegression(
            table="t", features=list("abc"), label="y", classes=[0, 1, 2], dp=DP(1.0)
        ),
        lambda: collab.plans.MLPClassifier(
            table="t",
            features=list("abc"),
            label="y",
            hidden=(4,),
            dp=DP(1.0),
            local_epochs=1,
            batch_size=None,
        ),
        lambda: collab.plans.LinearRegression(
            table="t", features=list("abc"), label="y", dp=DP(1.0)
        ),
    ],
)
def test_one_row_moves_the_sums_by_at_most_the_bound(make):
    plan = make()
    rng = np.random.default_rng(0)
    X = rng.normal(scale=50, size=(200, 3))
    y = plan.mock_labels(collab.ColumnSchema("y", "double", False, "numeric"), rng, 200)
    y = y * 40 if plan.task == "regression" else y  # labels far outside the bounds, too
    scale = Standardizer.from_bounds([(-10, 10)] * 3, (-5.0, 5.0))
    Z = scale.transform(X)
    request = {
        "weights": list(rng.normal(size=plan.n_weights(3))),
        "label_mean": 0.0,
        "label_std": 5.0,
    }
    if plan.task == "regression":
        request = {"solve": "normal_equations", "label_mean": 0.0, "label_std": 5.0}
    full = plan.dp_update(Z, y, request, 0.7).released()
    bound = plan.dp_row_bound(0.7)
    for i in range(0, 200, 37):
        without = plan.dp_update(np.delete(Z, i, 0), np.delete(y, i), request, 0.7).released()
        assert np.linalg.norm(full - without) <= bound + 1e-12


def test_clipping_and_settings():
    rows = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(np.linalg.norm(clip_rows(rows, 1.0), axis=1), [1.0, 0.5])
    for bad in ({"epsilon": 0}, {"epsilon": 1, "delta": 1.5}, {"epsilon": 1, "clip_norm": -1}):
        with pytest.raises(collab.PlanError):
            DP(**bad)
