"""The typed public messages a coordinator sends to each lake, one per phase of a job.

Messages travel as JSON; :func:`parse` is the one place a lake reads one, so a malformed or
unexpected message is refused the same way by a real lake and by ``simulate``'s mock lakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .._errors import PolicyViolation
from ._schedule import STATS_SLOT, Phase, evaluation_slot


@dataclass(frozen=True)
class Message:
    plan: str
    round: int
    phase: Phase = field(init=False)

    def to_dict(self) -> dict[str, Any]:
        """The message as JSON-able data. Its fields are plain data already (a request of
        lists and numbers), taken as they are: copying every finished tree of a trees
        request, for every lake and round, cost more than the lake's step."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["phase"] = self.phase.value
        return data


@dataclass(frozen=True)
class Keys(Message):
    phase = Phase.KEYS


@dataclass(frozen=True)
class Deal(Message):
    roster: list[str]
    public: dict[str, Any]
    threshold: int
    phase = Phase.DEAL


@dataclass(frozen=True)
class Receive(Message):
    inbox: dict[str, str]
    phase = Phase.RECEIVE


@dataclass(frozen=True)
class Stats(Message):
    participants: list[str]
    phase = Phase.STATS

    @property
    def slot(self) -> int:
        return STATS_SLOT


@dataclass(frozen=True)
class Round(Message):
    """One round: the family's public ``request`` and, without DP, the federated
    standardisation (``standardizer``: mean, std, label mean and std). With ``evaluate``,
    each lake also evaluates the model the request carries on its held-out rows."""

    participants: list[str]
    request: dict[str, Any]
    standardizer: dict[str, Any] | None = None
    evaluate: bool = False
    phase = Phase.ROUND

    @property
    def slot(self) -> int:
        return self.round


@dataclass(frozen=True)
class Evaluate(Message):
    """The finished model (a ``request`` of the family's shape, with its standardisation)
    evaluated on each lake's held-out rows; once per job, in the slot after the rounds."""

    participants: list[str]
    request: dict[str, Any]
    standardizer: dict[str, Any]
    total_rounds: int
    phase = Phase.EVALUATE

    @property
    def slot(self) -> int:
        return evaluation_slot(self.total_rounds)


@dataclass(frozen=True)
class Unmask(Message):
    slot: int
    received: list[str]
    participants: list[str]
    phase = Phase.UNMASK


_TYPES: dict[str, type[Message]] = {
    t.phase.value: t
    for t in (Keys, Deal, Receive, Stats, Round, Evaluate, Unmask)  # type: ignore[misc]
}


def _names(value: Any, what: str) -> list[str]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise PolicyViolation(f"malformed round message: {what} must be a list of lake names")
    if not all(isinstance(v, str) for v in value):
        raise PolicyViolation(f"malformed round message: {what} must be a list of lake names")
    return list(value)


def parse(data: Mapping[str, Any]) -> Message:
    """The typed message of ``data``; :class:`PolicyViolation` for anything else."""
    if not isinstance(data, Mapping):
        raise PolicyViolation("malformed round message: not an object")
    phase = data.get("phase")
    cls = _TYPES.get(str(phase))
    if cls is None:
        raise PolicyViolation(f"unknown phase {phase!r}")
    try:
        round_ = int(data["round"])
        plan = str(data["plan"])
        if cls is Keys:
            return Keys(plan, round_)
        if cls is Deal:
            return Deal(
                plan,
                round_,
                _names(data["roster"], "roster"),
                dict(data["public"]),
                int(data["threshold"]),
            )
        if cls is Receive:
            return Receive(plan, round_, {str(k): str(v) for k, v in dict(data["inbox"]).items()})
        participants = _names(data["participants"], "participants")
        if cls is Stats:
            return Stats(plan, round_, participants)
        if cls is Round:
            standardizer = data.get("standardizer")
            return Round(
                plan,
                round_,
                participants,
                dict(data["request"]),
                None if standardizer is None else dict(standardizer),
                bool(data.get("evaluate", False)),
            )
        if cls is Evaluate:
            return Evaluate(
                plan,
                round_,
                participants,
                dict(data["request"]),
                dict(data["standardizer"]),
                int(data["total_rounds"]),
            )
        return Unmask(
            plan, round_, int(data["slot"]), _names(data["received"], "received"), participants
        )
    except PolicyViolation:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyViolation(f"malformed round message ({type(exc).__name__}: {exc})") from exc
