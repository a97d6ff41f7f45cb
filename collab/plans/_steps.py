"""The arithmetic of one local step, over numpy arrays.

A lake's engine runs these functions on each Spark partition's rows, and ``simulate`` runs them
on synthetic rows, so both paths share one implementation. Each function returns one flat
float64 vector whose parts add up across partitions and lakes: that sum is all that ever
leaves a lake, and it is what secure aggregation masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._logistic import LogisticRegression


def stats_size(n_features: int) -> int:
    return 2 + 3 * n_features


def update_size(n_features: int) -> int:
    return n_features + 4


def labelled(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop rows whose label is missing (the documented rule for a missing label)."""
    keep = ~np.isnan(y)
    if keep.all():  # the usual case: no copy of the rows
        return X, y
    return X[keep], y[keep]


def table_stats(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sums that standardisation needs: ``[rows, positives, count_j, sum_j, sumsq_j]``."""
    X, y = labelled(X, y)
    present = ~np.isnan(X)
    Xz = np.where(present, X, 0.0)
    return np.concatenate(
        [
            [float(len(y)), float(y.sum())],
            present.sum(axis=0).astype(np.float64),
            Xz.sum(axis=0),
            (Xz * Xz).sum(axis=0),
        ]
    )


@dataclass(frozen=True)
class Standardizer:
    """Federated means and standard deviations of the features, from summed statistics."""

    mean: np.ndarray
    std: np.ndarray
    rows: int
    positives: int

    @classmethod
    def from_stats(cls, stats: np.ndarray, n_features: int) -> Standardizer:
        d = n_features
        rows, positives = stats[0], stats[1]
        count, total, total_sq = stats[2 : 2 + d], stats[2 + d : 2 + 2 * d], stats[2 + 2 * d :]
        safe = np.maximum(count, 1.0)
        mean = total / safe
        var = np.maximum(total_sq / safe - mean * mean, 0.0)
        std = np.sqrt(var)
        std = np.where(std > 1e-12, std, 1.0)
        return cls(mean=mean, std=std, rows=round(rows), positives=round(positives))

    @classmethod
    def from_bounds(cls, bounds: list[tuple[float, float]]) -> Standardizer:
        """Scaling by published bounds: midpoints and half-ranges (what DP plans use)."""
        low = np.array([b[0] for b in bounds], dtype=np.float64)
        high = np.array([b[1] for b in bounds], dtype=np.float64)
        return cls(
            mean=(low + high) / 2, std=np.maximum((high - low) / 2, 1e-12), rows=0, positives=0
        )

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean) / self.std
        return np.where(np.isnan(Z), 0.0, Z)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def local_update(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    standardizer: Standardizer,
    plan: LogisticRegression,
) -> np.ndarray:
    """One round on one block of rows: ``[rows * (w_local - w), rows, loss_sum, correct]``.

    ``weights`` holds the coefficients on standardised features followed by the intercept.
    The loss and the count of correct predictions are those of the incoming weights, so the
    history reports the global model at the start of each round.
    """
    X, y = labelled(X, y)
    n = len(y)
    d = len(plan.features)
    out = np.zeros(update_size(d))
    if n == 0:
        return out
    Z = standardizer.transform(X)
    w, b = weights[:d].copy(), float(weights[d])
    margin = Z @ w + b
    loss_sum = float(np.sum(np.logaddexp(0.0, margin) - y * margin))
    correct = float(np.sum((margin > 0) == (y > 0.5)))
    batch = plan.batch_size or n
    for _ in range(plan.local_epochs):
        for start in range(0, n, batch):
            Zb, yb = Z[start : start + batch], y[start : start + batch]
            err = _sigmoid(Zb @ w + b) - yb
            grad_w = Zb.T @ err / len(yb) + plan.l2 * w
            grad_b = err.mean()
            w -= plan.learning_rate * grad_w
            b -= plan.learning_rate * grad_b
    out[:d] = n * (w - weights[:d])
    out[d] = n * (b - weights[d])
    out[d + 1] = n
    out[d + 2] = loss_sum
    out[d + 3] = correct
    return out


def dp_row_bound(clip_norm: float) -> float:
    """L2 bound of one row's contribution to :func:`dp_sums` (gradient, count, loss, correct)."""
    return float(np.sqrt(clip_norm**2 + 3.0))


def dp_sums(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    standardizer: Standardizer,
    clip_norm: float,
) -> np.ndarray:
    """Bounded per-row contributions, summed: ``[sum clip(g_i), rows, sum min(loss_i, 1),
    correct]``. One row changes the result by at most :func:`dp_row_bound` in L2 norm.

    ``standardizer`` holds the midpoints and half-ranges of the owner's published bounds;
    values outside the bounds are clipped to them.
    """
    X, y = labelled(X, y)
    d = X.shape[1]
    out = np.zeros(d + 4)
    if len(y) == 0:
        return out
    # scaled by the bounds' midpoints and half-ranges, so clipping to [-1, 1] is clipping
    # each value to the owner's bounds
    Z = np.clip(standardizer.transform(X), -1.0, 1.0)
    margin = Z @ weights[:d] + weights[d]
    err = _sigmoid(margin) - y
    gradients = np.column_stack([Z * err[:, None], err])
    norms = np.linalg.norm(gradients, axis=1, keepdims=True)
    gradients = gradients * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-12))
    loss = np.minimum(np.logaddexp(0.0, margin) - y * margin, 1.0)
    out[: d + 1] = gradients.sum(axis=0)
    out[d + 1] = len(y)
    out[d + 2] = loss.sum()
    out[d + 3] = np.sum((margin > 0) == (y > 0.5))
    return out
