"""The coordinator's step (Reddi et al., ICLR 2021): FedAvg, FedAdagrad, FedAdam, FedYogi."""

from __future__ import annotations

import numpy as np
import pytest

import collab
from collab.plans import LogisticRegression, Update
from collab.plans._server_optimizer import BETA_1, BETA_2, TAU, server_step


def test_sgd_is_federated_averaging_with_a_step_size():
    w, delta = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    new, moments = server_step("sgd", 0.5, w, delta, None)
    np.testing.assert_allclose(new, [1.25, -1.875])
    assert moments == {}


@pytest.mark.parametrize("name", ["adam", "yogi", "adagrad"])
def test_adaptive_steps_follow_the_papers_updates(name):
    rng = np.random.default_rng(0)
    w = rng.normal(size=3)
    m, v = np.zeros(3), np.full(3, TAU**2)
    moments = None
    for _ in range(4):
        delta = rng.normal(size=3)
        w_new, moments = server_step(name, 0.1, w, delta, moments)
        if name == "adagrad":
            m, v = delta, v + delta**2
        else:
            m = BETA_1 * m + (1 - BETA_1) * delta
            if name == "adam":
                v = BETA_2 * v + (1 - BETA_2) * delta**2
            else:
                v = v - (1 - BETA_2) * delta**2 * np.sign(v - delta**2)
        np.testing.assert_allclose(w_new, w + 0.1 * m / (np.sqrt(v) + TAU), rtol=1e-12)
        w = w_new


def test_a_plan_moves_its_weights_with_its_optimiser_and_keeps_the_moments():
    plan = LogisticRegression(
        table="t", features=["a"], label="y", server_optimizer="adam", server_learning_rate=0.05
    )
    state = plan.start(collab.plans.Standardizer(np.zeros(1), np.ones(1)))
    update = Update(rows=10.0, metrics=np.zeros(2), values=np.array([5.0, -5.0]))
    after = plan.absorb(state, update)
    # the first Adam step moves each weight by about the server learning rate
    np.testing.assert_allclose(np.abs(after["weights"]), 0.05, rtol=0.02)
    assert set(after["moments"]) == {"m", "v"}
    assert plan.server_rate == 0.05
    assert LogisticRegression(table="t", features=["a"], label="y").server_rate == 1.0
