"""Harrell's concordance index from counts a lake can release: per time bin and per bin of
the risk score, the events and the rows whose follow-up ends there.

Pairs are ordered by time bin: an event is compared with every row ending in a later bin
(concordant when that row's risk score is lower). Pairs inside one score bin count half;
pairs inside one time bin are left out. The stated error bounds what the bins hide: half
the share of compared pairs tied in score, and the share of pairs left out in a time bin
(each could be concordant or not).
"""

from __future__ import annotations

import numpy as np

SCORE_BINS = 100


def score_bins(eta: np.ndarray, scale: float) -> np.ndarray:
    """Each linear predictor's bin: its logistic transform on the predictors' spread, in
    ``SCORE_BINS`` equal bins (finer where most scores are)."""
    u = 1.0 / (1.0 + np.exp(-np.clip(1.7 * eta / scale, -700, 700)))
    return np.clip((u * SCORE_BINS).astype(np.int64), 0, SCORE_BINS - 1)


def concordance(events: np.ndarray, rows: np.ndarray) -> tuple[float, float]:
    """The concordance index and its stated error from pooled counts: ``events[b, s]`` and
    ``rows[b, s]`` per time bin ``b`` and score bin ``s`` (higher score: higher risk)."""
    events = np.maximum(np.asarray(events, dtype=np.float64), 0.0)
    rows = np.maximum(np.asarray(rows, dtype=np.float64), 0.0)
    later = np.cumsum(rows[::-1], axis=0)[::-1]
    later = np.vstack([later[1:], np.zeros((1, rows.shape[1]))])  # rows in later bins
    below = np.cumsum(later, axis=1) - later  # of those, with a lower score
    concordant = float((events * below).sum())
    tied = float((events * later).sum())
    pairs = float((events.sum(axis=1) * later.sum(axis=1)).sum())
    same_bin = float((events.sum(axis=1) * np.maximum(rows.sum(axis=1) - 1, 0) / 2).sum())
    if pairs <= 0:
        return float("nan"), float("nan")
    c_index = (concordant + 0.5 * tied) / pairs
    error = 0.5 * tied / pairs + same_bin / (pairs + same_bin)
    return float(c_index), float(error)
