"""Where a round's time goes, measured by timing collab's own functions in this process.

The lakes run in this process (in-process Datasites), so the scientist's PySyft call, the
lake's trusted runner, its Spark step and its secure-aggregation arithmetic can all be timed
here by wrapping them for the length of a run (:class:`Probe`).
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

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Event:
    kind: str
    lake: str
    phase: str
    thread: int
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


class Probe:
    """Wraps collab functions while active and records one :class:`Event` per call."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._undo: list[Callable[[], None]] = []

    # recording -----------------------------------------------------------------------------
    def _record(self, kind: str, lake: str, phase: str, start: float) -> None:
        event = Event(kind, lake, phase, threading.get_ident(), start, time.perf_counter())
        with self._lock:
            self.events.append(event)

    def _timed(
        self, kind: str, describe: Callable[..., tuple[str, str]] | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        probe = self

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                depth = getattr(probe._local, kind, 0)
                setattr(probe._local, kind, depth + 1)
                start = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    setattr(probe._local, kind, depth)
                    if depth == 0:  # the outermost call of its kind on this thread
                        lake, phase = describe(*args, **kwargs) if describe else ("", "")
                        probe._record(kind, lake, phase, start)

            return wrapper

        return decorate

    def _patch(self, owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        if isinstance(original, classmethod):
            replacement: Any = classmethod(wrap(original.__func__))
        elif isinstance(original, staticmethod):
            replacement = staticmethod(wrap(original.__func__))
        else:
            replacement = wrap(original)
        setattr(owner, name, replacement)
        self._undo.append(lambda: setattr(owner, name, original))

    @contextmanager
    def active(self) -> Iterator[Probe]:
        import collab.lake._runner as runner
        import collab.secure as secure
        import collab.secure._mods as mods
        import collab.secure._secagg as secagg
        from collab.engine import TableRows
        from collab.scientist._parties import RemoteParty

        def call_info(party: Any, message: dict[str, Any]) -> tuple[str, str]:
            return party.name, str(message.get("phase", ""))

        def runner_info(data: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if isinstance(data, dict) and data.get("mock"):
                return "", "mock"
            return (str(data.get("lake", "")) if isinstance(data, dict) else "", "")

        self._patch(RemoteParty, "compute", self._timed("call", call_info))
        self._patch(runner, "run_request", self._timed("runner", runner_info))
        self._patch(TableRows, "total", self._timed("step"))
        crypto = self._timed("crypto")
        # each where it is looked up when called: the coordinator imports unmask and unpack
        # from collab.secure as it aggregates, the lake's release calls _mods.pack, masking
        # calls _secagg's fixed-point encoding
        for module, name in (
            (secure, "unmask"),
            (secure, "unpack"),
            (mods, "pack"),
            (secagg, "encode"),
            (secagg, "decode"),
        ):
            self._patch(module, name, crypto)
        for name in (
            "create",
            "public_keys",
            "deal",
            "receive",
            "mask",
            "reveal",
            "to_dict",
            "from_dict",
        ):
            self._patch(secure.MaskingParty, name, crypto)
        self._patch(mods, "privatise", self._timed("dp_noise"))
        try:
            yield self
        finally:
            while self._undo:
                self._undo.pop()()

    # reading -------------------------------------------------------------------------------
    def between(self, start: float, end: float) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.start >= start and e.end <= end]


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
