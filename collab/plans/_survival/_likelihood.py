"""Cox's partial likelihood from per-bin sums: Efron's (or Breslow's) terms for the events of
a bin, from the sums over its risk set and over its events."""

from __future__ import annotations

import numpy as np

__all__ = ["efron_terms", "symmetric"]


def symmetric(upper: np.ndarray, p: int) -> np.ndarray:
    """Symmetric matrices from their upper triangles (last axis)."""
    out = np.zeros((*upper.shape[:-1], p, p))
    i, j = np.triu_indices(p)
    out[..., i, j] = upper
    out[..., j, i] = upper
    return out


def efron_terms(
    risk: tuple[np.ndarray, np.ndarray, np.ndarray],
    tied: tuple[np.ndarray, np.ndarray, np.ndarray],
    events: np.ndarray,
    ties: str,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Per bin with ``events`` events: the partial log-likelihood's ``-sum log(denominator)``
    part, its gradient and Hessian parts, and the baseline hazard's increment (Breslow's),
    from the risk sets' and the events' weighted sums (each: sum, first, second moments).
    Where a lake's run of bins was spread over them, a bin's events need not be whole:
    Efron's terms are then taken for the nearest whole count (at least 1), each weighted by
    the events per term, which is Efron's correction itself for whole counts."""
    R0, R1, R2 = risk
    E0, E1, E2 = tied
    p = R1.shape[1]
    ll, grad, hess = 0.0, np.zeros(p), np.zeros((p, p))
    hazard = np.zeros(len(events))
    for b in np.flatnonzero(events > 1e-9):
        d = max(1, int(np.rint(events[b])))
        scale = float(events[b]) / d
        f = np.arange(d) / d if ties == "efron" else np.zeros(d)
        den = R0[b] - f * E0[b]
        den = np.maximum(den, 1e-300)
        inv, inv2 = scale / den, scale / (den * den)
        ll -= scale * float(np.log(den).sum())
        s0, s1 = inv.sum(), (f * inv).sum()
        grad -= s0 * R1[b] - s1 * E1[b]
        a0, a1, a2 = inv2.sum(), (f * inv2).sum(), (f * f * inv2).sum()
        cross = np.outer(R1[b], E1[b])
        hess -= s0 * R2[b] - s1 * E2[b]
        hess += a0 * np.outer(R1[b], R1[b]) - a1 * (cross + cross.T) + a2 * np.outer(E1[b], E1[b])
        hazard[b] = events[b] / R0[b] if R0[b] > 0 else 0.0
    return ll, grad, hess, hazard
