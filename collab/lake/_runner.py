"""The lake's trusted plan runner: what an approved collab request executes.

It runs inside the Datasite's process (PySyft calls it with the table's asset and the round's
public message). It checks the call against the lake's own records before touching a row, and
answers with either an aggregate vector or an error the scientist may read. Unexpected
failures are logged for the owner (the audit log, and the ``collab.lake`` logger at ERROR
with the traceback) and reported naming the step and the exception's kind only, since an
exception's text can carry a row's value.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import CollabError, PolicyViolation, PrivacyError
from .._policy import Policy
from .._schema import TableSchema
from ..plans import Plan
from ..transport import PROCESS_ID, Ticket, new_token, serve_in_process
from ._state import LakeState
from ._streams import job_source

LOG = logging.getLogger("collab.lake")
MAX_MESSAGE_CHARS = 8_000_000  # a 100,000-parameter round is about 4 MB of JSON

_states: dict[str, LakeState] = {}
_states_lock = threading.Lock()


def state_at(path: str | Path) -> LakeState:
    key = str(path)
    with _states_lock:
        if key not in _states:
            _states[key] = LakeState(key)
        return _states[key]


def run_request(data: Any, job_id: str, plan_json: str, message: str) -> dict[str, Any]:
    """Entry point of every collab request (the rendered template calls this)."""
    if not isinstance(data, dict):
        return _error(PrivacyError("this runner only accepts a collab table asset"))
    if data.get("mock"):
        # PySyft also runs approved code on the mock to build its twin result; that run must
        # stay cheap and touch nothing.
        return {"ok": True, "mock": True}
    answer = _answer(data, job_id, plan_json, message, via="pysyft")
    if answer["ok"]:
        answer["channel"] = _ticket_for(data, job_id, plan_json).to_dict()
    return answer


def run_channel(token: str, message: str) -> dict[str, Any]:
    """Entry point of a job's messages over the round channel (:mod:`collab.transport`): the
    same checks, counting and records as :func:`run_request`, for the job and lake that
    ``token`` was issued for."""
    with _tickets_lock:
        ticket = _tickets.get(_digest(token))
    if ticket is None:
        return {"channel_closed": True, "reason": "this lake holds no such ticket"}
    return _answer(ticket.data, ticket.job_id, ticket.plan_json, message, via="channel")


@dataclass(frozen=True)
class _IssuedTicket:
    ticket: Ticket
    job_id: str
    data: dict[str, Any]
    plan_json: str


# Tickets live in the runner's process memory only: a lake that restarts forgets them, and
# the job's next message over PySyft brings a new one.
_tickets: dict[str, _IssuedTicket] = {}  # by the token's digest
_issued: dict[tuple[str, str, str], str] = {}  # (state file, table, job) -> the digest
_tickets_lock = threading.Lock()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ticket_for(data: dict[str, Any], job_id: str, plan_json: str) -> Ticket:
    """The job's ticket on this lake, issued on its first answer over PySyft."""
    key = (str(data["state"]), str(data["table"]), job_id)
    with _tickets_lock:
        digest = _issued.get(key)
        if digest is not None and digest in _tickets:
            return _tickets[digest].ticket
        if not _endpoint_served.is_set():
            serve_in_process(run_channel)
            _endpoint_served.set()
        ticket = Ticket(new_token(), PROCESS_ID)
        digest = _digest(ticket.token)
        _tickets[digest] = _IssuedTicket(ticket, job_id, dict(data), plan_json)
        _issued[key] = digest
        return ticket


_endpoint_served = threading.Event()


def _answer(
    data: dict[str, Any], job_id: str, plan_json: str, message: str, *, via: str
) -> dict[str, Any]:
    """The lake's answer to one message of an approved job, carried ``via`` PySyft or the
    round channel."""
    state = state_at(data["state"])
    try:
        result = _run(state, data, job_id, plan_json, message, via)
    except CollabError as exc:
        state.log("lake", "execution refused", job=job_id, error=str(exc))
        return _error(exc)
    except Exception as exc:
        lake, step, kind = data.get("lake"), _step_of(message), type(exc).__name__
        state.log(
            "lake", "execution failed", job=job_id, error=traceback.format_exc()[-4000:], kind=kind
        )
        # the owner's log (and a test's failure report) shows what failed and where; the
        # exception's text may quote a row's value, so the scientist reads only its kind
        LOG.error(
            "lake %r failed while computing %s of job %s: %s: %s",
            lake,
            step,
            job_id,
            kind,
            exc,
            exc_info=True,
        )
        return _error(
            CollabError(
                f"lake {lake!r} failed while computing {step} of job {job_id[:8]} ({kind}); the "
                "details are in its audit log for the owner (they are not sent, as they may "
                "quote data)."
            )
        )
    return {"ok": True, **result}


