"""Least squares and ridge regression: exact from summed sufficient statistics, or FedAvg."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._errors import PlanError, PolicyViolation
from .._schema import ColumnSchema
from ._model import LinearScore, Model, Regressor
from ._parameters import Param
from ._plan import register_family
from ._rounds import RoundPlan
from ._stats import Standardizer
from ._update import Update

EXACT_MAX_FEATURES = 200
SOLVERS = ("auto", "exact", "rounds")


def _gram_size(n_features: int) -> int:
    m = n_features + 1
    return m * (m + 1) // 2 + m + 1


def _stable(H: np.ndarray, noise: float) -> np.ndarray:
    """Noisy ``X'X`` made safe to solve: symmetric, with every eigenvalue at least the noise's
    size times the square root of the dimension (as AdaSSP, Wang 2018, regularises), so
    directions the noise dominates are damped instead of amplified."""
    values, vectors = np.linalg.eigh((H + H.T) / 2)
    floor = noise * np.sqrt(H.shape[0])
    return (vectors * np.maximum(values, floor)) @ vectors.T


@dataclass(frozen=True, eq=False, kw_only=True)
class LinearModel(LinearScore, Regressor):
    """A trained linear model: ``coef_`` and ``intercept_`` act on the original features."""

    alpha: float = 0.0

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self._linear(X)

    def to_sklearn(self) -> Any:
        """An equivalent fitted ``LinearRegression`` (or ``Ridge`` when ``alpha > 0``)."""
        from sklearn.linear_model import LinearRegression as SkLinearRegression
        from sklearn.linear_model import Ridge

        sk = Ridge(alpha=self.alpha) if self.alpha > 0 else SkLinearRegression()
        sk.coef_ = self.coef_.copy()
        sk.intercept_ = self.intercept_
        return self._named(sk)

    def _params(self) -> dict[str, Any]:
        return {
            "coef": [float(c) for c in self.coef_],
            "intercept": float(self.intercept_),
            "alpha": self.alpha,
        }


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class LinearRegression(RoundPlan):
    """Least-squares regression across lakes; ridge when ``alpha > 0``.

    With ``solver="exact"`` (the default up to 200 features) every lake sums ``X'X``,
    ``X'y`` and ``y'y`` over its rows in one round, the sums are securely aggregated and the
    coordinator solves the normal equations: the pooled least-squares solution, not an
    approximation. With ``solver="rounds"`` (the default above 200 features) it trains by
    federated averaging like the other families.

    Parameters
    ----------
    table, features, label
        The table, its numeric input columns and a numeric label.
    alpha
        Ridge penalty on the coefficients (not the intercept), as scikit-learn's ``Ridge``.
    solver
        ``"auto"``, ``"exact"`` (one round of sufficient statistics) or ``"rounds"``.
    rounds, local_epochs, learning_rate, batch_size, fedprox_mu
        How to train with ``solver="rounds"`` (see :class:`collab.plans.RoundPlan`).
    server_optimizer, server_learning_rate
        How the coordinator applies each round (see :class:`collab.plans.RoundPlan`).
    secure_aggregation, secure_threshold, dp
        Privacy; with ``dp`` the sufficient statistics get Gaussian noise calibrated to the
        published bounds of the features and the label.
    """

    model: ClassVar[str] = "linear_regression"
    model_class: ClassVar[type[Model]] = LinearModel
    task: ClassVar[str] = "regression"  # type: ignore[misc]
    metric_sums: ClassVar[tuple[str, ...]] = ("sse", "label_sum", "label_sq_sum")
    history_metrics: ClassVar[tuple[str, ...]] = ("loss", "rmse", "r2")
    primary_metric: ClassVar[str] = "r2"

    parameters: ClassVar[tuple[Param, ...]] = (
        Param(
            "alpha",
            "float",
            "Ridge penalty on the coefficients (not the intercept), as scikit-learn's Ridge.",
            low=0,
        ),
        Param(
            "solver",
            "text",
            "auto, exact (one round of sufficient statistics) or rounds.",
            choices=SOLVERS,
        ),
    )

    alpha: float = 0.0
    solver: str = "auto"
    learning_rate: float = 0.1

    def _validate(self) -> None:
        super()._validate()
        if self.dp is not None and not self.exact:
            raise PlanError(
                "a DP linear regression is solved exactly from noisy sufficient statistics: "
                f"use solver='exact' with at most {EXACT_MAX_FEATURES} features"
            )
        if self.alpha and not self.exact:
            raise PlanError(
                "alpha is the exact solver's ridge penalty; with solver='rounds' set l2 instead"
            )
        if self.solver == "exact" and self.n_inputs > EXACT_MAX_FEATURES:
            raise PlanError(
                f"solver='exact' sums a {self.n_inputs + 1}-square matrix per lake; use "
                f"at most {EXACT_MAX_FEATURES} features, or solver='rounds'"
            )

    @property
    def exact(self) -> bool:
        if self.solver == "auto":
            return self.n_inputs <= EXACT_MAX_FEATURES
        return self.solver == "exact"

    # --- checks ---------------------------------------------------------------------------
    def check_label(self, column: ColumnSchema, where: str) -> None:
        if column.kind != "numeric":
            raise PlanError(
                f"{where}: label {self.label!r} is {column.kind} ({column.type}); "
                f"{self.model} needs a numeric label. For a 0/1 label use LogisticRegression."
            )

    @property
    def dp_bounded_columns(self) -> tuple[str, ...]:
        return (*super().dp_bounded_columns, self.label)

    def dp_standardizer(self, bounds: Mapping[str, tuple[float, float]]) -> Standardizer:
        scaling = Standardizer.from_bounds(self.dp_input_bounds(bounds), bounds[self.label])
        return self.dp_fills(scaling)

    def invalid_labels(self, y: np.ndarray) -> int:
        return int(np.count_nonzero(~np.isfinite(y)))

    def _valid_mask(self, y: np.ndarray) -> np.ndarray:
        return np.isfinite(y)

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        if column.bounds is not None:
            return rng.uniform(column.bounds[0], column.bounds[1], size=n)
        return rng.standard_normal(n)

    # --- rounds (solver="rounds") ---------------------------------------------------------
    def n_weights(self, n_features: int) -> int:
        return n_features + 1

    def penalised(self, n_features: int) -> np.ndarray:
        return np.r_[np.ones(n_features), 0.0]

    def prepare_labels(self, y: np.ndarray, request: Mapping[str, Any]) -> np.ndarray:
        return (y - float(request["label_mean"])) / float(request["label_std"])

    def gradient(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        err = Z @ w[:-1] + w[-1] - t
        return np.append(Z.T @ err / len(t), err.mean())

    def metric_totals(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        # in standardised label units; round_metrics rescales
        err = Z @ w[:-1] + w[-1] - t
        return np.array([float(err @ err), float(t.sum()), float(t @ t)])

    # --- the exact solver -----------------------------------------------------------------
    @property
    def total_rounds(self) -> int:
        return 1 if self.exact else int(self.rounds)

    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        state = super().start(standardizer)
        state["std"] = standardizer.std.tolist()
        if self.exact and self.dp is None:  # solve on the label's own scale
            state["label_mean"], state["label_std"] = 0.0, 1.0
        return state

    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        if not self.exact:
            return super().round_request(state, round_)
        if round_ > 1:
            return None
        return {
            "solve": "normal_equations",
            "label_mean": state["label_mean"],
            "label_std": state["label_std"],
        }

    @property
    def evaluates_rounds(self) -> bool:
        return self.holdout > 0 and not self.exact  # the exact round carries no model yet

    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        if not self.exact or "weights" in request:  # a round's, or the final evaluation's
            return super().check_request(request, n_features)
        try:
            ok = request["solve"] == "normal_equations"
            scale, centre = float(request["label_std"]), float(request["label_mean"])
        except Exception as exc:
            raise PolicyViolation(f"round message has a bad request ({exc})") from exc
        if not ok or not (np.isfinite(scale) and scale > 0 and np.isfinite(centre)):
            raise PolicyViolation("round message has a bad request for the normal equations")

    def update_size(self, n_features: int) -> int:
        if not self.exact:
            return super().update_size(n_features)
        return Update.size(len(self.metric_sums), _gram_size(n_features))

    def _sufficient(self, Z: np.ndarray, t: np.ndarray) -> np.ndarray:
        A = np.column_stack([Z, np.ones(len(t))])
        upper = np.triu_indices(A.shape[1])
        return np.concatenate([(A.T @ A)[upper], A.T @ t, [t @ t]])

    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        if not self.exact:
            return super().local_update(Z, y, request)
        Z, t, invalid = self._usable(Z, y, request)
        return Update(
            float(len(t)),
            np.array([0.0, float(t.sum()), float(t @ t)]),
            self._sufficient(Z, t),
            float(invalid),
        )

    def dp_update(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any], clip_norm: float
    ) -> Update:
        Z, t, invalid = self._usable(Z, y, request)
        Z, t = np.clip(Z, -1.0, 1.0), np.clip(t, -1.0, 1.0)
        return Update(
            float(len(t)),
            np.array([0.0, float(t.sum()), float(t @ t)]),
            self._sufficient(Z, t),
            float(invalid),
        )

    def dp_row_bound(self, clip_norm: float) -> float:
        # one row with every scaled value in [-1, 1]: ||a a'|| <= m, ||a t|| <= sqrt(m), t^2,
        # its count, and the label sums
        m = self.n_inputs + 1
        return float(np.sqrt(m * m + m + 1.0 + 1.0 + 2.0))

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        if not self.exact:
            return super().absorb(state, update)
        if update.rows <= 0:
            raise PlanError(f"no lake has labelled rows in table {self.table!r}")
        m = self.n_inputs + 1
        v = update.values
        upper = np.triu_indices(m)
        n_upper = len(upper[0])
        G = np.zeros((m, m))
        G[upper] = v[:n_upper]
        G = G + np.triu(G, 1).T
        b, tt = v[n_upper : n_upper + m], float(v[n_upper + m])
        std = np.asarray(state["std"], dtype=np.float64)
        H = G.copy()
        H[np.arange(m - 1), np.arange(m - 1)] += float(self.alpha) / (std * std)
        if self.dp is not None:
            H = _stable(H, self._noise_scale())
        theta = np.linalg.solve(H, b)
        sse = max(tt - 2 * theta @ b + theta @ G @ theta, 0.0)
        rows = float(update.rows)
        scale = float(state["label_std"])
        sst = max(tt - b[-1] ** 2 / rows, 0.0)
        return {
            **state,
            "weights": theta.tolist(),
            "fit": {
                "loss": sse * scale * scale / rows,
                "rmse": float(np.sqrt(sse / rows)) * scale,
                "r2": 1.0 - sse / sst if sst > 0 else 0.0,
            },
        }

    def _noise_scale(self) -> float:
        """The standard deviation of the DP noise on each summed entry."""
        from ..secure import noise_multiplier_for

        dp = self.dp
        sigma = noise_multiplier_for(float(dp.epsilon), float(dp.delta), self.total_rounds)
        return sigma * self.dp_row_bound(float(dp.clip_norm))

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        if self.exact:
            return dict(state["fit"])
        rows = max(update.rows, 1e-12)
        sse, t_sum, t_sq = update.metrics
        scale = float(state["label_std"])
        sst = t_sq - t_sum * t_sum / rows
        return {
            "loss": float(sse * scale * scale / rows),
            "rmse": float(np.sqrt(max(sse, 0.0) / rows)) * scale,
            "r2": float(1.0 - sse / sst) if sst > 0 else 0.0,
        }

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> LinearModel:
        theta = np.asarray(state["weights"], dtype=np.float64)
        d = self.n_inputs
        scale, centre = float(state["label_std"]), float(state["label_mean"])
        coef = scale * theta[:d] / standardizer.std
        intercept = centre + scale * theta[d] - float(coef @ standardizer.mean)
        return LinearModel(
            features=self.input_names,
            label=self.label,
            coef_=coef,
            intercept_=intercept,
            alpha=float(self.alpha),
            feature_means_=standardizer.mean,
            **context,
        )
