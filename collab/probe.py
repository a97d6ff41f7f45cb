"""Where a job's time goes, for benchmarks and profiling: ``import collab.probe``.

Nothing here is needed to use collab; it is the small surface through which ``benchmarks/``
(and anyone profiling) reads collab's timings without reaching into its private modules.
It only measures this process: lakes launched here (in-process Datasites) and the
scientist's side.

- :func:`timing` reports every call of collab's own work as an :class:`Event` while it is
  active: a scientist's call to a lake (``call``), the lake's trusted runner (``runner``),
  its Spark pass over the rows (``step``), secure aggregation's arithmetic (``crypto``) and
  DP noise (``dp_noise``). :func:`one_call_at_a_time` makes the scientist's calls to its
  lakes run one after another.
- :func:`follow` calls a function on every progress report of a submitted job (each
  completed round's public state).
- :func:`last_step` is this thread's last lake step, split (``seconds``,
  ``compute_seconds``, Spark jobs, kept blocks); :func:`kept_rows` is what the engine keeps
  of tables' rows in shared memory, and :func:`forget` drops one table's.
- :func:`local_lake` is a lake's phase handler run here over rows given as arrays
  (:class:`collab.protocol.ArrayRows`) or a table (:func:`collab.engine.table_rows`), and
  :func:`train_here` is the coordinator that trains a plan over such lakes, without PySyft;
  :func:`stats_update` reads a statistics answer as the coordinator does.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .engine._step import StepTimes
    from .plans import Model, Plan, Update
    from .protocol import Rows
    from .scientist import Job
    from .scientist._coordinator import Progress, RoundRecord
    from .scientist._parties import Party

__all__ = [
    "KINDS",
    "Event",
    "KeptRows",
    "follow",
    "forget",
    "kept_rows",
    "last_step",
    "local_lake",
    "one_call_at_a_time",
    "stats_update",
    "timing",
    "train_here",
]

KINDS = ("call", "runner", "step", "crypto", "dp_noise")


@dataclass
class Event:
    """One timed call: its ``kind`` (one of :data:`KINDS`), the lake and phase it served
    (``call``: the lake called and the message's phase; ``runner``: the lake, or phase
    ``"mock"`` for PySyft's run of the request on the mock; empty otherwise), the thread,
    and ``time.perf_counter()`` at its start and end."""

    kind: str
    lake: str
    phase: str
    thread: int
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _patch(undo: list[Callable[[], None]], owner: Any, name: str, wrap: Callable) -> None:
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    if isinstance(original, classmethod):
        replacement: Any = classmethod(wrap(original.__func__))
    elif isinstance(original, staticmethod):
        replacement = staticmethod(wrap(original.__func__))
    else:
        replacement = wrap(original)
    setattr(owner, name, replacement)
    undo.append(lambda: setattr(owner, name, original))


@contextmanager
def timing(record: Callable[[Event], None]) -> Iterator[None]:
    """While active, ``record(event)`` for every call of collab's work in this process.

    A call is reported once, by its outermost call of that kind on its thread (a ``crypto``
    function calling another is one event). Calls of different kinds nest: a ``call``'s
    time includes its lake's ``runner``, which includes the ``step``. Kinds:

    - ``call``: the scientist's call to a lake over PySyft or the round channel;
    - ``runner``: the lake's trusted runner of an approved request;
    - ``step``: the lake's Spark pass over its rows (a family's local step, or statistics);
    - ``crypto``: masking, key agreement, share handling and fixed-point encoding, on the
      lakes and in the coordinator's unmasking;
    - ``dp_noise``: the lake's calibrated noise.
    """
    from . import secure
    from .engine import TableRows
    from .lake import _runner as runner
    from .scientist._parties import RemoteParty
    from .secure import _mods as mods
    from .secure import _secagg as secagg

    local = threading.local()
    undo: list[Callable[[], None]] = []

    def timed(
        kind: str, describe: Callable[..., tuple[str, str]] | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                depth = getattr(local, kind, 0)
                setattr(local, kind, depth + 1)
                start = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    setattr(local, kind, depth)
                    if depth == 0:  # the outermost call of its kind on this thread
                        lake, phase = describe(*args, **kwargs) if describe else ("", "")
                        end = time.perf_counter()
                        record(Event(kind, lake, phase, threading.get_ident(), start, end))

            return wrapper

        return decorate

    def call_info(party: Any, message: dict[str, Any]) -> tuple[str, str]:
        return party.name, str(message.get("phase", ""))

    def runner_info(data: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
        if isinstance(data, dict) and data.get("mock"):
            return "", "mock"
        return (str(data.get("lake", "")) if isinstance(data, dict) else "", "")

    _patch(undo, RemoteParty, "compute", timed("call", call_info))
    _patch(undo, runner, "run_request", timed("runner", runner_info))
    _patch(undo, TableRows, "total", timed("step"))
    crypto = timed("crypto")
    # each where it is looked up when called: the coordinator imports unmask and unpack from
    # collab.secure as it aggregates, the lake's release calls _mods.pack, masking calls
    # _secagg's fixed-point encoding
    for module, name in (
        (secure, "unmask"),
        (secure, "unpack"),
        (mods, "pack"),
        (secagg, "encode"),
        (secagg, "decode"),
    ):
        _patch(undo, module, name, crypto)
    masking = ("create", "public_keys", "deal", "receive", "mask", "reveal", "to_dict", "from_dict")
    for name in masking:
        _patch(undo, secure.MaskingParty, name, crypto)
    _patch(undo, mods, "privatise", timed("dp_noise"))
    try:
        yield
    finally:
        while undo:
            undo.pop()()


@contextmanager
def one_call_at_a_time() -> Iterator[None]:
    """While active, the scientist's calls to lakes (over PySyft or the round channel) run
    one after another, so each is timed without the others competing for this machine's
    cores (as if every lake had its own machine). Inside :func:`timing`, a ``call`` event
    does not include the wait for its turn."""
    from .scientist._parties import RemoteParty

    gate = threading.Lock()
    original = RemoteParty.compute

    def compute(party: Any, message: dict[str, Any]) -> Any:
        with gate:
            return original(party, message)

    RemoteParty.compute = compute  # type: ignore[method-assign]
    try:
        yield
    finally:
        RemoteParty.compute = original  # type: ignore[method-assign]


def follow(job: Job, on_progress: Callable[[Progress], None]) -> None:
    """Call ``on_progress(progress)`` on every progress report ``job`` makes from now on
    (the coordinator's: approvals, and each completed round's ``rounds_done``, public
    ``state`` and ``standardizer``), before anyone waiting on the job hears of it. Call it
    before the lakes approve the job, so that no round is missed."""
    notify = job._notify

    def reported(progress: Progress | None = None) -> None:
        if progress is not None:
            on_progress(progress)
        notify(progress)

    job._notify = reported  # type: ignore[method-assign]


def last_step() -> StepTimes:
    """Where this thread's last lake step spent its time: ``seconds`` (the whole call),
    ``compute_seconds`` (the plan's arithmetic summed over blocks), ``spark_jobs``,
    ``kept_blocks``, ``streamed_partitions``."""
    from .engine._step import last_step as step

    return step()


@dataclass(frozen=True)
class KeptRows:
    """The rows this process's engine keeps between rounds: their bytes, and the folder
    they are kept in (``None`` until the first table's rows are kept)."""

    nbytes: int
    folder: str | None


def kept_rows() -> KeptRows:
    """What this process's engine keeps of tables' rows in shared memory."""
    from .engine._rows import row_cache

    cache = row_cache()
    return KeptRows(int(cache.nbytes), cache._root)


def forget(source: str) -> None:
    """Drop what this process's engine keeps of the table file ``source`` (Spark's cache
    and the rows kept for rounds), so that its next pass reads it as a first one."""
    from .engine._tables import TABLE_CACHE

    TABLE_CACHE.forget(source)


def local_lake(name: str, plan: Plan, rows: Rows, *, job_id: str) -> Party:
    """Lake ``name``'s phase handler for ``plan`` run here over ``rows``, as the coordinator
    calls a lake (``compute(message)``): the same checks, arithmetic, masking and DP noise as
    a lake, without PySyft, approvals or records (a policy of at least one row)."""
    from .scientist._parties import LocalParty

    return LocalParty(name, plan, rows, job_id=job_id)


def train_here(
    plan: Plan,
    lakes: Sequence[Party],
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> tuple[Model, list[RoundRecord]]:
    """``plan`` trained by the coordinator over ``lakes`` (:func:`local_lake`) in this
    process: the model, and the job's history (each round's ``seconds`` and metrics)."""
    from .scientist._coordinator import Coordinator

    coordinator = Coordinator(plan, lakes, on_progress=on_progress)
    model = coordinator.fit()
    return model, list(coordinator.progress.history)


def stats_update(answer: Mapping[str, Any]) -> Update:
    """A lake's (or the summed) answer to the statistics phase as the update the coordinator
    reads it as (``Plan.standardizer_from`` turns it into the job's standardisation)."""
    from .plans import Update
    from .plans._stats import STAT_METRICS

    return Update.from_flat(np.asarray(answer["vector"]), len(STAT_METRICS))
