"""Secure aggregation after Bonawitz et al., "Practical Secure Aggregation for
Privacy-Preserving Machine Learning" (CCS 2017), for a fixed roster of lakes.

Each lake (a :class:`MaskingParty`) holds two X25519 key pairs per job: ``c`` to encrypt the
secret shares it sends to peers through the coordinator, ``s`` to agree pairwise mask seeds.
It masks every vector twice: pairwise masks that cancel in the sum over lakes, and a self mask
from a fresh seed per execution slot. Its ``s`` private key and each slot's self-mask seed are
Shamir-shared t-of-n with the other lakes. To unmask a slot the coordinator asks the surviving
lakes for shares of the self-mask seeds of lakes whose vectors arrived and of the ``s`` keys of
lakes that dropped out; a lake never reveals both for the same peer. With fewer than ``t``
survivors the slot cannot be unmasked and nothing about any one lake is learned.

Threat model: lakes and coordinator are honest but curious; the coordinator relays public keys
faithfully (the paper's malicious-model signatures are not implemented).
"""

from __future__ import annotations

import base64
import functools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import PrivacyError
from . import _crypto, _shamir
from ._fixed_point import check_parties, decode, encode


def secure_threshold(n_lakes: int, asked: int | None = None) -> int:
    """How many of ``n_lakes`` must survive a round: the plan's ``asked`` threshold, or a
    majority (the fewest that keep a minority of colluding lakes from unmasking anyone)."""
    return asked or (n_lakes // 2 + 1)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def pack(vector: np.ndarray) -> str:
    """A ring vector as text for a PySyft message."""
    return _b64(np.asarray(vector, dtype=np.uint64).tobytes())


def unpack(text: str) -> np.ndarray:
    return np.frombuffer(_unb64(text), dtype=np.uint64).copy()


def _context(job: str, a: str, b: str, purpose: str) -> bytes:
    first, second = sorted((a, b))
    return f"collab|{job}|{first}|{second}|{purpose}".encode()


@functools.lru_cache(maxsize=4096)
def _pair_seed(s_private: bytes, peer_public: str, job: str, party: str, peer: str) -> bytes:
    """The mask seed ``party`` shares with ``peer`` in ``job``: the same for every slot of the
    job, so agreed once per pair in this process rather than in every execution (a lake of
    ten agreed nine seeds per round). It stays in the memory of the process that holds
    ``s_private``."""
    return _crypto.agree(s_private, _unb64(peer_public), _context(job, party, peer, "mask"))


class AggregationAborted(PrivacyError):
    """Too few lakes survived a slot to unmask it; no lake's vector was revealed."""


@dataclass
class MaskingParty:
    """One lake's side of the protocol for one job (serialisable with :meth:`to_dict`)."""

    party: str
    job: str
    c_private: bytes
    s_private: bytes
    roster: list[str] = field(default_factory=list)
    threshold: int = 0
    public: dict[str, dict[str, str]] = field(default_factory=dict)
    self_seeds: dict[int, bytes] = field(default_factory=dict)
    held: dict[str, dict[str, Any]] = field(default_factory=dict)  # shares others gave us
    revealed: dict[str, Any] = field(default_factory=dict)  # peer -> "s" | [slots of b]

    @classmethod
    def create(cls, party: str, job: str) -> MaskingParty:
        return cls(party, job, _crypto.new_private_key(), _crypto.new_private_key())

    def public_keys(self) -> dict[str, str]:
        return {
            "c": _b64(_crypto.public_key(self.c_private)),
            "s": _b64(_crypto.public_key(self.s_private)),
        }

    # set-up: deal shares ---------------------------------------------------------------------
    def deal(
        self,
        roster: Sequence[str],
        public: Mapping[str, Mapping[str, str]],
        threshold: int,
        slots: int,
    ) -> dict[str, str]:
        """Shares of this party's secrets, sealed for each peer: ``{peer: sealed}``."""
        check_parties(len(roster))
        if self.party not in roster or set(public) != set(roster):
            raise PrivacyError("the roster and the public keys do not match")
        if not 1 <= threshold <= len(roster):
            raise PrivacyError(f"threshold must be between 1 and {len(roster)}, not {threshold}")
        self.roster, self.threshold = list(roster), threshold
        self.public = {p: dict(public[p]) for p in roster}
        self.self_seeds = {k: secrets.token_bytes(32) for k in range(slots)}
        n = len(roster)
        s_shares = _shamir.split(self.s_private, n, threshold)
        b_shares = {k: _shamir.split(seed, n, threshold) for k, seed in self.self_seeds.items()}
        out = {}
        for index, peer in enumerate(roster, start=1):
            bundle = {
                "s": hex(s_shares[index]),
                "b": {str(k): hex(v[index]) for k, v in b_shares.items()},
            }
            text = _json(bundle).encode()
            if peer == self.party:
                self.held[self.party] = bundle
                continue
            key = _crypto.agree(
                self.c_private,
                _unb64(public[peer]["c"]),
                _context(self.job, self.party, peer, "shares"),
            )
            out[peer] = _b64(
                _crypto.seal(key, text, _context(self.job, self.party, peer, "shares"))
            )
        return out

    def receive(self, inbox: Mapping[str, str]) -> None:
        """Open the shares each peer sealed for this party."""
        for sender, sealed in inbox.items():
            if sender not in self.public or sender == self.party:
                raise PrivacyError(f"shares from {sender!r}, who is not a peer in this job")
            key = _crypto.agree(
                self.c_private,
                _unb64(self.public[sender]["c"]),
                _context(self.job, sender, self.party, "shares"),
            )
            text = _crypto.unseal(
                key, _unb64(sealed), _context(self.job, sender, self.party, "shares")
            )
            self.held[sender] = _unjson(text.decode())

    # each execution ---------------------------------------------------------------------------
    def mask(self, slot: int, values: np.ndarray, participants: Sequence[str]) -> np.ndarray:
        """``values`` encoded and masked for ``slot`` among ``participants``."""
        if self.party not in participants or not set(participants) <= set(self.roster):
            raise PrivacyError("this lake is not among the slot's participants")
        for peer in participants:
            if self.revealed.get(peer) == "s":
                raise PrivacyError(f"{peer!r} dropped out earlier and cannot take part again")
        y = encode(values)
        y = y + _crypto.expand(self.self_seeds[slot], y.size, slot)
        for peer in participants:
            if peer == self.party:
                continue
            mask = _crypto.expand(self._pair_seed(peer), y.size, slot)
            y = y + mask if self._before(peer) else y - mask
        return y

    def _before(self, peer: str) -> bool:
        return self.roster.index(self.party) < self.roster.index(peer)

    def _pair_seed(self, peer: str) -> bytes:
        return _pair_seed(self.s_private, self.public[peer]["s"], self.job, self.party, peer)

    def reveal(self, slot: int, received: Sequence[str], participants: Sequence[str]) -> dict:
        """Shares that let the coordinator unmask ``slot``: self-mask seeds of lakes whose
        vectors arrived, ``s`` keys of lakes that dropped. Never both for one lake."""
        out: dict[str, dict[str, str]] = {"b": {}, "s": {}}
        for peer in participants:
            shares = self.held.get(peer)
            if shares is None:
                raise PrivacyError(f"this lake holds no shares of {peer!r}")
            done = self.revealed.get(peer)
            if peer in received:
                if done == "s":
                    raise PrivacyError(
                        f"{peer!r} was declared dropped; revealing its self mask now would "
                        "expose its update"
                    )
                self.revealed[peer] = sorted(set(done or []) | {slot})
                out["b"][peer] = shares["b"][str(slot)]
            else:
                if isinstance(done, list) and slot in done:
                    raise PrivacyError(
                        f"{peer!r}'s self mask for this round was already revealed; revealing "
                        "its key too would expose its update"
                    )
                self.revealed[peer] = "s"
                out["s"][peer] = shares["s"]
        return out

    # persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "job": self.job,
            "c": _b64(self.c_private),
            "s": _b64(self.s_private),
            "roster": self.roster,
            "threshold": self.threshold,
            "public": self.public,
            "self_seeds": {str(k): _b64(v) for k, v in self.self_seeds.items()},
            "held": self.held,
            "revealed": self.revealed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MaskingParty:
        return cls(
            party=data["party"],
            job=data["job"],
            c_private=_unb64(data["c"]),
            s_private=_unb64(data["s"]),
            roster=list(data["roster"]),
            threshold=int(data["threshold"]),
            public=dict(data["public"]),
            self_seeds={int(k): _unb64(v) for k, v in data["self_seeds"].items()},
            held=dict(data["held"]),
            revealed=dict(data["revealed"]),
        )


def unmask(
    *,
    job: str,
    slot: int,
    roster: Sequence[str],
    public: Mapping[str, Mapping[str, str]],
    threshold: int,
    participants: Sequence[str],
    masked: Mapping[str, np.ndarray],
    reveals: Mapping[str, Mapping[str, Mapping[str, str]]],
) -> np.ndarray:
    """The coordinator's step: the decoded SUM of the vectors in ``masked``, nothing else."""
    dropped = [p for p in participants if p not in masked]
    if len(masked) < threshold or len(reveals) < threshold:
        raise AggregationAborted(
            f"round aborted: {len(reveals)} of {len(participants)} lakes answered, fewer than "
            f"the threshold of {threshold}; lost: {', '.join(dropped) or 'none'}. No lake's "
            "update was revealed."
        )
    index = {p: i for i, p in enumerate(roster, start=1)}
    total = np.zeros(next(iter(masked.values())).size, dtype=np.uint64)
    for vector in masked.values():
        total = total + vector
    for peer in masked:  # remove self masks
        shares = {index[r]: int(rev["b"][peer], 16) for r, rev in reveals.items()}
        seed = _shamir.combine(dict(list(shares.items())[:threshold]))
        total = total - _crypto.expand(seed, total.size, slot)
    for gone in dropped:  # remove the pairwise masks survivors shared with a dropped lake
        shares = {index[r]: int(rev["s"][gone], 16) for r, rev in reveals.items()}
        s_private = _shamir.combine(dict(list(shares.items())[:threshold]))
        for peer in masked:
            seed = _crypto.agree(
                s_private, _unb64(public[peer]["s"]), _context(job, gone, peer, "mask")
            )
            mask = _crypto.expand(seed, total.size, slot)
            # `peer` added the mask if it comes before `gone` in the roster, else subtracted it
            total = total - mask if index[peer] < index[gone] else total + mask
    return decode(total)


def _json(data: Any) -> str:
    import json

    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def _unjson(text: str) -> Any:
    import json

    return json.loads(text)
