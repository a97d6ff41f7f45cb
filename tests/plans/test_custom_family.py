"""A family that is not part of collab plugs in from this file alone: a linear support vector
machine trained by federated rounds, through ``simulate`` and through real lakes with secure
aggregation. Nothing outside this file changes for it."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest
from pyspark import cloudpickle

import collab
from collab.plans import Classifier, RoundPlan, Standardizer, Update, register_family

# A lake runs the family's step in Spark's Python workers: there it must be importable (a
# package installed on the lake), or, as here, shipped by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class LinearSVM(RoundPlan):
    """A binary linear SVM: hinge loss on labels 0/1 read as -1/+1."""

    model: ClassVar[str] = "test_linear_svm"
    metric_sums: ClassVar[tuple[str, ...]] = ("hinge", "correct")
    history_metrics: ClassVar[tuple[str, ...]] = ("loss", "accuracy")
    primary_metric: ClassVar[str] = "accuracy"

    rounds: int = 15
    local_epochs: int = 5
    learning_rate: float = 0.2
    l2: float = 0.01

    def check_label(self, column: collab.ColumnSchema, where: str) -> None:
        if column.kind != "binary":
            raise collab.PlanError(f"{where}: the SVM needs a binary label, not {self.label!r}")

    def mock_labels(self, column: Any, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, 2, n).astype(float)

    def n_weights(self, n_features: int) -> int:
        return n_features + 1

    def penalised(self, n_features: int) -> np.ndarray:
        return np.r_[np.ones(n_features), 0.0]

    @staticmethod
    def _margins(Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = 2.0 * y - 1.0
        return s, s * (Z @ w[:-1] + w[-1])

    def gradient(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        s, m = self._margins(Z, y, w)
        active = (m < 1.0) * -s
        return np.r_[Z.T @ active / len(y), active.mean()]

    def metric_totals(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        _, m = self._margins(Z, y, w)
        return np.array([float(np.maximum(0.0, 1.0 - m).sum()), float((m > 0).sum())])

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        rows = max(update.rows, 1.0)
        return {"loss": update.metrics[0] / rows, "accuracy": update.metrics[1] / rows}

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> SVMModel:
        w = np.asarray(state["weights"])
        coef = w[:-1] / standardizer.std
        return SVMModel(
            features=tuple(self.features),
            label=self.label,
            coef_=coef,
            intercept_=float(w[-1] - coef @ standardizer.mean),
            feature_means_=standardizer.mean,
            **context,
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class SVMModel(Classifier):
    family: ClassVar[str] = "test_linear_svm"

    coef_: np.ndarray
    intercept_: float

    def decision_function(self, X: Any) -> np.ndarray:
        return self._matrix(X) @ self.coef_ + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        p = (self.decision_function(X) > 0).astype(float)
        return np.column_stack([1 - p, p])

    def to_sklearn(self) -> Any:
        from sklearn.svm import LinearSVC

        sk = LinearSVC()
        sk.coef_, sk.intercept_ = self.coef_.reshape(1, -1), np.array([self.intercept_])
        sk.classes_, sk.n_features_in_ = self.classes_, len(self.features)
        return sk

    def _params(self) -> dict[str, Any]:
        return {"coef": self.coef_.tolist(), "intercept": self.intercept_}

    def report_table(self) -> dict[str, Any]:
        rows = [[f, float(c)] for f, c in zip(self.features, self.coef_, strict=True)]
        return {"title": "Weights", "header": ["feature", "weight"], "rows": rows, "note": ""}


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
