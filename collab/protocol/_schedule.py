"""A job's schedule: the one place that says what a job runs, in which order, and how often.

A :class:`Schedule` is built from the plan (:meth:`Schedule.of`) and read by everyone who
takes part in a job: the coordinator (which phases to send, each exchange's masking slot,
where a resumed job continues), the phase handler (which rounds a message may name, how many
masking slots to deal), the lake's runner (which message is the job's first exchange) and the
places that keep a job's executions, in the lake's database (:mod:`collab.lake`) or in a mock
lake's memory (:class:`MemoryExecutions`): both admit an execution through
:meth:`Schedule.admit`, so ``simulate`` refuses a replayed, skipped or extra round exactly as
a lake does.

The rules, per phase: executions run once each, in order (masking reveals in increasing
order, as a DP plan has no statistics slot to reveal), and never past the phase's limit. The
one exception is a retry of the latest execution with the very same message (its answer may
have been lost with a lake or a connection): that gets the stored answer back, never a new
release. A job whose number of rounds is not fixed in advance (one that follows a stream) is
a schedule with ``rounds=None``: no round total, every rule above unchanged.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import PlanError, PolicyViolation

if TYPE_CHECKING:
    from ..plans import Plan


class Phase(enum.StrEnum):
    """One step of the protocol. Secure aggregation adds KEYS, DEAL, RECEIVE and UNMASK."""

    KEYS = "keys"  # each lake makes its key pairs for the job
    DEAL = "deal"  # each lake Shamir-shares its secrets among the roster
    RECEIVE = "receive"  # each lake takes the shares dealt to it
    STATS = "stats"  # feature statistics for standardisation, summed across lakes
    ROUND = "round"  # one step of the family's training, summed across lakes
    EVALUATE = "evaluate"  # the finished model on the lakes' held-out rows, summed
    UNMASK = "unmask"  # shares that let the coordinator read a slot's sum

    @property
    def secure_only(self) -> bool:
        return self in (Phase.KEYS, Phase.DEAL, Phase.RECEIVE, Phase.UNMASK)


STATS_SLOT = 0  # the masking slot of the statistics; round r's is r, the evaluation's next


def evaluation_slot(rounds: int) -> int:
    """The masking slot of the evaluation of a job of ``rounds`` rounds: the one after them."""
    return rounds + 1


def unmask_round(slot: int) -> int:
    """The execution number of the UNMASK that reveals ``slot`` (slots count from 0)."""
    return slot + 1


def digest(message: str) -> str:
    """What a lake keeps of a message it ran, to know the same message again."""
    return hashlib.sha256(message.encode()).hexdigest()


@dataclass(frozen=True)
class Execution:
    """The latest execution of one phase of a job: its number, the digest of its message,
    and its stored answer (``None`` if the lake stopped before storing it)."""

    round: int
    message_hash: str
    result: Any = None


class Executions(Protocol):
    """Where a lake keeps a job's executions: its database, or a mock lake's memory."""

    def claim_execution(
        self, job_id: str, phase: str, round_: int, *, schedule: Schedule, message_hash: str
    ) -> Any:
        """Record one execution that ``schedule`` admits and return ``None``; or the stored
        answer of a replay; or refuse (:class:`PolicyViolation`)."""
        ...

    def store_result(self, job_id: str, phase: str, round_: int, result: Any) -> None: ...


@dataclass(frozen=True)
class Schedule:
    """The phases one job runs and how often.

    ``rounds`` caps the family's rounds (``None``: open-ended, the job runs rounds until the
    family or the scientist stops it); ``secure`` adds the secure-aggregation set-up and an
    UNMASK after every masked exchange; ``statistics`` a STATS exchange before the rounds
    (not for a DP plan, nor a family that reads rows as they are); ``evaluates`` an EVALUATE
    exchange after them (a plan that holds rows out).
    """

    rounds: int | None
    secure: bool = False
    statistics: bool = True
    evaluates: bool = False

    @classmethod
    def of(cls, plan: Plan) -> Schedule:
        return cls(
            rounds=int(plan.total_rounds),
            secure=bool(plan.secure_aggregation),
            statistics=plan.dp is None and plan.preset_standardizer() is None,
            evaluates=plan.holdout > 0,
        )

    # --- order ------------------------------------------------------------------------------
    @property
    def phases(self) -> tuple[Phase, ...]:
        """The phases the job runs, in order (with ``secure``, an UNMASK follows each of
        STATS, ROUND and EVALUATE)."""
        setup = (Phase.KEYS, Phase.DEAL, Phase.RECEIVE) if self.secure else ()
        return (
            *setup,
            *((Phase.STATS,) if self.statistics else ()),
            Phase.ROUND,
            *((Phase.EVALUATE,) if self.evaluates else ()),
            *((Phase.UNMASK,) if self.secure else ()),
        )

    def is_first_exchange(self, phase: Phase | str, round_: int) -> bool:
        """Whether (``phase``, ``round_``) is the job's first exchange with a lake: key set-up
        with secure aggregation; without, the statistics or the first round (a lake cannot
        tell whether the coordinator pools statistics or holds a preset)."""
        opening = (Phase.KEYS,) if self.secure else (Phase.STATS, Phase.ROUND)
        return round_ == 1 and phase in opening

    def resume_round(self, rounds_done: int) -> int:
        """The round a job that completed ``rounds_done`` rounds continues with."""
        return rounds_done + 1

    def runs_round(self, round_: int) -> bool:
        """Whether the job may run round ``round_`` at all."""
        return round_ >= 1 and (self.rounds is None or round_ <= self.rounds)

    def check_round(self, job_id: str, round_: int) -> None:
        """Refuse a round message naming a round outside the job's."""
        if self.runs_round(round_):
            return
        if self.rounds is None:
            raise PolicyViolation(
                f"job {job_id[:8]} runs rounds from 1; round {round_} is outside them"
            )
        raise PolicyViolation(
            f"job {job_id[:8]} was approved for {self.rounds} round "
            f"execution(s); round {round_} is outside them"
        )

    # --- limits -----------------------------------------------------------------------------
    def limit(self, phase: Phase | str) -> int | None:
        """How many executions of ``phase`` the job may make (``None``: no limit)."""
        phase = Phase(phase)
        if phase is Phase.ROUND:
            return self.rounds
        if phase is Phase.UNMASK:
            return None if self.rounds is None else self.rounds + 2
        return 1

    @staticmethod
    def consecutive(phase: Phase | str) -> bool:
        """Whether ``phase``'s executions are numbered without gaps (UNMASK's follow the
        masked exchanges, and a DP plan has no statistics slot to reveal)."""
        return Phase(phase) is not Phase.UNMASK

    # --- masking slots ----------------------------------------------------------------------
    def _capped(self, what: str) -> int:
        if self.rounds is None:
            raise PlanError(
                f"an open-ended job has no {what}: secure aggregation deals every slot before "
                "the first round, and the evaluation comes after the last; give the job a cap "
                "on its rounds"
            )
        return self.rounds

    @property
    def masking_slots(self) -> int:
        """How many masking slots each lake deals: statistics, each round, the evaluation."""
        return self._capped("masking slots") + 2

    @property
    def evaluation_slot(self) -> int:
        return evaluation_slot(self._capped("evaluation slot"))

    # --- admission --------------------------------------------------------------------------
    def admit(
        self,
        job_id: str,
        phase: Phase | str,
        round_: int,
        message_hash: str,
        last: Execution | None,
    ) -> bool:
        """Whether execution ``round_`` of ``phase`` is a replay of ``last`` (the latest one
        run for the job), to be answered with its stored result; ``False`` for a new one to
        record. Refuses (:class:`PolicyViolation`) a changed replay, a skipped, repeated or
        out-of-order execution, and one past the phase's limit."""
        phase = Phase(phase)
        done = 0 if last is None else last.round
        if last is not None and round_ == done:
            if last.message_hash != message_hash:
                raise PolicyViolation(
                    f"job {job_id[:8]}: {phase} {round_} was already run with another "
                    "message; a round cannot be replayed with changed inputs."
                )
            return True
        limit = self.limit(phase)
        if limit is not None and round_ > limit:
            raise PolicyViolation(
                f"job {job_id[:8]} was approved for {limit} {phase} execution(s); "
                f"{phase} {round_} is past that. Submit a new plan to train longer."
            )
        if round_ != done + 1 if self.consecutive(phase) else round_ <= done:
            raise PolicyViolation(
                f"job {job_id[:8]}: {phase} {round_} was asked for, but the next one this "
                f"lake will run is {done + 1}; rounds run once each and in order."
            )
        return False


class MemoryExecutions:
    """A mock lake's executions, kept in memory under the rules a lake keeps in its
    database."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], Execution] = {}

    def claim_execution(
        self, job_id: str, phase: str, round_: int, *, schedule: Schedule, message_hash: str
    ) -> Any:
        key = (job_id, str(phase))
        last = self._latest.get(key)
        if schedule.admit(job_id, phase, round_, message_hash, last):
            return None if last is None else last.result
        self._latest[key] = Execution(round_, message_hash)
        return None

    def store_result(self, job_id: str, phase: str, round_: int, result: Any) -> None:
        key = (job_id, str(phase))
        last = self._latest.get(key)
        if last is not None and last.round == round_:
            self._latest[key] = Execution(round_, last.message_hash, result)
