"""Quantiles read off a pooled histogram whose small cells were blanked, with their error."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def quantiles_from_histogram(
    edges: np.ndarray, counts: np.ndarray, total: float, quantiles: Sequence[float] = QUANTILES
) -> tuple[dict[str, float], dict[str, float]]:
    """Quantiles read off a histogram, and how far each may be from the pooled rows' own.

    A quantile's rank falls in the first bin whose cumulative count reaches it; the estimate
    interpolates linearly inside that bin (suppressed rows spread evenly over the suppressed
    bins), and its stated error is the distance to the far end of the bins the rank can lie
    in whatever the suppressed bins hold. Values
    outside the published bounds were counted in the end bins, so an end bin's error reaches
    no further than the bounds.
    """
    estimates, errors = {}, {}
    blank = np.isnan(counts)
    known = np.where(blank, 0.0, counts)
    unknown = max(total - known.sum(), 0.0)  # rows in suppressed bins
    # the pooled count up to each bin's end: at least the known bins', at most that plus the
    # suppressed rows once a suppressed bin has been passed
    fewest = np.cumsum(known)
    most = fewest + np.where(np.cumsum(blank) > 0, unknown, 0.0)
    last_bin = len(counts) - 1
    # the estimate spreads the suppressed rows evenly over the suppressed bins
    spread = known + np.where(blank, unknown / max(int(blank.sum()), 1), 0.0)
    filled = np.cumsum(spread)

    def first_reaching(cumulative: np.ndarray, rank: float) -> int:
        reached = np.flatnonzero(cumulative >= rank - 1e-9)
        return int(reached[0]) if reached.size else last_bin

    for q in quantiles:
        name = f"q{round(q * 100):02d}"
        rank = q * (total - 1) + 1  # pandas interpolates between these order statistics
        first = first_reaching(most, np.floor(rank))
        last = first_reaching(fewest, np.ceil(rank))
        bin_ = first_reaching(filled, rank)
        before = filled[bin_] - spread[bin_]
        fraction = (rank - before) / spread[bin_] if spread[bin_] > 0 else 0.5
        width = edges[bin_ + 1] - edges[bin_]
        estimate = edges[bin_] + float(np.clip(fraction, 0.0, 1.0)) * width
        estimates[name] = float(estimate)
        low, high = edges[min(first, bin_)], edges[max(last, bin_) + 1]
        errors[name] = float(max(estimate - low, high - estimate))
    return estimates, errors
