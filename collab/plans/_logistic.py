"""Binary logistic regression trained by federated averaging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._classes import BinaryLabels, ClassLabels
from ._model import BinaryClassifier, LinearScore, Model
from ._parameters import Param
from ._plan import register_family
from ._rounds import ClassifierRoundPlan, sigmoid
from ._stats import Standardizer


@dataclass(frozen=True, eq=False, kw_only=True)
class LogisticModel(LinearScore, BinaryClassifier):
    """A trained binary logistic model.

    ``coef_`` and ``intercept_`` act on the original (unstandardised) features, so the model
    can be used, and exported with :meth:`to_sklearn`, without the federation's statistics.
    """

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
        return self._linear(X)

    def to_sklearn(self) -> Any:
        """An equivalent fitted ``sklearn.linear_model.LogisticRegression``."""
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression

        sk = SkLogisticRegression()
        sk.coef_ = self.coef_.reshape(1, -1).copy()
        sk.intercept_ = np.array([self.intercept_])
        sk.classes_ = self.classes_
        return self._named(sk)

    def _params(self) -> dict[str, Any]:
        return {
            "classes": self.classes_.tolist(),
            "coef": [float(c) for c in self.coef_],
            "intercept": float(self.intercept_),
        }


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class LogisticRegression(BinaryLabels, ClassifierRoundPlan):
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
    more_classes_hint: ClassVar[str] = "; for more use SoftmaxRegression"
    other_label_hint: ClassVar[str] = (
        "For more classes use SoftmaxRegression; for a number, LinearRegression."
    )

    parameters: ClassVar[tuple[Param, ...]] = (
        replace(
            ClassLabels.parameters[0],
            help="The label's two values, the second being the positive class; None takes 0 "
            "and 1, or the two categories the owners publish (in sorted order).",
        ),
    )

    classes: tuple[Any, ...] | None = None

    def _validate(self) -> None:
        self._validate_classes()
        super()._validate()

    def n_weights(self, n_features: int) -> int:
        return n_features + 1

    def penalised(self, n_features: int) -> np.ndarray:
        return np.r_[np.ones(n_features), 0.0]

    @staticmethod
    def _margin(Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        return Z @ w[:-1] + w[-1]

    def gradient(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        err = sigmoid(self._margin(Z, w)) - y
        return np.append(Z.T @ err / len(y), err.mean())

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
            classes_=self.model_classes,
            **context,
        )
