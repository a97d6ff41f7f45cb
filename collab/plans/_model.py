"""What every trained model shares: its inputs, how missing values are filled, its record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._display import RichDisplay
from .._errors import PlanError


@dataclass(frozen=True, eq=False, kw_only=True)
class Model(RichDisplay):
    """Base of the models plans build, with a scikit-learn-like surface.

    Inputs are the plan's features on their original scale; a missing value counts as the
    federated mean ``feature_means_``. Subclasses add their learned attributes (trailing
    underscore), ``predict`` and ``to_sklearn``.
    """

    family: ClassVar[str] = ""
    task: ClassVar[str] = "classification"

    features: tuple[str, ...]
    label: str
    feature_means_: np.ndarray
    lakes: tuple[str, ...] = ()
    rounds: int = 0
    plan_hash: str = ""
    history: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "lakes", tuple(self.lakes))
        object.__setattr__(self, "feature_means_", np.asarray(self.feature_means_, dtype=float))

    @property
    def n_features_in_(self) -> int:
        return len(self.features)

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

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def to_sklearn(self) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _named(self, estimator: Any) -> Any:
        """``estimator`` with the input names scikit-learn records when it is fitted on a
        DataFrame, so it takes the same frames as this model."""
        estimator.n_features_in_ = len(self.features)
        estimator.feature_names_in_ = np.array(self.features, dtype=object)
        return estimator

    def _params(self) -> dict[str, Any]:
        """The learned values as plain data (lists and numbers)."""
        raise NotImplementedError

    def report_table(self) -> dict[str, Any]:
        """A table of what was learned, for displays: ``title``, ``header``, ``rows``,
        ``note``."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Everything a display or a saved copy needs, as plain data."""
        return {
            "model": self.family,
            "task": self.task,
            "features": list(self.features),
            "label": self.label,
            "rounds": self.rounds,
            "lakes": list(self.lakes),
            "plan_hash": self.plan_hash,
            "feature_means": [float(v) for v in self.feature_means_],
            **self._params(),
            "report": self.report_table(),
        }

    def _display_(self) -> tuple[Any, str | None, Any]:
        from .._display import MODEL_MIME, model_report

        payload = self.to_dict()
        return model_report(payload), MODEL_MIME, payload


@dataclass(frozen=True, eq=False, kw_only=True)
class Classifier(Model):
    """A model predicting one of ``classes_``."""

    classes_: np.ndarray = field(default_factory=lambda: np.array([0, 1]))

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "classes_", np.asarray(self.classes_))

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: pd.DataFrame | np.ndarray, y: Sequence[Any] | np.ndarray) -> float:
        """Accuracy on ``X`` against labels ``y``."""
        truth = np.asarray(y)
        if truth.dtype.kind in "fiub" and self.classes_.dtype.kind in "fiub":
            return float(np.mean(self.predict(X).astype(float) == truth.astype(float)))
        return float(np.mean(self.predict(X) == truth))


@dataclass(frozen=True, eq=False, kw_only=True)
class Regressor(Model):
    """A model predicting a number."""

    task: ClassVar[str] = "regression"

    def score(self, X: pd.DataFrame | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
        """R² of the predictions of ``X`` against ``y`` (as scikit-learn's ``r2_score``)."""
        truth = np.asarray(y, dtype=float)
        residual = np.sum((truth - self.predict(X)) ** 2)
        total = np.sum((truth - truth.mean()) ** 2)
        return float(1.0 - residual / total) if total > 0 else 0.0


def coefficient_table(
    features: Sequence[str], coef: np.ndarray, intercept: float | np.ndarray, classes: Any = None
) -> dict[str, Any]:
    """The report of a linear model: one row per feature, one column per class when there
    are several sets of coefficients."""
    coef = np.atleast_2d(coef)
    names = ["coefficient"] if coef.shape[0] == 1 else [f"class {c}" for c in classes]
    intercepts = np.atleast_1d(intercept)
    rows = [[f, *[float(v) for v in coef[:, j]]] for j, f in enumerate(features)]
    rows.append(["(intercept)", *[float(v) for v in intercepts]])
    return {
        "title": "Coefficients",
        "header": ["feature", *names],
        "rows": rows,
        "note": "on the original (unstandardised) scale of each feature",
    }
