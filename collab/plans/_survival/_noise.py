"""Differential privacy for survival requests: Gaussian noise on the sums a lake releases per
bin, calibrated and charged like every other DP plan (:mod:`collab.secure`).

With DP a lake merges no bins (the noise protects small cells instead, as for ``describe``)
and adds its share of noise calibrated by the RDP accountant over all the request's rounds;
the plan's epsilon is charged once, when the owner approves it. The time grid is not read
from the rows: it is uniform over the duration's published bounds (or the times asked for),
so it costs nothing.

Sensitivity (adding or removing one row, L2 norm of the change of the released vector):

* Kaplan-Meier / log-rank counts: a row leaves follow-up in exactly one bin, so it adds 1 to
  one leaving count, at most 1 to one event count, and 1 to the row count: ``sqrt(3)``. The
  numbers at risk are cumulative sums of the leaving counts, taken by the coordinator.
* Cox, a Newton round: the features are scaled to [0, 1] by their published bounds and
  clipped there, the centre the request carries must lie in [0, 1], so a row's centred
  features ``xc`` have ``|xc| <= sqrt(p)`` (``p`` coefficients); its risk weight
  ``w = exp(xc b)`` is clipped to at most ``exp(RISK_CLIP)``. The row adds ``w``, ``w xc``
  and ``w xc xc'`` (upper triangle) and ``1`` (the rows leaving) to its leaving bin, and if
  an event ``1``, ``xc`` and the same three weighted sums to that bin's event parts. Each of
  these nine parts is divided by its bound (``W``, ``W sqrt(p)``, ``W p``, ``1``,
  ``sqrt(p)``, ``W``, ``W sqrt(p)``, ``W p``, ``1`` with ``W = exp(RISK_CLIP)``;
  ``|xc xc'| <= |xc|**2 <= p``) before release and multiplied back after pooling, so each
  contributes at most 1: with the row count, ``sqrt(10)``. The concordance round's counts:
  ``sqrt(3)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..._errors import PlanError
from ..._schema import TableSchema
from ._time import SurvivalRows

GRID_BINS = 99
"""Bins of a grid over the duration's published bounds without DP (at most ``max_bins - 1``;
each lake merges them into its runs before release)."""
CURVE_BINS = 20
"""Bins of a DP Kaplan-Meier or log-rank grid over the duration's published bounds."""
COX_BINS = 10
"""Bins of a DP Cox grid over the duration's published bounds (fewer bins: less noise in the
risk sets, summed over the bins above)."""
RISK_CLIP = 2.0
"""A DP Cox row's risk weight ``exp(xc b)`` is clipped to at most ``exp(RISK_CLIP)``."""
DROP_SIGMAS = 5.0
"""A DP Cox bin whose noisy risk set is below this many standard deviations of its noise
counts no events (its risk-set ratios would be noise)."""
COUNTS_ROW_BOUND = float(np.sqrt(3.0))
COX_ROW_BOUND = float(np.sqrt(10.0))
MAX_STEP = 1.0
"""A DP Newton step moves no coefficient more than this (in units of the feature's published
range): noisy curvature must not throw the fit far away."""


def uniform_times(
    schemas: Mapping[str, TableSchema], duration: str, bins: int
) -> tuple[float, ...]:
    """The ends of ``bins`` equal bins over ``duration``'s published bounds (the same on every
    lake; public, so no round reads a grid from the rows): :class:`PlanError` naming the
    lake, table and column where there are none."""
    seen = {}
    for lake, schema in schemas.items():
        bounds = schema.column(duration).bounds
        if bounds is None:
            raise PlanError(
                f"lake {lake!r}, table {schema.name!r}: duration column {duration!r} has no "
                "published bounds, so a survival request has no agreed time grid (a grid read "
                "from the rows could isolate patients). Ask the owner to publish them "
                "(add_table(..., bounds={...})), or pass times=[...]"
            )
        seen[lake] = (float(bounds[0]), float(bounds[1]))
    if len(set(seen.values())) > 1:
        raise PlanError(
            f"duration column {duration!r} has different published bounds on different lakes "
            f"({seen}); a DP survival request needs one range: ask the owners, or pass "
            "times=[...]"
        )
    low, high = next(iter(seen.values()))
    low = max(low, 0.0)
    if not high > low:
        raise PlanError(f"duration column {duration!r} has an empty published range")
    return tuple(float(t) for t in np.linspace(low, high, bins + 1)[1:])


def noise_std(plan: Any, row_bound: float, lakes: int) -> float:
    """The standard deviation of a DP ``plan``'s noise on each pooled sum over ``lakes``
    lakes: each adds ``1/shares`` of the variance (see :func:`collab.secure.privatise`)."""
    from ...secure import secure_threshold

    n = max(int(lakes), 1)
    shares = secure_threshold(n, plan.secure_threshold) if plan.secure_aggregation else 1
    return least_noise_std(plan.dp, plan.total_rounds, row_bound) * float(np.sqrt(n / shares))


def least_noise_std(dp: Any, releases: int, row_bound: float) -> float:
    """The smallest the noise on a pooled sum can be (every lake of a round summed)."""
    from ...secure import noise_multiplier_for

    sigma = noise_multiplier_for(float(dp.epsilon), float(dp.delta), int(releases))
    return float(sigma * row_bound)


