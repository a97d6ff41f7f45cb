"""Fixed-point encoding of float vectors into the ring of integers modulo 2**64.

A value ``v`` is the integer ``I = v * 2**FRAC_BITS`` (``FRAC_BITS = 48``, so resolution
about 3.6e-15), written in two limbs, ``I = hi * 2**52 + lo`` with ``0 <= lo < 2**52`` and ``hi``
signed; each limb is one ring element, masked on its own. Sums of encodings decode exactly:

* low limbs: with at most ``MAX_PARTIES = 2**10`` parties, ``sum(lo) < 2**10 * 2**52 = 2**62``,
  below ``2**64``, so the ring sum is the true sum (no wrap-around);
* high limbs: ``|hi| <= MAX_ABS / 16 = 2**44`` for ``|v| <= MAX_ABS = 2**48`` (about 2.8e14),
  so ``|sum(hi)| <= 2**54 < 2**63`` and its two's-complement reading is exact.

Encoding a value outside ``MAX_ABS`` raises instead of wrapping.
"""

from __future__ import annotations

import numpy as np

from .._errors import PrivacyError

FRAC_BITS = 48
LIMB_BITS = 52
MAX_ABS = float(2**48)
MAX_PARTIES = 2**10
_HIGH_UNIT = float(2 ** (LIMB_BITS - FRAC_BITS))  # one high-limb step, in value units (16)


def encode(values: np.ndarray) -> np.ndarray:
    """``values`` as ``2 * len(values)`` ring elements (high limbs, then low limbs)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)) or np.any(np.abs(values) > MAX_ABS):
        raise PrivacyError(
            f"a value to aggregate is not finite or exceeds the fixed-point bound {MAX_ABS:g}; "
            "secure aggregation cannot encode it without overflow"
        )
    high = np.floor(values / _HIGH_UNIT)
    rest = values - high * _HIGH_UNIT  # exact, in [0, 16)
    low = np.round(rest * 2.0**FRAC_BITS)
    carry = low >= 2.0**LIMB_BITS  # rounding up to the next high unit
    high, low = high + carry, np.where(carry, 0.0, low)
    return np.concatenate([high.astype(np.int64).view(np.uint64), low.astype(np.uint64)])


def decode(total: np.ndarray) -> np.ndarray:
    """Floats from a sum of at most :data:`MAX_PARTIES` encodings."""
    total = np.asarray(total, dtype=np.uint64)
    half = total.size // 2
    high = total[:half].view(np.int64).astype(np.float64)
    low = total[half:].astype(np.float64)
    return high * _HIGH_UNIT + low / 2.0**FRAC_BITS


def check_parties(n: int) -> None:
    if not 1 <= n <= MAX_PARTIES:
        raise PrivacyError(f"secure aggregation handles 1 to {MAX_PARTIES} lakes, not {n}")
