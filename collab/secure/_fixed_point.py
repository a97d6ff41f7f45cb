"""Fixed-point encoding of float vectors into the ring of integers modulo 2**64.

A value ``x`` becomes ``round(x * 2**FRAC_BITS) mod 2**64`` (two's complement), so sums of
encodings decode to the sum of the values. With ``n`` parties each sending values of at most
``MAX_ABS`` in magnitude, the true sum is below ``n * MAX_ABS * 2**FRAC_BITS`` in scaled units;
it decodes correctly while that stays below ``2**63``. With ``FRAC_BITS = 24`` and
``MAX_ABS = 2**28`` (about 2.7e8) that holds for up to ``2**10 = 1024`` parties:
``2**10 * 2**28 * 2**24 = 2**62 < 2**63``. Each encoding is exact to ``2**-25`` (about 3e-8).
"""

from __future__ import annotations

import numpy as np

from .._errors import PrivacyError

FRAC_BITS = 24
MAX_ABS = float(2**28)
MAX_PARTIES = 2**10
SCALE = float(2**FRAC_BITS)


def encode(values: np.ndarray) -> np.ndarray:
    """``values`` as ring elements; :class:`PrivacyError` if one is out of bounds."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(np.abs(values) > MAX_ABS):
        raise PrivacyError(
            f"a value to aggregate is not finite or exceeds the fixed-point bound {MAX_ABS:g}; "
            "secure aggregation cannot encode it without overflow"
        )
    return np.round(values * SCALE).astype(np.int64).view(np.uint64)


def decode(total: np.ndarray) -> np.ndarray:
    """Floats from a sum of at most :data:`MAX_PARTIES` encodings."""
    return np.asarray(total, dtype=np.uint64).view(np.int64).astype(np.float64) / SCALE


def check_parties(n: int) -> None:
    if not 1 <= n <= MAX_PARTIES:
        raise PrivacyError(f"secure aggregation handles 1 to {MAX_PARTIES} lakes, not {n}")
