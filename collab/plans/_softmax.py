"""Multinomial logistic regression for a label with more than two values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._schema import ColumnSchema, TableSchema
from ._classes import (
    check_classes,
    check_label_column,
    class_index,
    numeric_classes,
    published_classes,
)
from ._model import Classifier, coefficient_table
from ._plan import register_family
from ._rounds import ClassifierRoundPlan, softmax
from ._stats import Standardizer


class ClassLabels:
    """The label handling of a classifier with ``classes`` (a mixin for plan families)."""

    label: str
    model: ClassVar[str]
    classes: tuple[Any, ...] | None

    @property
    def class_values(self) -> tuple[float, ...]:
        """The classes as the lakes code the label: their values when they are numbers,
        else their positions (the lake reads a text label as its class's index)."""
        classes = self.classes or (0.0, 1.0)
        if numeric_classes(classes):
            return tuple(float(c) for c in classes)
        return tuple(float(i) for i in range(len(classes)))

    @property
    def model_classes(self) -> np.ndarray:
        """The classes a trained model predicts (texts, or numbers)."""
        classes = self.classes or (0, 1)
        return np.asarray(classes if not numeric_classes(classes) else self.class_values)

    @property
    def encodings(self) -> dict[str, tuple[Any, ...]]:
        coded = super().encodings  # type: ignore[misc]
        if self.classes is not None and not numeric_classes(self.classes):
            coded[self.label] = tuple(self.classes)
        return coded  # type: ignore[no-any-return]

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Any:
        if self.classes is not None:
            return self
        published = published_classes(self.label, schemas)
        if published is None and all(
            s.column(self.label).kind in ("binary", "boolean") for s in schemas.values()
        ):
            published = (0, 1)
        return self if published is None else replace(self, classes=published)  # type: ignore[type-var]

    def check_label(self, column: ColumnSchema, where: str) -> None:
        check_label_column(column, self.label, self.classes, where, self.model)

    def invalid_labels(self, y: np.ndarray) -> int:
        return int(np.count_nonzero(~self._valid_mask(y)))

    def _valid_mask(self, y: np.ndarray) -> np.ndarray:
        return class_index(y, self.class_values)[1]

    def prepare_labels(self, y: np.ndarray, request: Mapping[str, Any]) -> np.ndarray:
        return class_index(y, self.class_values)[0].astype(np.float64)

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.class_values, dtype=np.float64), size=n)


def one_hot(t: np.ndarray, k: int) -> np.ndarray:
    Y = np.zeros((len(t), k))
    Y[np.arange(len(t)), t.astype(int)] = 1.0
    return Y


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
    rounds, local_epochs, learning_rate, batch_size, l2, server_optimizer, server_learning_rate
        How to train (see :class:`collab.plans.RoundPlan`).
    secure_aggregation, secure_threshold, dp
        Privacy (see :class:`collab.plans.Plan`).
    """

    model: ClassVar[str] = "softmax_regression"

    classes: tuple[Any, ...] | None = None

    def _validate(self) -> None:
        object.__setattr__(self, "classes", check_classes(self.classes))
        super()._validate()

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
        return np.r_[(Z.T @ E).ravel() / len(t), E.mean(axis=0)]

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


@dataclass(frozen=True, eq=False, kw_only=True)
class SoftmaxModel(Classifier):
    """A trained multinomial logistic model: ``coef_`` (classes x features) and
    ``intercept_`` act on the original features."""

    family: ClassVar[str] = "softmax_regression"

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
