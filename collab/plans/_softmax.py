"""Multinomial logistic regression for a label with more than two values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._classes import ClassLabels, one_hot
from ._model import Classifier, Model, coefficient_table
from ._plan import register_family
from ._rounds import ClassifierRoundPlan, softmax
from ._stats import Standardizer


@dataclass(frozen=True, eq=False, kw_only=True)
class SoftmaxModel(Classifier):
    """A trained multinomial logistic model: ``coef_`` (classes x features) and
    ``intercept_`` act on the original features."""

    coef_: np.ndarray
    intercept_: np.ndarray

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "coef_", np.atleast_2d(np.asarray(self.coef_, dtype=float)))
        object.__setattr__(self, "intercept_", np.asarray(self.intercept_, dtype=float))

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self._matrix(X) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities of each of ``classes_``, one row per input row."""
        return softmax(self.decision_function(X))

    def to_sklearn(self) -> Any:
        """An equivalent fitted multinomial ``sklearn.linear_model.LogisticRegression``."""
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression

        sk = SkLogisticRegression()
        if len(self.classes_) == 2:  # scikit-learn keeps one row: the difference of the two
            sk.coef_ = (self.coef_[1] - self.coef_[0]).reshape(1, -1)
            sk.intercept_ = np.array([self.intercept_[1] - self.intercept_[0]])
        else:
            sk.coef_ = self.coef_.copy()
            sk.intercept_ = self.intercept_.copy()
        sk.classes_ = self.classes_
        return self._named(sk)

    def _learned_shapes(self) -> dict[str, tuple[Any, tuple[int, ...]]]:
        k, d = len(self.classes_), len(self.features)
        return {
            **super()._learned_shapes(),
            "coef_": (self.coef_, (k, d)),
            "intercept_": (self.intercept_, (k,)),
        }

    def _params(self) -> dict[str, Any]:
        return {
            "classes": self.classes_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
        }

    def report_table(self) -> dict[str, Any]:
        return coefficient_table(
            self.features, self.coef_, self.intercept_, [_label(c) for c in self.classes_]
        )


def _label(value: Any) -> Any:
    if isinstance(value, str):
        return value
    return int(value) if float(value).is_integer() else value


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class SoftmaxRegression(ClassLabels, ClassifierRoundPlan):
    """Multinomial logistic regression trained across lakes by federated averaging.

    A lake that has no row of some class still trains; a label value outside ``classes`` is
    refused by the lake, naming itself and the column (the value itself is never sent).

    Parameters
    ----------
    table, features, label
        The table, its numeric input columns and the label (its values are the classes).
    classes
        The label's values, for example ``[0, 1, 2]``; ``None`` takes the categories the
        owners publish for the label column.
    rounds, local_epochs, learning_rate, batch_size, l2, fedprox_mu
        How to train (see :class:`collab.plans.RoundPlan`).
    server_optimizer, server_learning_rate
        How the coordinator applies each round (see :class:`collab.plans.RoundPlan`).
    secure_aggregation, secure_threshold, dp
        Privacy (see :class:`collab.plans.Plan`).
    """

    model: ClassVar[str] = "softmax_regression"
    model_class: ClassVar[type[Model]] = SoftmaxModel

    classes: tuple[Any, ...] | None = None

    @property
    def k(self) -> int:
        return len(self.class_values)

    def n_weights(self, n_features: int) -> int:
        return (n_features + 1) * self.k

    def penalised(self, n_features: int) -> np.ndarray:
        return np.r_[np.ones(n_features * self.k), np.zeros(self.k)]

    def _split(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = self.n_inputs
        return w[: d * self.k].reshape(d, self.k), w[d * self.k :]

    def _proba(self, Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        W, b = self._split(w)
        return softmax(Z @ W + b)

    def gradient(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        E = self._proba(Z, w) - one_hot(t, self.k)
        return np.concatenate(((Z.T @ E).ravel() / len(t), E.mean(axis=0)))

    def metric_totals(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        P = self._proba(Z, w)
        picked = P[np.arange(len(t)), t.astype(int)]
        loss = float(-np.sum(np.log(np.maximum(picked, 1e-300))))
        correct = float(np.sum(np.argmax(P, axis=1) == t))
        return np.array([loss, correct])

    def row_gradients(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        E = self._proba(Z, w) - one_hot(t, self.k)
        outer = (Z[:, :, None] * E[:, None, :]).reshape(len(t), -1)
        return np.column_stack([outer, E])

    def row_metrics(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        P = self._proba(Z, w)
        picked = P[np.arange(len(t)), t.astype(int)]
        loss = np.minimum(-np.log(np.maximum(picked, 1e-300)), 1.0)
        return np.column_stack([loss, np.argmax(P, axis=1) == t])

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> SoftmaxModel:
        W, b = self._split(np.asarray(state["weights"], dtype=np.float64))
        coef = (W / standardizer.std[:, None]).T  # (classes, features) on the raw scale
        intercept = b - coef @ standardizer.mean
        return SoftmaxModel(
            features=self.input_names,
            label=self.label,
            classes_=self.model_classes,
            coef_=coef,
            intercept_=intercept,
            feature_means_=standardizer.mean,
            **context,
        )


