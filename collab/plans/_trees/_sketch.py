"""The quantile sketch a lake counts a number's values in: fixed log-spaced cells, the same
on every lake, so that counts add up under secure aggregation."""

from __future__ import annotations

import math

import numpy as np

# The quantile sketch: cells (m * GAMMA**(k-1), m * GAMMA**k] for magnitudes from m = 1e-6 to
# 1e9 on either side of a zero cell |v| <= m, so a cell's values agree to within 5%.
SKETCH_GAMMA = 1.1
SKETCH_SMALLEST = 1e-6
SKETCH_PER_SIGN = math.ceil(math.log(1e15) / math.log(SKETCH_GAMMA))
SKETCH_CELLS = 2 * SKETCH_PER_SIGN + 1


def sketch_cells(values: np.ndarray) -> np.ndarray:
    """Each (non-missing) value's sketch cell, cells ordered by value."""
    magnitude = np.abs(values)
    k = np.ceil(
        np.log(np.maximum(magnitude, SKETCH_SMALLEST) / SKETCH_SMALLEST) / np.log(SKETCH_GAMMA)
    )
    k = np.clip(k, 1, SKETCH_PER_SIGN).astype(np.int64)
    cell = np.where(values > 0, SKETCH_PER_SIGN + k, SKETCH_PER_SIGN - k)
    return np.where(magnitude <= SKETCH_SMALLEST, SKETCH_PER_SIGN, cell)


def sketch_upper_bounds() -> np.ndarray:
    """The largest value of each cell (a value at most this lies in the cell or below)."""
    k = np.arange(1, SKETCH_PER_SIGN + 1, dtype=np.float64)
    positive = SKETCH_SMALLEST * SKETCH_GAMMA**k
    negative = -SKETCH_SMALLEST * SKETCH_GAMMA ** (k - 1)
    return np.concatenate([negative[::-1], [SKETCH_SMALLEST], positive])


def coarsened(counts: np.ndarray, min_rows: int) -> np.ndarray:
    """A lake's sketch with every released cell holding at least ``min_rows`` rows: runs of
    cells are merged (from the smallest values up) into the run's last cell until they hold
    ``min_rows``; a remainder joins the last released cell. Totals are kept."""
    out = np.zeros_like(counts)
    running, last = 0.0, -1
    for i in np.flatnonzero(counts):
        running += counts[i]
        if running >= min_rows:
            out[i], running, last = running, 0.0, i
    if running:
        if last >= 0:
            out[last] += running
        # fewer than min_rows values in all: the lake releases none of them
    return out


def quantile_edges(counts: np.ndarray, max_bins: int) -> list[float]:
    """Bin edges at the ``k / max_bins`` quantiles of a pooled sketch (distinct, and below
    its largest value, so that each edge splits)."""
    total = counts.sum()
    if total <= 0:
        return []
    upper = sketch_upper_bounds()
    cumulative = np.cumsum(counts)
    ranks = total * np.arange(1, max_bins) / max_bins
    cells = np.searchsorted(cumulative, ranks, side="left")
    top = int(np.flatnonzero(counts > 0)[-1])
    return sorted({float(upper[c]) for c in cells if c < top})
