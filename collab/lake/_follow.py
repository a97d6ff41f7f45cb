"""A lake's side of a followed job (``fed.follow``): which rows each update reads.

A followed job is approved once, with its terms (cadence, cap, expiry, window) in its plan.
Its updates are numbered from 1; the coordinator first asks each lake whether it holds
``every_rows`` rows the job has not trained on (a ``ready`` message, answered yes or no).
A lake answering yes pins the update's rows in its records: the kept batches after the last
one the job's previous update read, up to the last admitted. Every message of update ``k``
then runs as its own execution sequence (``<job>-u<k>``: its own masking, its own counted
rounds), over those rows only; a retried update reads the same pinned rows, and the next
update starts where it ended, across a lake that stops and reopens. So every landed row is
trained on in exactly one update. With differential privacy each update after the first (the
approval paid for that one) is charged to the ledger when its rows are pinned; an update the
budget cannot pay for is refused, and so is an update past the cap or the expiry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .._errors import PolicyViolation
from ..plans import Plan, Standardizer
from ..plans._evaluation import evaluation_size, evaluation_sums
from ..protocol import STATS_SLOT, Evaluate, Message, PartyHandler, Rows, Schedule, Stats

READY = "ready"  # the phase of the question "do you hold every_rows new rows?"


def book_key(job_id: str, table: str) -> str:
    """The lake's record of a followed job: the row range of each update."""
    return f"follow:{job_id}:{table}"


def update_id(job_id: str, update: int) -> str:
    """The execution sequence of one update of a followed job."""
    return f"{job_id}-u{update}"


def describe_terms(plan: Plan) -> str:
    """A followed job's terms as its owner's request view shows them."""
    terms = plan.follow or {}
    parts = [
        f"every {terms.get('every_rows')} new rows",
        f"at most {terms.get('max_updates')} updates",
    ]
    if terms.get("min_lakes"):
        parts.append(f"with at least {terms['min_lakes']} lakes")
    if terms.get("window"):
        parts.append(f"each trained on the {terms['window']} most recent rows")
    until = terms.get("until")
    parts.append("no expiry" if until is None else f"until {time.ctime(float(until))}")
    if plan.dp is not None:
        parts.append(f"epsilon {float(plan.dp.epsilon):g} per update")
    return ", ".join(parts)


def update_of(job_id: str, plan: Plan, raw: Any) -> int:
    """The update a message of a followed job belongs to, refused past the job's terms."""
    terms = plan.follow or {}
    try:
        update = int(raw["update"])
    except Exception as exc:
        raise PolicyViolation(
            f"job {job_id[:8]}: a followed job's message names no update"
        ) from exc
    cap = int(terms.get("max_updates") or 0)
    if update < 1 or (cap and update > cap):
        raise PolicyViolation(
            f"job {job_id[:8]} was approved for {cap} update(s); update {update} is past them. "
            "Submit a new follow to go on."
        )
    until = terms.get("until")
    if until is not None and time.time() > float(until):
        raise PolicyViolation(
            f"job {job_id[:8]} was approved until {time.ctime(float(until))}; it has expired. "
            "Submit a new follow to go on."
        )
    return update


def _batches(state: Any, table: str) -> dict[int, dict[str, float]]:
    """Rows and the latest arrival of the files each admitted batch of a stream took."""
    files = (state.setting(f"stream:{table}") or {"files": {}})["files"]
    batches: dict[int, dict[str, float]] = {}
    for entry in files.values():
        if entry["taken"]:
            batch = batches.setdefault(int(entry["batch"]), {"rows": 0, "at": 0.0})
            batch["rows"] += int(entry["rows"])
            batch["at"] = max(batch["at"], float(entry.get("at") or 0.0))
    return batches


def ready(
    state: Any, job_id: str, plan: Plan, record: dict[str, Any], update: int, spend: Callable
) -> dict[str, Any]:
    """Whether this lake takes part in ``update``: it holds ``every_rows`` new rows (their
    range is then pinned; asked again, the same answer). Only yes or no leaves the lake, and
    the arrival time of the newest pinned file (for the update's latency)."""
    from ..engine._streams import stream_batch

    key = book_key(job_id, plan.table)
    book = state.setting(key) or {"upto": -1, "updates": {}}
    pinned = book["updates"].get(str(update))
    if pinned is None:
        if any(int(k) > update for k in book["updates"]):
            raise PolicyViolation(f"job {job_id[:8]}: update {update} is behind this lake's")
        terms = plan.follow or {}
        last = stream_batch(record["source"])[1] if record.get("stream") else 0
        batches = {b: v for b, v in _batches(state, plan.table).items() if b <= last}
        missed = _unpin_missed(state, job_id, book, update)
        after = int(book["upto"])
        new = sum(v["rows"] for b, v in batches.items() if b > after)
        if new < int(terms.get("every_rows") or 1):
            return {"ready": False}
        train_after = after
        window = terms.get("window")
        if window:  # the most recent batches holding at least ``window`` rows
            held = 0
            for b in sorted(batches, reverse=True):
                held += batches[b]["rows"]
                train_after = b - 1
                if held >= int(window):
                    break
            train_after = min(train_after, after)
        if plan.dp is not None and update > 1:
            spend(update_id(job_id, update), float(plan.dp.epsilon))
        pinned = {
            "after": after,
            "upto": last,
            "train_after": train_after,
            "rows": new,
            "landed": max((v["at"] for b, v in batches.items() if b > after), default=0.0),
            "at": time.time(),
        }
        book["updates"][str(update)] = pinned
        book["upto"] = last
        state.set_setting(key, book)
        if missed:  # their rows are in this update's
            state.log("lake", "follow updates missed", job=job_id, updates=sorted(missed))
        state.log("lake", "follow update pinned", job=job_id, update=update, **pinned)
    return {"ready": True, "landed": pinned["landed"]}


