"""Least squares and ridge across three uneven lakes, against the pooled solution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import collab
from collab.plans import LinearRegression


@pytest.fixture(scope="module")
def diabetes(uneven):
    return uneven.tables["diabetes"]


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_exact_solver_is_the_pooled_least_squares_solution(uneven, diabetes, alpha):
    from sklearn.linear_model import Ridge

    plan = LinearRegression(
        table="diabetes", features=diabetes.features, label=diabetes.label, alpha=alpha
    )
    job, model = uneven.train(plan)
    X = diabetes.pooled[diabetes.features].to_numpy()
    y = diabetes.pooled[diabetes.label].to_numpy()
    if alpha == 0.0:  # the normal equations of the pooled rows, solved here by numpy
        A = np.column_stack([X, np.ones(len(y))])
        solution = np.linalg.lstsq(A, y, rcond=None)[0]
        coef, intercept = solution[:-1], solution[-1]
    else:
        ridge = Ridge(alpha=alpha).fit(X, y)
        coef, intercept = ridge.coef_, ridge.intercept_
    np.testing.assert_allclose(model.coef_, coef, rtol=0, atol=1e-6)
    assert abs(model.intercept_ - intercept) < 1e-6
    # one round of masked sufficient statistics, and its fit in the history
    assert job.rounds_done == 1 and list(job.history.columns) == [
        "round",
        "loss",
        "rmse",
        "r2",
        "rows",
        "seconds",
    ]
    residual = y - X @ coef - intercept
    assert job.history["rmse"].iloc[0] == pytest.approx(np.sqrt(np.mean(residual**2)), rel=1e-6)
    assert job.history["rows"].iloc[0] == len(y)


def test_test_rmse_within_two_percent_of_scikit_learn_and_exports(uneven, diabetes):
    from sklearn.linear_model import LinearRegression as SkLinearRegression

    plan = LinearRegression(table="diabetes", features=diabetes.features, label=diabetes.label)
    _, model = uneven.train(plan)
    test = diabetes.test
    central = SkLinearRegression().fit(
        diabetes.pooled[diabetes.features], diabetes.pooled[diabetes.label]
    )

    def rmse(predicted):
        return float(np.sqrt(np.mean((predicted - test[diabetes.label].to_numpy()) ** 2)))

    ours, theirs = rmse(model.predict(test)), rmse(central.predict(test[diabetes.features]))
    assert ours <= 1.02 * theirs, (ours, theirs)
    assert model.score(test, test[diabetes.label]) == pytest.approx(
        central.score(test[diabetes.features], test[diabetes.label]), abs=1e-6
    )
    exported = model.to_sklearn()
    np.testing.assert_allclose(
        exported.predict(test[diabetes.features]), model.predict(test), rtol=0, atol=1e-9
    )
    assert type(exported).__name__ == "LinearRegression"


def test_rounds_solver_trains_by_federated_averaging(uneven, diabetes):
    plan = LinearRegression(
        table="diabetes",
        features=diabetes.features,
        label=diabetes.label,
        solver="rounds",
        rounds=8,
        local_epochs=10,
        learning_rate=0.3,
    )
    job, _model = uneven.train(plan)
    history = job.history
    assert len(history) == 8
    assert history["loss"].iloc[-1] < 0.8 * history["loss"].iloc[0]
    assert history["r2"].iloc[-1] > 0.4


def test_dp_solves_noisy_statistics_within_the_noise_and_charges_the_ledger(uneven):
    # The noise does not grow with the rows and the statistics do: on 30,000 rows the noisy
    # solution is close to the exact one, while on a few hundred it may not beat the mean.
    rng = np.random.default_rng(3)
    features = ["a", "b", "c", "d", "e"]
    X = rng.uniform(-2.0, 2.0, size=(30_000, len(features)))
    y = 10.0 + X @ np.array([3.0, -2.0, 1.0, 0.5, 0.0]) + rng.normal(0.0, 1.0, len(X))
    frame = pd.DataFrame(X, columns=features).assign(y=y)
    parts = np.split(rng.permutation(len(frame)), [5_000, 15_000])
    bounds = {c: (-2.0, 2.0) for c in features} | {"y": (-10.0, 30.0)}
    table = uneven.host("linear_dp", frame, parts, bounds=bounds, max_epsilon=3.0)

    plan = LinearRegression(table=table, features=features, label="y", dp=collab.DP(epsilon=2.0))
    _job, model = uneven.train(plan)

    A = np.column_stack([X, np.ones(len(X))])
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    noisy = np.append(model.coef_, model.intercept_)
    assert not np.allclose(noisy, exact, rtol=0, atol=1e-9)  # noise was added
    rmse_exact = float(np.sqrt(np.mean((A @ exact - y) ** 2)))
    rmse_dp = float(np.sqrt(np.mean((model.predict(frame) - y) ** 2)))
    assert rmse_dp <= 1.02 * rmse_exact, (rmse_dp, rmse_exact)
    for lake in uneven.lakes:
        spent = lake.budget("ada@uni.edu").set_index("table")
        assert spent.loc[table, "epsilon spent"] == pytest.approx(2.0)
        assert spent.loc[table, "epsilon left"] == pytest.approx(1.0)


def test_a_text_label_or_a_missing_bound_is_refused_naming_lake_and_column(uneven, diabetes):
    with pytest.raises(collab.PlanError, match=r"lake 'north'.*label 'malignant' is binary"):
        uneven.federation.check(
            LinearRegression(table="biopsies", features=["mean_radius"], label="malignant")
        )
    with pytest.raises(collab.PlanError, match="alpha is the exact solver"):
        LinearRegression(table="t", features=["a"], label="y", alpha=1.0, solver="rounds")


def _rounds_on(plan: LinearRegression, lakes: list[tuple[np.ndarray, np.ndarray]], rounds: int):
    """``rounds`` of the plan's own local steps and server step on blocks of standardised
    rows (no lakes): the weights the coordinator ends with."""
    from collab.plans import Update

    state = {"weights": np.zeros(plan.n_weights(lakes[0][0].shape[1])).tolist(), "moments": {}}
    for r in range(1, rounds + 1):
        request = {**plan.round_request(state, r), "label_mean": 0.0, "label_std": 1.0}
        updates = [plan.local_update(Z, t, request) for Z, t in lakes]
        total = Update(
            sum(u.rows for u in updates),
            sum(u.metrics for u in updates),
            sum(u.values for u in updates),
            0.0,
        )
        state = plan.absorb(state, total)
    return np.asarray(state["weights"])


def test_fedprox_recovers_the_pooled_fit_when_lakes_hold_different_ranges_of_the_label():
    """Client drift: with many local epochs, FedAvg on lakes that each hold one range of
    the label settles near the average of the lakes' own fits, not the pooled fit;
    FedProx's pull towards the global weights brings it back."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(600, 3))
    t = Z @ np.array([1.0, -0.5, 0.25]) + rng.normal(scale=1.0, size=600)
    order = np.argsort(t)
    lakes = [(Z[part], t[part]) for part in np.array_split(order, 3)]
    A = np.column_stack([Z, np.ones(len(t))])
    pooled = np.linalg.lstsq(A, t, rcond=None)[0]

    def gap(**settings) -> float:
        table = {"table": "t", "features": list("abc"), "label": "y"}
        plan = LinearRegression(**table, solver="rounds", learning_rate=0.1, **settings)
        w = _rounds_on(plan, lakes, 20)
        return float(np.sqrt(np.mean((A @ w - t) ** 2)) - np.sqrt(np.mean((A @ pooled - t) ** 2)))

    drifted, proximal = gap(local_epochs=50), gap(local_epochs=50, fedprox_mu=3.0)
    assert drifted > 0.1  # the training RMSE is well above the pooled fit's
    assert proximal < drifted / 4
    with pytest.raises(collab.PlanError, match="fedprox_mu"):
        LinearRegression(table="t", features=["a"], label="y", solver="rounds", fedprox_mu=-1)
