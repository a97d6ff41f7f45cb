"""Where a round's time goes, measured by timing collab's own functions in this process.

The lakes run in this process (in-process Datasites), so the scientist's PySyft call, the
lake's trusted runner, its Spark step and its secure-aggregation arithmetic can all be timed
here for the length of a run (:class:`Probe`, over :func:`collab.probe.timing`).
The split of a round:

- ``step``: the lake's Spark pass over its rows (``collab.engine.TableRows.total``: the
  family's local step, or the statistics);
- ``crypto``: masking, key agreement, share handling and fixed-point encoding
  (``collab.secure``), on the lakes and in the coordinator's unmasking;
- ``dp_noise``: the lake's calibrated noise (``collab.secure.privatise``);
- ``transport``: a PySyft call's time outside the lake's runner (serialisation, policy
  checks, PySyft's own run on the mock, its records);
- ``bookkeeping``: the runner's time outside the above (approval and replay checks, the
  phase handler's checks of the message, the lake's execution records and audit log);
- ``aggregation``: the coordinator's time outside the lakes' calls (decoding sums, unmasking,
  the family's update of its state).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

import collab.probe
from collab.probe import Event


class Probe:
    """Records one :class:`collab.probe.Event` per timed collab call while active."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def _record(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    @contextmanager
    def active(self) -> Iterator[Probe]:
        with collab.probe.timing(self._record):
            yield self

    def between(self, start: float, end: float) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.start >= start and e.end <= end]

    def first_call(self, since: float) -> float | None:
        """When the first call to a lake started at or after ``since`` (``perf_counter``)."""
        with self._lock:
            starts = [e.start for e in self.events if e.kind == "call" and e.start >= since]
        return min(starts, default=None)


def _inside(event: Event, calls: list[Event]) -> Event | None:
    for call in calls:
        if call.thread == event.thread and call.start <= event.start and event.end <= call.end:
            return call
    return None


def split_round(events: list[Event], seconds: float) -> dict[str, float]:
    """A round's time split (means over lakes for lake-side parts), from its events.

    Lakes run concurrently, so lake-side parts are per lake; ``critical_path`` is the sum over
    the round's phases of the slowest lake's call plus the coordinator's own time.
    """
    calls = [e for e in events if e.kind == "call"]
    lakes = sorted({c.lake for c in calls})
    per_lake: dict[str, dict[str, float]] = {}
    for lake in lakes:
        mine = [c for c in calls if c.lake == lake]
        parts = {"call": 0.0, "runner": 0.0, "step": 0.0, "crypto": 0.0, "dp_noise": 0.0}
        parts["call"] = sum(c.seconds for c in mine)
        for e in events:
            if e.kind == "call" or _inside(e, mine) is None:
                continue
            if e.kind == "runner" and e.phase == "mock":
                continue  # PySyft's run on the mock: part of transport
            if e.kind in parts:
                parts[e.kind] += e.seconds
        per_lake[lake] = parts
    coordinator_crypto = sum(
        e.seconds for e in events if e.kind == "crypto" and _inside(e, calls) is None
    )
    phases = sorted({c.phase for c in calls})
    slowest_by_phase = {p: max(c.seconds for c in calls if c.phase == p) for p in phases}
    slowest = sum(slowest_by_phase.values())

    def mean(key: str) -> float:
        return float(np.mean([p[key] for p in per_lake.values()])) if per_lake else 0.0

    step, crypto_lake, noise = mean("step"), mean("crypto"), mean("dp_noise")
    runner, call = mean("runner"), mean("call")
    return {
        "round": seconds,
        "step": step,
        "crypto_lake": crypto_lake,
        "crypto_coordinator": coordinator_crypto,
        "dp_noise": noise,
        "bookkeeping": max(runner - step - crypto_lake - noise, 0.0),
        "transport": max(call - runner, 0.0),
        "aggregation": max(seconds - slowest - coordinator_crypto, 0.0),
        "calls_per_lake": float(len(calls) / max(len(lakes), 1)),
        "slowest_calls": slowest,
        "slowest_unmask_call": slowest_by_phase.get("unmask", 0.0),
        "all_calls": float(sum(c.seconds for c in calls)),
    }


def mean_split(splits: list[dict[str, float]]) -> dict[str, float]:
    if not splits:
        return {}
    return {k: float(np.mean([s[k] for s in splits])) for k in splits[0]}
