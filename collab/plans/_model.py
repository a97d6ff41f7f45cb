"""The model a federated plan produces: coefficients on the original feature scale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import PlanError


@dataclass(frozen=True, eq=False)
class LogisticModel:
    """A trained binary logistic model with a scikit-learn-like surface.

    ``coef_`` and ``intercept_`` act on the original (unstandardised) features, so the model
    can be used, and exported with :meth:`to_sklearn`, without the federation's statistics.
    Missing feature values count as the federated mean ``feature_means_``.
    """

    features: tuple[str, ...]
    label: str
    coef_: np.ndarray
    intercept_: float
    feature_means_: np.ndarray
    lakes: tuple[str, ...] = ()
    rounds: int = 0
    plan_hash: str = ""

    @classmethod
    def from_standardised(
        cls,
        weights: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        *,
        features: Sequence[str],
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

    @property
    def classes_(self) -> np.ndarray:
        return np.array([0, 1])

    def _matrix(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            missing = [f for f in self.features if f not in X.columns]
            if missing:
                raise PlanError(
                    f"the data has no column(s) {', '.join(missing)}; the model was trained on "
                    f"{', '.join(self.features)}"
                )
            M = X[list(self.features)].to_numpy(dtype=float, na_value=np.nan)
        else:
            M = np.asarray(X, dtype=float)
            if M.ndim != 2 or M.shape[1] != len(self.features):
                raise PlanError(
                    f"expected an array of shape (rows, {len(self.features)}), got {M.shape}"
                )
        return np.where(np.isnan(M), self.feature_means_, M)

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self._matrix(X) @ self.coef_ + self.intercept_

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities of class 0 and class 1, one row per input row."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)

    def score(self, X: pd.DataFrame | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
        """Accuracy on ``X`` against labels ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y).astype(int)))

    def to_sklearn(self) -> Any:
        """An equivalent fitted ``sklearn.linear_model.LogisticRegression``."""
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression

        sk = SkLogisticRegression()
        sk.coef_ = self.coef_.reshape(1, -1).copy()
        sk.intercept_ = np.array([self.intercept_])
        sk.classes_ = self.classes_
        sk.n_features_in_ = len(self.features)
        sk.feature_names_in_ = np.array(self.features, dtype=object)
        return sk

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "logistic_regression",
            "features": list(self.features),
            "label": self.label,
            "coef": [float(c) for c in self.coef_],
            "intercept": float(self.intercept_),
            "rounds": self.rounds,
            "lakes": list(self.lakes),
            "plan_hash": self.plan_hash,
        }

    def _repr_html_(self) -> str:
        from .._display import html_of

        return html_of(self)

    def _repr_mimebundle_(self, include=None, exclude=None):  # type: ignore[no-untyped-def]
        from .._display import bundle_of

        return bundle_of(self, include, exclude)
