"""A trained Cox proportional hazards model, with lifelines' names for what it learned."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._model import Model, ModelCard

_NORMAL = NormalDist()


@dataclass(frozen=True, eq=False, kw_only=True)
class CoxModel(Model):
    """A Cox model: ``coef_`` (log hazard ratios, one per input; 0 for each categorical
    feature's first published category, its reference), their ``covariance_`` (the inverse
    of the binned information matrix), the baseline hazard per bin of the time grid, and the
    concordance index on the training rows. Hazards are relative to the training rows' mean
    inputs (``feature_means_``), as lifelines centres them."""

    view: ClassVar[str] = "report"
    task: ClassVar[str] = "survival"

    duration: str
    coef_: np.ndarray
    covariance_: np.ndarray
    baseline_times_: np.ndarray
    baseline_hazard_: np.ndarray
    concordance_index_: float = float("nan")
    concordance_error_: float = float("nan")
    log_likelihood_: float = float("nan")
    score_scale_: float = 1.0
    reference: tuple[str, ...] = ()
    converged: bool = True
    ties: str = "efron"

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("coef_", "covariance_", "baseline_times_", "baseline_hazard_"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        object.__setattr__(self, "reference", tuple(self.reference))

    def _learned_shapes(self) -> dict[str, tuple[Any, tuple[int, ...]]]:
        d, b = len(self.features), len(self.baseline_times_)
        return {
            **super()._learned_shapes(),
            "coef_": (self.coef_, (d,)),
            "covariance_": (self.covariance_, (d, d)),
            "baseline_hazard_": (self.baseline_hazard_, (b,)),
        }

    # --- what was learned ---------------------------------------------------------------------
    @property
    def _estimated(self) -> list[int]:
        return [i for i, f in enumerate(self.features) if f not in self.reference]

    @property
    def params_(self) -> pd.Series:
        """The log hazard ratio of each input (the reference categories left out)."""
        kept = self._estimated
        index = pd.Index([self.features[i] for i in kept], name="covariate")
        return pd.Series(self.coef_[kept], index=index, name="coef")

    @property
    def standard_errors_(self) -> pd.Series:
        kept = self._estimated
        se = np.sqrt(np.maximum(np.diag(self.covariance_)[kept], 0.0))
        index = pd.Index([self.features[i] for i in kept], name="covariate")
        return pd.Series(se, index=index, name="se(coef)")

    @property
    def hazard_ratios_(self) -> pd.Series:
        return np.exp(self.params_).rename("exp(coef)")

    @property
    def summary(self) -> pd.DataFrame:
        """coef, exp(coef), se(coef), 95% bounds, z, p and -log2(p), as lifelines prints."""
        coef, se = self.params_, self.standard_errors_
        z_crit = _NORMAL.inv_cdf(0.975)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = coef / se
            p = pd.Series(
                [2 * (1 - _NORMAL.cdf(abs(v))) if np.isfinite(v) else np.nan for v in z],
                index=coef.index,
            )
            frame = pd.DataFrame(
                {
                    "coef": coef,
                    "exp(coef)": np.exp(coef),
                    "se(coef)": se,
                    "coef lower 95%": coef - z_crit * se,
                    "coef upper 95%": coef + z_crit * se,
                    "exp(coef) lower 95%": np.exp(coef - z_crit * se),
                    "exp(coef) upper 95%": np.exp(coef + z_crit * se),
                    "cmp to": 0.0,
                    "z": z,
                    "p": p,
                    "-log2(p)": -np.log2(p),
                }
            )
        return frame

    @property
    def baseline_cumulative_hazard_(self) -> pd.DataFrame:
        index = pd.Index(self.baseline_times_, name="time")
        return pd.DataFrame(
            {"baseline cumulative hazard": np.cumsum(self.baseline_hazard_)}, index=index
        )

    @property
    def baseline_survival_(self) -> pd.DataFrame:
        """Survival at the mean inputs at the end of each bin of the time grid."""
        hazard = self.baseline_cumulative_hazard_
        return pd.DataFrame(
            {"baseline survival": np.exp(-hazard.iloc[:, 0].to_numpy())}, index=hazard.index
        )

    # --- predictions --------------------------------------------------------------------------
    def predict_log_partial_hazard(self, X: pd.DataFrame | np.ndarray) -> pd.Series:
        M = self._matrix(X)
        values = (M - self.feature_means_) @ self.coef_
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.Series(values, index=index)

    def predict_partial_hazard(self, X: pd.DataFrame | np.ndarray) -> pd.Series:
        """``exp((x - mean) . coef)`` per row: the hazard relative to the mean inputs."""
        return np.exp(self.predict_log_partial_hazard(X))

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The partial hazard of each row (higher: the event sooner)."""
        return self.predict_partial_hazard(X).to_numpy()

    def _baseline_at(self, times: np.ndarray) -> np.ndarray:
        """Baseline survival at ``times``: the cumulative hazard interpolated linearly inside
        each bin of the grid (from 0 at time 0), held after the last."""
        cumulative = np.cumsum(self.baseline_hazard_)
        ends = self.baseline_times_
        hazard = np.interp(times, np.r_[0.0, ends], np.r_[0.0, cumulative])
        return np.exp(-hazard)

    def predict_survival_function(
        self, X: pd.DataFrame | np.ndarray, times: Any = None
    ) -> pd.DataFrame:
        """Survival of each row (columns) at ``times`` (rows; the grid's bin ends by
        default), the baseline's cumulative hazard read linearly inside a bin."""
        at = self.baseline_times_ if times is None else np.atleast_1d(np.asarray(times, float))
        base = self._baseline_at(at)
        hazard = self.predict_partial_hazard(X)
        values = base[:, None] ** hazard.to_numpy()[None, :]
        return pd.DataFrame(values, index=pd.Index(at, name="time"), columns=hazard.index)

    def predict_median(self, X: pd.DataFrame | np.ndarray) -> pd.Series:
        """The first bin end at which each row's survival is at most 0.5 (inf when never)."""
        curves = self.predict_survival_function(X)
        below = curves.to_numpy() <= 0.5
        times = curves.index.to_numpy()
        first = np.where(below.any(axis=0), times[np.argmax(below, axis=0)], np.inf)
        return pd.Series(first, index=curves.columns, name="median")

    # --- records ------------------------------------------------------------------------------
    def report_table(self) -> dict[str, Any]:
        summary = self.summary
        rows = [
            [name, float(r["coef"]), float(r["exp(coef)"]), float(r["se(coef)"]), float(r["p"])]
            for name, r in summary.iterrows()
        ]
        return {
            "title": "Cox proportional hazards",
            "header": ["covariate", "coef", "exp(coef)", "se(coef)", "p"],
            "rows": rows,
            "note": (
                f"concordance {self.concordance_index_:.3f} (± {self.concordance_error_:.3f}) on "
                f"the training rows; reference categories: {', '.join(self.reference) or 'none'}"
            ),
        }

    def card(self) -> ModelCard:
        card = super().card()
        facts = dict(card.facts)
        facts["duration"] = self.duration
        facts["training_metrics"] = {
            **facts.get("training_metrics", {}),
            "concordance_index": self.concordance_index_,
            "concordance_index_error": self.concordance_error_,
        }
        return ModelCard(facts)

    def evaluate(self, fed: Any, table: str, *, timeout: float | None = None) -> dict[str, Any]:
        """The concordance index of this model on every row of ``table`` in ``fed`` (lakes
        that took no part in training), with its stated error, from counts pooled like the
        training's; approved by the owners like a plan."""
        from .._registry import plan_class

        request = plan_class("cox_evaluation").of(self, table)  # type: ignore[attr-defined]
        return fed.submit(request).result(timeout=timeout)  # type: ignore[no-any-return]