def _step_of(message: Any) -> str:
    """Which step a message asks for (``the round step of round 3``), as its sender wrote it;
    ``this step`` when the message does not say."""
    from ..protocol import Phase

    try:
        raw = json.loads(message) if isinstance(message, str) else None
        phase, round_ = Phase(raw["phase"]).value, raw["round"]
        if type(round_) is not int:
            raise ValueError(round_)
    except Exception:
        return "this step"
    return f"the {phase} step of round {round_}"


def _error(exc: CollabError) -> dict[str, Any]:
    return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}


@functools.lru_cache(maxsize=16)
def _plan_of(plan_json: str) -> Plan:
    """The plan a job's spec text describes, parsed once per spec: every message of a job
    carries the same text, and a wide plan (thousands of features) takes a while to build.
    A plan is immutable, so the lake's runners may share it."""
    return Plan.from_spec(json.loads(plan_json))


@functools.lru_cache(maxsize=64)
def _table_of(text: str) -> tuple[dict[str, Any], Policy, dict[str, Any]]:
    """A table's record as stored (its JSON ``text``, read on every message: the owner may
    change its policy between two), its policy and its columns' published bounds; parsed
    once per text. The runner only reads them."""
    record = json.loads(text)
    schema = TableSchema.from_dict(record["schema"])
    bounds = {c.name: c.bounds for c in schema.columns}
    return record, Policy.from_dict(record["policy"]), bounds


class _StoredMasking:
    """The lake's secure-aggregation party for one job, kept in the lake's records.

    Its record is read on every message; the party it describes is built from the text once
    per text in this process (:data:`_parties`): it holds every peer's shares for every slot,
    which a lake of ten parsed twice a round. Each message gets its own copy, so a step that
    fails half-way through changing its party leaves the kept one as stored.
    """

    def __init__(self, state: LakeState, job_id: str) -> None:
        self._state, self._key = state, f"secagg:{job_id}"
        self._where = (str(state.path), self._key)

    def load(self) -> Any:
        from ..secure import MaskingParty

        text = self._state.setting_text(self._key)
        if text is None:
            return None
        with _parties_lock:
            known = _parties.get(self._where)
        if known is not None and known[0] == text:
            return _copy_party(known[1])
        party = MaskingParty.from_dict(json.loads(text))
        self._keep(text, party)
        return _copy_party(party)

    def save(self, party: Any) -> None:
        self._keep(self._state.set_masking(self._key, party.to_dict()), _copy_party(party))

    def _keep(self, text: str, party: Any) -> None:
        with _parties_lock:
            _parties.pop(self._where, None)
            _parties[self._where] = (text, party)
            while len(_parties) > _PARTIES_KEPT:
                _parties.pop(next(iter(_parties)))


# (state file, setting key) -> (its text, the party it holds), oldest first
_parties: dict[tuple[str, str], tuple[str, Any]] = {}
_parties_lock = threading.Lock()
_PARTIES_KEPT = 256


def _copy_party(party: Any) -> Any:
    """A copy of a masking party that its methods can change without changing ``party``
    (they assign its fields and the keys of its dicts, never deeper)."""
    return dataclasses.replace(
        party,
        roster=list(party.roster),
        public=dict(party.public),
        self_seeds=dict(party.self_seeds),
        held=dict(party.held),
        revealed=dict(party.revealed),
    )


