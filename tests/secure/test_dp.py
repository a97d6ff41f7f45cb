"""Differential privacy: calibration with dp-accounting, noise shares, clipping."""

from __future__ import annotations

import numpy as np
import pytest

import collab
from collab.plans._steps import Standardizer, dp_row_bound, dp_sums
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
    total = sum(
        privatise(sums, dp, rounds=10, shares=3, learning_rate=1.0, n_weights=0) for _ in range(3)
    )
    expected = noise_multiplier_for(1.0, 1e-5, 10) * dp_row_bound(1.0)
    assert total.std() == pytest.approx(expected, rel=0.05)


def test_one_row_moves_the_sums_by_at_most_the_bound():
    rng = np.random.default_rng(0)
    X, y = rng.normal(scale=50, size=(200, 3)), rng.integers(0, 2, 200).astype(float)
    scale = Standardizer.from_bounds([(-10, 10)] * 3)
    w = rng.normal(size=4)
    full = dp_sums(X, y, w, scale, 0.7)
    for i in range(0, 200, 37):
        without = dp_sums(np.delete(X, i, 0), np.delete(y, i), w, scale, 0.7)
        assert np.linalg.norm(full - without) <= dp_row_bound(0.7) + 1e-12


def test_clipping_and_settings():
    rows = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(np.linalg.norm(clip_rows(rows, 1.0), axis=1), [1.0, 0.5])
    for bad in ({"epsilon": 0}, {"epsilon": 1, "delta": 1.5}, {"epsilon": 1, "clip_norm": -1}):
        with pytest.raises(collab.PlanError):
            DP(**bad)
