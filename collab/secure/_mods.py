"""Privacy as wrappers around a lake's step, as Flower's ``secaggplus_mod`` and DP mods wrap a
client's train function: the step computes the lake's sums; a DP mod adds its share of the
noise; the masking mod turns the vector into what may leave the lake."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._dp import DP, privatise
from ._secagg import MaskingParty, pack

Step = Callable[[], np.ndarray]


def dp_mod(dp: DP, *, releases: int, row_bound: float, shares: int) -> Callable[[Step], Step]:
    """Add Gaussian noise calibrated to ``(epsilon, delta)`` over ``releases`` releases."""

    def wrap(step: Step) -> Step:
        def noisy() -> np.ndarray:
            return privatise(step(), dp, releases=releases, row_bound=row_bound, shares=shares)

        return noisy

    return wrap


def release(
    step: Step, masking: MaskingParty | None, slot: int, participants: Sequence[str]
) -> dict[str, Any]:
    """What leaves the lake: the vector masked for ``slot`` among ``participants`` with secure
    aggregation, as it is without."""
    vector = step()
    if masking is None:
        return {"vector": vector.tolist()}
    return {"masked": pack(masking.mask(slot, vector, participants))}