def _run(
    state: LakeState, data: dict[str, Any], job_id: str, plan_json: str, message: str, via: str
) -> dict[str, Any]:
    from ..engine import drop_job_state, spark_session, table_rows
    from ..protocol import PartyHandler, Phase, digest

    approval = state.approval(job_id)
    plan = _plan_of(plan_json)
    if approval is not None and approval.status == "denied":
        drop_job_state(job_id)  # the job's state on this lake goes with its approval
        raise PolicyViolation(
            f"the owner of lake {data['lake']!r} denied job {job_id[:8]}"
            f"{': ' + approval.reason if approval.reason else ''}; it runs no further rounds"
        )
    if approval is None or approval.status != "approved":
        raise PolicyViolation(f"job {job_id[:8]} has not been approved by this lake's owner")
    if approval.plan_hash != plan.hash or approval.table != data["table"]:
        raise PrivacyError(f"job {job_id[:8]}: the plan differs from the one the owner approved")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
        raise PolicyViolation(
            f"job {job_id[:8]}: a round message must be text of at most {MAX_MESSAGE_CHARS} "
            "characters"
        )
    try:
        raw = json.loads(message)
    except Exception as exc:
        raise PolicyViolation(f"job {job_id[:8]}: malformed round message ({exc})") from exc
    text = state.table_text(data["table"])
    if text is None:
        raise PolicyViolation(f"this lake no longer hosts table {data['table']!r}")
    record, policy, bounds = _table_of(text)

    def rows(source: str | None = None) -> Any:
        spark = state.setting("spark", {}) or {}
        spark_session(spark.get("master"), spark.get("conf"))
        try:
            return table_rows(
                # a stream: the rows arrived at the job's start (or an update's, given)
                source or job_source(state, job_id, record),
                record["format"],
                plan.columns,
                plan.encodings,
                labelled=bool(plan.label),
                view=record.get("view"),
            )
        except CollabError as exc:
            # the reason names where the rows live (a path, a view's SQL): the owner's alone
            state.log("lake", "table unreadable", job=job_id, table=plan.table, error=str(exc))
            raise CollabError(
                f"lake {data['lake']!r} could not read its table {plan.table!r}; the reason is "
                "in its audit log for the owner"
            ) from None

    common = {"lake": data["lake"], "policy": policy, "bounds": bounds}
    if plan.follow is not None:  # a followed job's update (lake/_follow.py)
        from ._follow import READY, FollowHandler, pinned_sources, ready, update_id, update_of

        update = update_of(job_id, plan, raw)
        if raw.get("phase") == READY:
            spend = lambda key, epsilon: state.spend(  # noqa: E731
                approval.scientist, plan.table, key, epsilon, policy
            )
            return ready(state, job_id, plan, record, update, spend)
        run_id = update_id(job_id, update)
        train, test = pinned_sources(state, job_id, plan, record, update)
        handler: PartyHandler = FollowHandler(
            plan,
            job_id=run_id,
            update=update,
            rows=lambda: rows(train),
            test_rows=lambda: rows(test),
            masking=_StoredMasking(state, run_id),
            **common,
        )
    else:
        handler = PartyHandler(
            plan, job_id=job_id, rows=rows, masking=_StoredMasking(state, job_id), **common
        )
    msg = handler.parse(raw)
    handler.check(msg)  # before the execution is counted: a bad message spends nothing
    terms = plan.release_terms(msg.request) if msg.phase is Phase.ROUND else None
    if plan.dp is None and terms is not None:
        participants = sorted(getattr(msg, "participants", []))
        state.fix_release_terms(
            approval.scientist,
            plan.table,
            {**terms, "lakes": participants},
            job=job_id,
        )
    started = time.perf_counter()
    result, replayed = handler.run(msg, digest(message), state)
    seconds = time.perf_counter() - started
    if replayed:
        state.log("lake", "release repeated", job=job_id, phase=msg.phase.value, round=msg.round)
    else:
        state.log(
            "lake",
            "release",
            job=job_id,
            phase=msg.phase.value,
            round=msg.round,
            via=via,
            seconds=round(seconds, 4),  # the step's own time, for the owner's capacity planning
        )
    if handler.blanked:
        state.log(
            "lake",
            "cells suppressed",
            job=job_id,
            table=plan.table,
            cells=handler.blanked,
            min_rows=handler.policy.min_rows,
        )
    if handler.schedule.is_first_exchange(msg.phase, msg.round):
        entry = state.decision_entry(job_id)
        if entry is not None:  # the owner's audit entry that approved the job, for its card
            result = {**result, "approval": entry}
    return result
