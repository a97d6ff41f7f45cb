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


# --- quantiles from pooled counts of rows below thresholds --------------------------------
# A describe request refines each quantile in further rounds: the coordinator sends
# thresholds inside the interval the quantile can lie in, each lake answers how many of its
# rows lie below each one (blanking a count, or its complement, below its min_rows), and the
# pooled counts narrow the interval. Thresholds lie on a grid of GRID steps of the published
# range, at most THRESHOLDS per quantile, column and round.
GRID = 2**16
THRESHOLDS = 15


def histogram_facts(
    edges: np.ndarray, counts: np.ndarray, total: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What a histogram (NaN where blanked) says of the pooled count of rows below each
    inner edge: the edges, the fewest and most rows below each, and an estimate."""
    blank = np.isnan(counts)
    known = np.where(blank, 0.0, counts)
    unknown = max(total - known.sum(), 0.0)
    before = np.cumsum(known)[:-1]  # rows below edge i+1 in the known bins before it
    from_after = total - (known.sum() - before)  # all rows less those known after it
    blank_before = np.cumsum(blank)[:-1] > 0
    blank_after = np.cumsum(blank[::-1])[::-1][1:] > 0
    fewest = np.where(blank_after, before, np.maximum(before, from_after))
    most = np.where(blank_before, before + unknown, before)
    most = np.where(blank_after, most, np.minimum(most, from_after))
    spread = known + np.where(blank, unknown / max(int(blank.sum()), 1), 0.0)
    estimate = np.clip(np.cumsum(spread)[:-1], fewest, most)
    return edges[1:-1].astype(float), fewest, np.maximum(most, fewest), estimate


def threshold_facts(
    thresholds: np.ndarray,
    released: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    slack: float,
    total: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pooled counts below ``thresholds`` as the lakes released them: ``low`` lakes blanked a
    count below their minimum (released 0, so up to ``slack`` more rows each), ``high`` ones
    a complement (released all their rows, so up to ``slack`` fewer each)."""
    fewest = np.clip(released - slack * high, 0.0, total)
    most = np.clip(released + slack * low, 0.0, total)
    estimate = np.clip(released + slack / 2 * (low - high), fewest, most)
    return thresholds.astype(float), fewest, most, estimate


def _merged(
    facts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    bounds: tuple[float, float],
    total: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t = np.concatenate([[bounds[0]], *[f[0] for f in facts], [bounds[1]]])
    fewest = np.concatenate([[0.0], *[f[1] for f in facts], [total]])
    most = np.concatenate([[0.0], *[f[2] for f in facts], [total]])
    estimate = np.concatenate([[0.0], *[f[3] for f in facts], [total]])
    order = np.argsort(t, kind="stable")
    t, fewest, most, estimate = t[order], fewest[order], most[order], estimate[order]
    # counts below a threshold never fall as it rises
    fewest = np.maximum.accumulate(fewest)
    most = np.minimum.accumulate(most[::-1])[::-1]
    estimate = np.clip(np.maximum.accumulate(estimate), fewest, most)
    return t, fewest, most, estimate


def _bracket(t: np.ndarray, fewest: np.ndarray, most: np.ndarray, k: int) -> tuple[float, float]:
    """Where the k-th smallest value (1-based) lies: at or above the last threshold with at
    most k - 1 rows below it, below the first with at least k."""
    below = np.flatnonzero(most <= k - 1 + 1e-9)
    above = np.flatnonzero(fewest >= k - 1e-9)
    return float(t[below[-1]] if below.size else t[0]), float(t[above[0]] if above.size else t[-1])


def _ranks(q: float, total: float) -> tuple[int, int, float]:
    """pandas' quantile: the order statistics it interpolates between, and the fraction."""
    h = q * (total - 1) + 1
    k = int(np.floor(h + 1e-9))
    fraction = h - k
    return k, (k + 1 if fraction > 1e-9 and k + 1 <= total else k), fraction


def quantiles_from_counts(
    facts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    bounds: tuple[float, float],
    total: float,
    quantiles: Sequence[float] = QUANTILES,
) -> tuple[dict[str, float], dict[str, float]]:
    """Quantiles from what is known of the pooled counts below thresholds (histogram edges
    and refined thresholds), and how far each may be from the pooled rows' own: the true
    quantile lies between the brackets of the two order statistics pandas interpolates
    between (values outside the published bounds are taken at the bounds)."""
    t, fewest, most, estimate = _merged(facts, bounds, total)
    estimates, errors = {}, {}
    for q in quantiles:
        name = f"q{round(q * 100):02d}"
        k, k2, fraction = _ranks(q, total)
        low, _ = _bracket(t, fewest, most, k)
        _, high = _bracket(t, fewest, most, k2)

        def value(rank: int) -> float:
            a, b = _bracket(t, fewest, most, rank)
            x = float(np.interp(rank - 0.5, estimate, t)) if estimate[-1] > estimate[0] else a
            return float(np.clip(x, a, b))

        first = value(k)
        guess = first + fraction * (value(k2) - first)
        estimates[name] = guess
        errors[name] = float(max(guess - low, high - guess, 0.0))
    return estimates, errors


def next_thresholds(
    facts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    bounds: tuple[float, float],
    total: float,
    quantiles: Sequence[float] = QUANTILES,
) -> list[int]:
    """The grid steps to ask about next: for each quantile, THRESHOLDS evenly inside the
    interval it can lie in, leaving out those already asked; sorted."""
    t, fewest, most, _ = _merged(facts, bounds, total)
    low, width = bounds[0], bounds[1] - bounds[0]
    asked = {round(float((x - low) / width * GRID)) for x in t}
    chosen: set[int] = set()
    for q in quantiles:
        k, k2, _ = _ranks(q, total)
        a, _ = _bracket(t, fewest, most, k)
        _, b = _bracket(t, fewest, most, k2)
        for j in range(1, THRESHOLDS + 1):
            step = round(float((a + j * (b - a) / (THRESHOLDS + 1) - low) / width * GRID))
            if 0 < step < GRID and step not in asked and a < low + step * width / GRID < b:
                chosen.add(step)
    return sorted(chosen)
