"""Differential privacy: the plan's setting, noise calibration with Google's dp-accounting."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class DP:
    """Differentially private training to ``(epsilon, delta)`` over the whole plan.

    Each round every row's gradient is clipped to L2 norm ``clip_norm``; Gaussian noise
    calibrated by an RDP accountant over all rounds is added to the sums, split between the
    lakes so that their aggregate carries it in full.
    """

    epsilon: float
    delta: float = 1e-5
    clip_norm: float = 1.0

    def __post_init__(self) -> None:
        from .._errors import PlanError

        if not (
            isinstance(self.epsilon, int | float)
            and math.isfinite(self.epsilon)
            and self.epsilon > 0
        ):
            raise PlanError(f"DP epsilon must be a positive number, not {self.epsilon!r}")
        for name in ("delta", "clip_norm"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PlanError(f"DP {name} must be a number, not {value!r}")
        if not 0 < self.delta < 1:
            raise PlanError(f"DP delta must be between 0 and 1, not {self.delta!r}")
        if not self.clip_norm > 0:
            raise PlanError(f"DP clip_norm must be positive, not {self.clip_norm!r}")


def epsilon_spent(noise_multiplier: float, delta: float, rounds: int) -> float:
    """Epsilon after ``rounds`` full-batch Gaussian releases with this noise multiplier."""
    from dp_accounting import dp_event, rdp

    accountant = rdp.RdpAccountant()
    accountant.compose(
        dp_event.SelfComposedDpEvent(dp_event.GaussianDpEvent(noise_multiplier), rounds)
    )
    return float(accountant.get_epsilon(delta))


@lru_cache(maxsize=256)
def noise_multiplier_for(epsilon: float, delta: float, rounds: int) -> float:
    """The smallest noise multiplier (to 0.1%) that keeps ``rounds`` releases within
    ``(epsilon, delta)``."""
    low, high = 1e-3, 1.0
    while epsilon_spent(high, delta, rounds) > epsilon:
        high *= 2
    while high - low > 1e-3 * high:
        middle = (low + high) / 2
        if epsilon_spent(middle, delta, rounds) > epsilon:
            low = middle
        else:
            high = middle
    return high


def clip_rows(rows: np.ndarray, clip_norm: float) -> np.ndarray:
    """Each row scaled down to L2 norm at most ``clip_norm``."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-12))


def privatise(
    vector: np.ndarray, dp: DP, *, releases: int, row_bound: float, shares: int
) -> np.ndarray:
    """One lake's DP answer for a release: its bounded sums plus its share of the noise.

    ``vector`` changes by at most ``row_bound`` in L2 norm when one row is added or removed;
    the plan makes ``releases`` such releases in all. ``shares`` lakes at least are summed in
    any completed round, so each adds variance ``(sigma * row_bound)**2 / shares`` and their
    aggregate carries the full noise.
    """
    sigma = noise_multiplier_for(float(dp.epsilon), float(dp.delta), int(releases))
    scale = sigma * row_bound / np.sqrt(max(shares, 1))
    rng = np.random.default_rng(secrets.randbits(128))
    return vector + rng.normal(0.0, scale, size=vector.shape)
