"""Secure aggregation: only the sum over lakes can be read, dropouts included."""

from __future__ import annotations

import numpy as np
import pytest

import collab
from collab.secure import (
    MAX_ABS,
    MAX_PARTIES,
    AggregationAborted,
    MaskingParty,
    decode,
    encode,
    unmask,
)
from collab.secure._shamir import combine, split

ROSTER = ["st-mary", "st-jude", "riverside", "northgate"]
JOB = "ab" * 16


def parties(threshold: int, slots: int = 4) -> tuple[dict[str, MaskingParty], dict]:
    ps = {p: MaskingParty.create(p, JOB) for p in ROSTER}
    public = {p: ps[p].public_keys() for p in ROSTER}
    sealed = {p: ps[p].deal(ROSTER, public, threshold, slots=slots) for p in ROSTER}
    for p in ROSTER:
        ps[p].receive({s: sealed[s][p] for s in ROSTER if s != p})
        ps[p] = MaskingParty.from_dict(ps[p].to_dict())  # state survives a lake restart
    return ps, public


def vectors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {p: rng.normal(scale=1000, size=50) for p in ROSTER}


def test_the_ring_has_room_for_the_bound_at_the_party_limit():
    assert MAX_PARTIES * 2**52 < 2**64  # low limbs never wrap
    assert MAX_PARTIES * MAX_ABS / 16 < 2**63  # high limbs stay signed
    x = np.array([MAX_ABS, -MAX_ABS, 1e-7, -3.25, 123.456789012345])
    total = sum(encode(x) for _ in range(MAX_PARTIES))
    np.testing.assert_allclose(decode(total), x * MAX_PARTIES, rtol=1e-15, atol=1e-11)
    np.testing.assert_allclose(decode(encode(x)), x, rtol=0, atol=2.0**-48)
    with pytest.raises(collab.PrivacyError, match="bound"):
        encode(np.array([MAX_ABS * 2]))


def test_the_unmasked_sum_equals_the_plain_sum():
    ps, public = parties(threshold=3)
    x = vectors()
    masked = {p: ps[p].mask(1, x[p], ROSTER) for p in ROSTER}
    reveals = {p: ps[p].reveal(1, ROSTER, ROSTER) for p in ROSTER}
    total = unmask(
        job=JOB,
        slot=1,
        roster=ROSTER,
        public=public,
        threshold=3,
        participants=ROSTER,
        masked=masked,
        reveals=reveals,
    )
    np.testing.assert_allclose(total, sum(x.values()), atol=1e-6)


def test_a_dropped_lake_is_recovered_with_t_of_n_and_aborts_below_t():
    ps, public = parties(threshold=3)
    x = vectors()
    alive = ROSTER[:3]
    masked = {p: ps[p].mask(2, x[p], ROSTER) for p in alive}
    reveals = {p: ps[p].reveal(2, alive, ROSTER) for p in alive}
    total = unmask(
        job=JOB,
        slot=2,
        roster=ROSTER,
        public=public,
        threshold=3,
        participants=ROSTER,
        masked=masked,
        reveals=reveals,
    )
    np.testing.assert_allclose(total, sum(x[p] for p in alive), atol=1e-6)

    ps, public = parties(threshold=4)
    masked = {p: ps[p].mask(2, x[p], ROSTER) for p in alive}
    with pytest.raises(AggregationAborted, match="northgate"):
        unmask(
            job=JOB,
            slot=2,
            roster=ROSTER,
            public=public,
            threshold=4,
            participants=ROSTER,
            masked=masked,
            reveals={},
        )


def test_a_lake_never_reveals_both_secrets_of_one_peer():
    ps, _ = parties(threshold=3)
    ps["st-mary"].reveal(1, ROSTER, ROSTER)  # northgate's self mask for slot 1 revealed
    with pytest.raises(collab.PrivacyError, match="already revealed"):
        ps["st-mary"].reveal(1, ROSTER[:3], ROSTER)  # ...now asked for its key too
    ps["st-jude"].reveal(2, ROSTER[:3], ROSTER)  # northgate declared dropped
    with pytest.raises(collab.PrivacyError, match="dropped"):
        ps["st-jude"].reveal(3, ROSTER, ROSTER)


def test_the_coordinators_view_of_one_lake_is_independent_of_its_update():
    ps, _ = parties(threshold=3)
    n = 20_000
    zero, huge = np.zeros(n), np.full(n, 123456.0)
    views = [ps["st-jude"].mask(slot, v, ROSTER) for slot, v in ((1, zero), (2, huge))]
    for view in views:  # every byte value equally likely: chi-square over 160,000 bytes
        counts = np.bincount(view.view(np.uint8), minlength=256)
        expected = counts.sum() / 256
        chi2 = ((counts - expected) ** 2 / expected).sum()
        assert chi2 < 350, chi2  # 255 degrees of freedom; p < 1e-4 above ~330-350
    # the two views are not related to the two inputs: correlation of high bits is nil
    bits = [(v >> np.uint64(32)).astype(np.float64) for v in views]
    assert abs(np.corrcoef(bits[0], bits[1])[0, 1]) < 0.05
    unmasked = encode(zero)  # what the coordinator would see without masking
    assert np.bincount(unmasked.view(np.uint8), minlength=256)[0] == 16 * n


def test_shamir_needs_t_shares():
    secret = bytes(range(32))
    shares = split(secret, 5, 3)
    assert combine({k: shares[k] for k in (1, 3, 5)}) == secret
    try:  # two shares interpolate to an unrelated field element (usually too big for 32 bytes)
        wrong = combine({k: shares[k] for k in (2, 4)})
    except OverflowError:
        wrong = None
    assert wrong != secret
