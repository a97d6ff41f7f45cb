"""Drift of a followed model: the Page-Hinkley test over the sequence of its updates.

Each update of a followed job first tests the current model on the update's new rows
(test-then-train). The Page-Hinkley test (Page, 1954; as River's ``drift.PageHinkley``
runs it) accumulates how far each value of that loss lies above the running mean, less a
tolerance ``delta``, and flags drift when the sum climbs more than ``threshold`` above its
lowest point. Here both are measured in the update-to-update noise of the loss (the mean
absolute change between consecutive updates seen so far), so that a steady stream, whose
losses wander by about that much, is not flagged, and a loss that jumps far beyond it is.
After a flag the test starts again from the next update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


class DriftWarning(UserWarning):
    """A followed model's test-then-train loss rose beyond its update-to-update noise."""


@dataclass
class PageHinkley:
    """One-sided Page-Hinkley test for a rise of a loss (lower is better).

    ``min_updates`` values are seen before any flag; ``delta`` and ``threshold`` are in
    units of the noise, which is never taken below ``floor``.
    """

    min_updates: int = 3
    delta: float = 0.5
    threshold: float = 6.0
    floor: float = 0.01
    values: list[float] = field(default_factory=list)
    _sum: float = 0.0
    _lowest: float = 0.0

    @property
    def noise(self) -> float:
        steps = [abs(b - a) for a, b in zip(self.values, self.values[1:], strict=False)]
        return max(self.floor, sum(steps) / len(steps)) if steps else self.floor

    def update(self, value: float) -> bool:
        """Take the next update's loss; whether it flags drift."""
        if value is None or not math.isfinite(value):
            return False
        if len(self.values) < self.min_updates:
            self.values.append(value)
            return False
        noise = self.noise
        self.values.append(value)
        mean = sum(self.values) / len(self.values)
        self._sum += value - mean - self.delta * noise
        self._lowest = min(self._lowest, self._sum)
        if self._sum - self._lowest > self.threshold * noise:
            self.values, self._sum, self._lowest = [], 0.0, 0.0  # start again after the change
            return True
        return False
