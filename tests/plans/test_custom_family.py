"""A family that is not part of collab plugs in from this file alone: a linear support vector
machine trained by federated rounds, through ``simulate`` and through real lakes with secure
aggregation. Nothing outside this file changes for it."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest
from pyspark import cloudpickle

import collab
from collab.plans import (
    Classifier,
    ClassifierRoundPlan,
    ClassLabels,
    Model,
    Standardizer,
    register_family,
)

# A lake runs the family's step in Spark's Python workers: there it must be importable (a
# package installed on the lake), or, as here, shipped by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True, eq=False, kw_only=True)
class SVMModel(Classifier):
    coef_: np.ndarray
    intercept_: float

    def predict_proba(self, X: Any) -> np.ndarray:
        p = (self._matrix(X) @ self.coef_ + self.intercept_ > 0).astype(float)
        return np.column_stack([1 - p, p])

    def to_sklearn(self) -> Any:
        from sklearn.svm import LinearSVC

        sk = LinearSVC()
        sk.coef_, sk.intercept_ = self.coef_.reshape(1, -1), np.array([self.intercept_])
        sk.classes_, sk.n_features_in_ = self.classes_, len(self.features)
        return sk


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class LinearSVM(ClassLabels, ClassifierRoundPlan):
    """A binary linear SVM: hinge loss on labels 0/1 read as -1/+1 (its loss).

    Parameters
    ----------
    classes
        The label's two values, the second positive; ``None`` takes 0 and 1.
    """

    model: ClassVar[str] = "test_linear_svm"
    model_class: ClassVar[type[Model]] = SVMModel

    rounds: int = 15
    local_epochs: int = 5
    learning_rate: float = 0.2
    l2: float = 0.01
    classes: tuple[Any, ...] | None = None

    def n_weights(self, n_features: int) -> int:
        return n_features + 1

    def penalised(self, n_features: int) -> np.ndarray:
        return np.r_[np.ones(n_features), 0.0]

    def gradient(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        s = 2.0 * y - 1.0
        active = (s * (Z @ w[:-1] + w[-1]) < 1.0) * -s
        return np.r_[Z.T @ active / len(y), active.mean()]

    def metric_totals(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        m = (2.0 * y - 1.0) * (Z @ w[:-1] + w[-1])
        return np.array([float(np.maximum(0.0, 1.0 - m).sum()), float((m > 0).sum())])

    def build_model(self, state: Any, standardizer: Standardizer, **context: Any) -> SVMModel:
        w = np.asarray(state["weights"])
        coef = w[:-1] / standardizer.std
        return SVMModel(
            features=self.input_names,
            label=self.label,
            coef_=coef,
            intercept_=float(w[-1] - coef @ standardizer.mean),
            feature_means_=standardizer.mean,
            **context,
        )


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class BrokenSVM(LinearSVM):
    """The SVM with a bug in its lake-side step, whose exception quotes a row's value (as
    numpy's and pandas' exceptions may)."""

    model: ClassVar[str] = "test_broken_svm"
    rounds: int = 2

    def gradient(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        raise ArithmeticError(f"cannot use the row value {float(Z[0, 0])!r}")


@pytest.fixture(scope="module")
def biopsies(uneven):
    return uneven.tables["biopsies"]


def test_the_family_is_registered_and_round_trips_as_a_spec(biopsies):
    plan = LinearSVM(table="biopsies", features=biopsies.features, label=biopsies.label)
    assert collab.plans.families()["test_linear_svm"] is LinearSVM
    assert collab.plans.Plan.from_spec(plan.to_spec()) == plan
    assert [s["name"] for s in LinearSVM.settings()][:2] == ["rounds", "local_epochs"]


def test_it_simulates_on_synthetic_rows(uneven, biopsies):
    plan = LinearSVM(table="biopsies", features=biopsies.features, label=biopsies.label)
    job = uneven.federation.simulate(plan)
    assert job.status == "done", job.error
    assert len(job.history) == plan.rounds


def test_it_trains_on_real_lakes_with_secure_aggregation(uneven, biopsies):
    plan = LinearSVM(table="biopsies", features=biopsies.features, label=biopsies.label)
    assert plan.secure_aggregation
    job, model = uneven.train(plan)
    test = biopsies.test
    assert isinstance(model, SVMModel)
    assert model.score(test, test[biopsies.label]) > 0.93
    assert job.history["loss"].iloc[-1] < job.history["loss"].iloc[0]
    assert (
        model.to_sklearn().predict(test[biopsies.features].to_numpy()) == model.predict(test)
    ).all()
    # every lake released masked vectors only, and logged every round
    for lake in uneven.lakes:
        log = lake.audit
        mine = log[log["detail"].str.contains(job.job_id)]
        assert (mine["action"] == "release").sum() == 3 + 1 + plan.rounds + plan.rounds + 1
    assert "test_linear_svm" in model._repr_html_() or "test linear svm" in model._repr_html_()


def test_registering_a_family_that_leaves_out_a_required_member_fails_naming_it():
    @dataclass(frozen=True, eq=False, kw_only=True)
    class Unfinished(ClassifierRoundPlan):
        model: ClassVar[str] = "test_unfinished"
        model_class: ClassVar[type[Model]] = SVMModel

        def n_weights(self, n_features: int) -> int:
            return n_features + 1

    with pytest.raises(collab.PlanError) as refusal:
        register_family(Unfinished)
    message = str(refusal.value)
    assert "'test_unfinished'" in message
    for member in ("build_model", "gradient", "metric_totals", "penalised"):
        assert member in message
    assert "n_weights" not in message and "absorb" not in message
    assert "test_unfinished" not in collab.plans.families()

    class NoModel(LinearSVM):
        model: ClassVar[str] = "test_no_model"
        model_class: ClassVar[Any] = None

    with pytest.raises(collab.PlanError, match="'test_no_model'.*names no model_class"):
        register_family(NoModel)

    @dataclass(frozen=True, eq=False, kw_only=True)
    class Unpredicting(Classifier):
        coef_: np.ndarray

    class BadModel(LinearSVM):
        model: ClassVar[str] = "test_bad_model"
        model_class: ClassVar[Any] = Unpredicting

    with pytest.raises(collab.PlanError, match="model Unpredicting leaves out predict_proba"):
        register_family(BadModel)
    assert not {"test_no_model", "test_bad_model"} & set(collab.plans.families())


def test_a_step_failing_on_the_lakes_names_the_lake_and_step_and_the_owner_sees_why(
    uneven, biopsies, caplog
):
    """An unexpected failure of a lake's step: the scientist's error names the lake, the step
    and the kind of exception, never its text (it may quote a row); the lake logs the text
    and the traceback at ERROR (where a failing test's report shows them) and audits them."""
    plan = BrokenSVM(table="biopsies", features=biopsies.features, label=biopsies.label)
    job = uneven.federation.submit(plan)
    with caplog.at_level(logging.ERROR, logger="collab.lake"):
        for lake in uneven.lakes:
            for request in lake.requests:
                if request.job_id == job.job_id and request.status == "pending":
                    request.approve()
        with pytest.raises(collab.CollabError) as failure:
            job.result(progress=False, timeout=600)
    message = str(failure.value)
    assert failure.value.lake in {lake.name for lake in uneven.lakes}
    assert message.startswith(f"lake {failure.value.lake!r} failed while computing the round step")
    assert f"of round 1 of job {job.job_id[:8]} (ArithmeticError)" in message
    assert "row value" not in message and "audit log" in message
    logged = [r for r in caplog.records if r.name == "collab.lake"]
    assert logged and {r.levelno for r in logged} == {logging.ERROR}
    failed = next(r for r in logged if f"lake {failure.value.lake!r}" in r.getMessage())
    assert f"job {job.job_id}: ArithmeticError: cannot use the row value" in failed.getMessage()
    assert failed.exc_info is not None and "in gradient" in caplog.text  # the traceback
    lake = next(lake for lake in uneven.lakes if lake.name == failure.value.lake)
    audit = lake.audit
    mine = audit[audit["detail"].str.contains(job.job_id)]
    entry = mine[mine["action"] == "execution failed"]
    assert len(entry) == 1 and "ArithmeticError" in entry["detail"].iloc[0]
