"""The typed answer of one local step: what a lake's rows add to the round's sum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# rows, then the count of rows whose label the family cannot use (checked by the lake, never
# released), then the family's metric sums, then its values
_HEAD = 2


@dataclass(frozen=True)
class Update:
    """Sums over a block of rows, in a layout that adds up across blocks and lakes.

    ``values`` are the family's own sums (a weighted change of parameters, sufficient
    statistics, histograms); ``metrics`` are per-row sums named by the family's
    ``metric_sums`` (a loss, correct predictions); ``rows`` counts the labelled rows used.
    ``invalid`` counts rows whose label the family cannot use: the lake refuses the step when
    it is not zero and never releases it.
    """

    rows: float
    metrics: np.ndarray
    values: np.ndarray
    invalid: float = 0.0

    @staticmethod
    def size(n_metrics: int, n_values: int) -> int:
        return _HEAD + n_metrics + n_values

    def flat(self) -> np.ndarray:
        return np.concatenate(
            [[float(self.rows), float(self.invalid)], self.metrics, self.values]
        ).astype(np.float64, copy=False)

    def released(self) -> np.ndarray:
        """The flat vector a lake may send: everything but the invalid-label count."""
        vector = self.flat()
        vector[1] = 0.0
        return vector

    @classmethod
    def from_flat(cls, vector: np.ndarray, n_metrics: int) -> Update:
        vector = np.asarray(vector, dtype=np.float64)
        return cls(
            rows=float(vector[0]),
            invalid=float(vector[1]),
            metrics=vector[_HEAD : _HEAD + n_metrics],
            values=vector[_HEAD + n_metrics :],
        )

    @classmethod
    def empty(cls, n_metrics: int, n_values: int) -> Update:
        return cls(0.0, np.zeros(n_metrics), np.zeros(n_values))
