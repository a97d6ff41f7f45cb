"""Binary logistic regression trained by federated averaging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._errors import PlanError
from .._schema import ColumnSchema, TableSchema
from ._classes import ClassLabels, published_classes
from ._model import Classifier, Model, coefficient_table
from ._parameters import Param
from ._plan import register_family
from ._rounds import ClassifierRoundPlan, sigmoid
from ._stats import Standardizer


@dataclass(frozen=True, eq=False, kw_only=True)
class LogisticModel(Classifier):
    """A trained binary logistic model.

    ``coef_`` and ``intercept_`` act on the original (unstandardised) features, so the model
    can be used, and exported with :meth:`to_sklearn`, without the federation's statistics.
    """

    view: ClassVar[str] = "coefficients"

    coef_: np.ndarray
    intercept_: float

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "coef_", np.asarray(self.coef_, dtype=float))
        object.__setattr__(self, "intercept_", float(self.intercept_))

    @classmethod
    def from_standardised(
        cls,
        weights: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        *,
        features: Any,
        label: str,
        **kwargs: Any,
    ) -> LogisticModel:
        d = len(features)
        coef = weights[:d] / std
        intercept = float(weights[d] - np.sum(coef * mean))
        return cls(
            features=tuple(features),
            label=label,
            coef_=coef,
            intercept_=intercept,
            feature_means_=np.asarray(mean, dtype=float),
            **kwargs,
        )

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self._matrix(X) @ self.coef_ + self.intercept_

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities of class 0 and class 1, one row per input row."""
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def to_sklearn(self) -> Any:
        """An equivalent fitted ``sklearn.linear_model.LogisticRegression``."""
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression

        sk = SkLogisticRegression()
        sk.coef_ = self.coef_.reshape(1, -1).copy()
        sk.intercept_ = np.array([self.intercept_])
        sk.classes_ = self.classes_
        return self._named(sk)

    def _learned_shapes(self) -> dict[str, tuple[Any, tuple[int, ...]]]:
        d = len(self.features)
        return {
            **super()._learned_shapes(),
            "coef_": (self.coef_, (d,)),
            "intercept_": (self.intercept_, ()),
        }

    def _params(self) -> dict[str, Any]:
        return {
            "classes": self.classes_.tolist(),
            "coef": [float(c) for c in self.coef_],
            "intercept": float(self.intercept_),
        }

    def report_table(self) -> dict[str, Any]:
        return coefficient_table(self.features, self.coef_, self.intercept_)


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class LogisticRegression(ClassLabels, ClassifierRoundPlan):
    """A binary classifier trained across lakes by federated averaging.

    Every round each lake starts from the global weights, runs ``local_epochs`` passes of
    gradient descent over its rows (in mini-batches of ``batch_size`` rows, or the whole
    partition when ``None``), and returns its change in weights, weighted by its row count.
    Features are standardised with means and deviations combined across lakes. A missing
    label drops the row; a missing feature value counts as the federated mean of that feature.

    Parameters
    ----------
    table, features, label
        The table, its input columns and a binary label (0/1, true/false, or a column with
        two published categories).
    classes
        The label's two values, the second being the positive class; ``None`` takes 0 and 1,
        or the two categories the owners publish (in sorted order).
    rounds, local_epochs, learning_rate, batch_size, l2, fedprox_mu
        How to train (see :class:`collab.plans.RoundPlan`).
    server_optimizer, server_learning_rate
        How the coordinator applies each round (see :class:`collab.plans.RoundPlan`).
    secure_aggregation, secure_threshold, dp
        Privacy (see :class:`collab.plans.Plan`).
    """

    model: ClassVar[str] = "logistic_regression"
    model_class: ClassVar[type[Model]] = LogisticModel
    _left_out_when_empty: ClassVar[tuple[str, ...]] = ("transforms", "encoding", "classes")

    parameters: ClassVar[tuple[Param, ...]] = (
        replace(
            ClassLabels.parameters[0],
            help="The label's two values, the second being the positive class; None takes 0 "
            "and 1, or the two categories the owners publish (in sorted order).",
        ),
    )

    classes: tuple[Any, ...] | None = None

    def _validate(self) -> None:
        if self.classes is not None and len(self.classes) != 2:
            raise PlanError(
                f"{self.model} learns two classes, not {len(self.classes)} "
                f"({list(self.classes)}); for more use SoftmaxRegression"
            )
        super()._validate()

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Any:
        if self.classes is not None or all(
            s.column(self.label).kind in ("binary", "boolean") for s in schemas.values()
        ):
            return self
        published = published_classes(self.label, schemas)
        # other than two categories: the lakes refuse the label, naming themselves
        return (
            self if published is None or len(published) != 2 else replace(self, classes=published)
        )

    def check_label(self, column: ColumnSchema, where: str) -> None:
        two = self.classes is not None or (
            column.categories is not None and len(column.categories) == 2
        )
        if column.kind not in ("binary", "boolean") and not two:
            raise PlanError(
                f"{where}: label {self.label!r} is {column.kind} ({column.type}), not binary; "
                f"{self.model} needs a label whose values are only 0 and 1 (or true/false, or "
                "two published categories). For more classes use SoftmaxRegression; for a "
                "number, LinearRegression."
            )
        super().check_label(column, where)

    def n_weights(self, n_features: int) -> int:
        return n_features + 1

    def penalised(self, n_features: int) -> np.ndarray:
        return np.r_[np.ones(n_features), 0.0]

    @staticmethod
    def _margin(Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        return Z @ w[:-1] + w[-1]

    def gradient(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        err = sigmoid(self._margin(Z, w)) - y
        return np.r_[Z.T @ err / len(y), err.mean()]

    def metric_totals(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        margin = self._margin(Z, w)
        loss = float(np.sum(np.logaddexp(0.0, margin) - y * margin))
        correct = float(np.sum((margin > 0) == (y > 0.5)))
        return np.array([loss, correct])

    def row_gradients(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        err = sigmoid(self._margin(Z, w)) - y
        return np.column_stack([Z * err[:, None], err])

    def row_metrics(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        margin = self._margin(Z, w)
        loss = np.minimum(np.logaddexp(0.0, margin) - y * margin, 1.0)
        return np.column_stack([loss, (margin > 0) == (y > 0.5)])

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> LogisticModel:
        return LogisticModel.from_standardised(
            np.asarray(state["weights"], dtype=np.float64),
            standardizer.mean,
            standardizer.std,
            features=self.input_names,
            label=self.label,
            classes_=self.model_classes if self.classes not in (None, (0, 1)) else np.array([0, 1]),
            **context,
        )


