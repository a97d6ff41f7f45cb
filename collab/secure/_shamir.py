"""Shamir's t-of-n secret sharing of 32-byte secrets over the prime field of 2**521 - 1."""

from __future__ import annotations

import secrets

PRIME = 2**521 - 1


def split(secret: bytes, n: int, t: int) -> dict[int, int]:
    """Shares ``{x: y}`` for ``x = 1..n``; any ``t`` of them give ``secret`` back."""
    if not 1 <= t <= n:
        raise ValueError(f"the threshold must be between 1 and {n}, not {t}")
    coefficients = [int.from_bytes(secret, "big")] + [
        secrets.randbelow(PRIME) for _ in range(t - 1)
    ]
    shares = {}
    for x in range(1, n + 1):
        y = 0
        for c in reversed(coefficients):
            y = (y * x + c) % PRIME
        shares[x] = y
    return shares


def combine(shares: dict[int, int], length: int = 32) -> bytes:
    """The secret from at least ``t`` shares (Lagrange interpolation at zero)."""
    total = 0
    for xi, yi in shares.items():
        num, den = 1, 1
        for xj in shares:
            if xj != xi:
                num = num * (-xj) % PRIME
                den = den * (xi - xj) % PRIME
        total = (total + yi * num * pow(den, -1, PRIME)) % PRIME
    return total.to_bytes(length, "big")