def _unpin_missed(state: Any, job_id: str, book: dict[str, Any], update: int) -> list[int]:
    """Give back (in ``book``) the rows of earlier updates this lake pinned and then took no
    part in (with ``min_lakes``, an update may start without a lake that answered yes and
    then could not be reached): they are new again for ``update``, so no row is left
    untrained. The updates given back."""
    missed = []
    for key in sorted((k for k in book["updates"] if int(k) < update), key=int, reverse=True):
        if state.executions(update_id(job_id, int(key))):
            break  # this update, and so every one before it, ran with this lake
        book["upto"] = int(book["updates"].pop(key)["after"])
        missed.append(int(key))
    return missed


def pinned_sources(
    state: Any, job_id: str, plan: Plan, record: dict[str, Any], update: int
) -> tuple[str, str]:
    """The sources update ``update`` trains on and tests on (its new rows)."""
    from ..engine._streams import stream_batch, stream_range_source

    book = state.setting(book_key(job_id, plan.table)) or {"updates": {}}
    pinned = book["updates"].get(str(update))
    if pinned is None:
        raise PolicyViolation(
            f"job {job_id[:8]}: update {update} has no rows pinned on this lake; ask it first"
        )
    kept = stream_batch(record["source"])[0]
    return (
        stream_range_source(kept, int(pinned["train_after"]), int(pinned["upto"])),
        stream_range_source(kept, int(pinned["after"]), int(pinned["upto"])),
    )


class FollowHandler(PartyHandler):
    """The phases of one update of a followed job: the current model tested on the update's
    new rows (an EVALUATE, before its rounds: test-then-train), then the plan's rounds."""

    def __init__(
        self, plan: Plan, *, update: int, test_rows: Callable[[], Rows], **kwargs: Any
    ) -> None:
        super().__init__(plan, **kwargs)
        self.schedule = follow_schedule(plan)
        self.update = update
        self._test_rows = test_rows

    def check(self, message: Message) -> None:
        # the first update pools statistics and has no model to test; a later one tests the
        # model in the statistics' masking slot, which it does not use
        if isinstance(message, Stats) and self.update > 1:
            raise PolicyViolation(
                f"job {self.job_id[:8]}: a followed job's statistics come from its first update"
            )
        if not isinstance(message, Evaluate):
            super().check(message)
            return
        if self.update == 1:
            raise PolicyViolation(f"job {self.job_id[:8]}: the first update has no model to test")
        if message.plan != self.plan.hash:
            raise PolicyViolation(f"job {self.job_id[:8]}: the message names another plan")
        if self.plan.dp is not None:
            raise PolicyViolation(
                f"job {self.job_id[:8]}: a DP plan's updates are not tested (their sums would "
                "leave without noise)"
            )
        if message.round != 1 or message.slot != STATS_SLOT:
            raise PolicyViolation(f"job {self.job_id[:8]}: an update tests its model once")
        try:
            self.plan.check_request(message.request, self.plan.n_inputs)
        except PolicyViolation as exc:
            raise PolicyViolation(f"job {self.job_id[:8]}: {exc}") from exc
        self._standardizer(message)

    def _evaluation(self, request: dict[str, Any], standardizer: Standardizer) -> np.ndarray:
        """The sums of the current model over the update's new rows (zeros below the policy's
        minimum of rows)."""
        model = self.plan.model_from(request, standardizer)
        size = evaluation_size(model.task, len(getattr(model, "classes_", ())))
        vector = self._test_rows().total(lambda X, y: evaluation_sums(model, X, y)[0], size, None)
        if vector[0] < self.policy.min_rows:
            return np.zeros(size)
        return vector


def follow_schedule(plan: Plan) -> Schedule:
    """The schedule of one update: the plan's rounds, after the test of the current model
    (in the statistics' slot)."""
    return Schedule(
        rounds=int(plan.total_rounds),
        secure=bool(plan.secure_aggregation),
        statistics=plan.dp is None and plan.preset_standardizer() is None,
        evaluates=True,
    )