def clean_counts(counts: np.ndarray) -> np.ndarray:
    """Noisy pooled counts ``(..., bins, [events, leaving])`` made consistent: leaving counts
    at least 0 and events between 0 and the bin's leaving count, so that the numbers at risk
    (cumulative sums from the last bin) never increase, every bin's factor ``1 - d / n`` lies
    in [0, 1] and a curve from them stays monotone in [0, 1]."""
    out = np.asarray(counts, dtype=np.float64).copy()
    out[..., 1] = np.maximum(out[..., 1], 0.0)
    out[..., 0] = np.clip(out[..., 0], 0.0, out[..., 1])
    return out


# --- Cox ----------------------------------------------------------------------------------


class BoundedSurvivalRows(SurvivalRows):
    """A DP Cox plan's rows: the design's inputs scaled to [0, 1] by their published bounds
    (``low``, ``width``) and clipped there, the duration kept last."""

    def __init__(
        self,
        design: Any,
        fills: Mapping[str, float],
        kept: Sequence[int],
        low: np.ndarray,
        width: np.ndarray,
    ) -> None:
        super().__init__(design, fills, kept)
        self.low = np.asarray(low, dtype=np.float64)
        self.width = np.asarray(width, dtype=np.float64)

    @property
    def key(self) -> str:
        data = json.dumps([super().key, self.low.tolist(), self.width.tolist()])
        return hashlib.sha256(data.encode()).hexdigest()[:20]

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = super().transform(X)
        out[:, :-1] = np.clip((out[:, :-1] - self.low) / self.width, 0.0, 1.0)
        return out


def input_range(standardizer: Any, kept: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The low end and width of each kept input's published range, from a DP plan's
    standardizer (midpoints and half-ranges)."""
    mean = np.asarray(standardizer.mean, dtype=np.float64)[list(kept)]
    half = np.asarray(standardizer.std, dtype=np.float64)[list(kept)]
    return mean - half, np.maximum(2.0 * half, 1e-12)


def part_bounds(p: int) -> np.ndarray:
    """Per value of a Cox bin (``L0, L1, L2, D, Dx, E0, E1, E2, N``), the bound its part's
    per-row L2 norm has (see the module's docstring)."""
    q = p * (p + 1) // 2
    w, r, s = float(np.exp(RISK_CLIP)), float(np.sqrt(max(p, 1))), float(max(p, 1))
    weighted = [[w], np.full(p, w * r), np.full(q, w * s)]  # L0, L1, L2 and E0, E1, E2
    return np.concatenate([*weighted, [1.0], np.full(p, r), *weighted, [1.0]])


def scaled_bins(values: np.ndarray, n_bins: int, p: int, divide: bool) -> np.ndarray:
    """A Newton round's per-bin values (after the two-value head) divided by (lake) or
    multiplied back by (coordinator) :func:`part_bounds`."""
    bounds = part_bounds(p)
    out = np.asarray(values, dtype=np.float64).copy()
    size = n_bins * len(bounds)
    per_bin = out[2 : 2 + size].reshape(n_bins, len(bounds))
    out[2 : 2 + size] = (per_bin / bounds if divide else per_bin * bounds).ravel()
    return out


def clean_newton(s: dict[str, np.ndarray], floor: float) -> dict[str, np.ndarray]:
    """A Newton round's noisy pooled sums per bin made usable: event counts whole and not
    negative, rows' weights not negative, and every bin whose risk set (summed from the last
    bin down) is below ``floor`` times the square root of the bins summed (its noise's
    spread) counting no events; the events' weight at most the bin's risk set."""
    out = {k: np.asarray(v, dtype=np.float64).copy() for k, v in s.items()}
    out["L0"] = np.maximum(out["L0"], 0.0)
    risk = np.cumsum(out["L0"][::-1, 0])[::-1]
    spread = floor * np.sqrt(np.arange(len(risk), 0, -1, dtype=np.float64))
    events = np.maximum(np.rint(out["D"][:, 0]), 0.0)
    events[risk <= spread] = 0.0
    out["D"][:, 0] = events
    dropped = events == 0
    for name in ("Dx", "E0", "E1", "E2"):
        out[name][dropped] = 0.0
    most = np.minimum(events * float(np.exp(RISK_CLIP)), risk)
    out["E0"][:, 0] = np.clip(out["E0"][:, 0], 0.0, most)
    return out


def definite(hessian: np.ndarray) -> np.ndarray:
    """A noisy Hessian made symmetric and negative definite: the information's eigenvalues
    at least 5% of its largest, so that a Newton step and the standard errors exist."""
    information = -(hessian + hessian.T) / 2
    values, vectors = np.linalg.eigh(information)
    largest = max(float(values.max()), 1e-9) if len(values) else 1.0
    return -((vectors * np.maximum(values, 0.05 * largest)) @ vectors.T)


def capped(step: np.ndarray) -> np.ndarray:
    """A DP Newton step shortened to move no coefficient more than :data:`MAX_STEP`."""
    size = float(np.abs(step).max()) if len(step) else 0.0
    return step * min(1.0, MAX_STEP / size) if size > 0 else step


def in_raw_units(
    beta: np.ndarray, covariance: np.ndarray, centre: np.ndarray, low: np.ndarray, width: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, their covariance and the centre fitted on inputs scaled to [0, 1], in
    the inputs' own units (the risk scores are the same)."""
    return beta / width, covariance / np.outer(width, width), low + width * centre
