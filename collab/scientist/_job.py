"""A submitted plan's handle: approvals, training in the background, progress, result."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from .._display import RichDisplay
from .._errors import ERRORS_BY_NAME, CollabError, LakeError, RequestDenied, reported_by
from ..plans import Model, Plan, Standardizer
from ..plans._evaluation import HISTORY_VALIDATION
from ..transport import ScientistSession
from ._coordinator import Coordinator, Progress
from ._parties import Party, RemoteParty

POLL_SECONDS = 0.5


class Job(RichDisplay):
    """Training of one plan across lakes, running in a background thread.

    ``result()`` blocks (with a progress bar) until every lake approved and training
    finished; ``history`` and ``lake_states`` can be read at any time.
    """

    def __init__(
        self,
        plan: Plan,
        job_id: str,
        lakes: Sequence[str],
        run: Callable[[Job], Model],
    ) -> None:
        self.plan = plan
        self.job_id = job_id
        self.progress = Progress(lake_states={name: "waiting for approval" for name in lakes})
        self.status = "waiting"
        self.error: BaseException | None = None
        self._model: Model | None = None
        self._cancel = threading.Event()
        self._changed = threading.Condition()
        self._resume: Callable[[Job], Model] | None = None
        self._end_callbacks: list[Callable[[Job], None]] = []
        self._ended = threading.Event()  # set once the job ended and its callbacks ran
        self._start(run)

    def _start(self, run: Callable[[Job], Model]) -> None:
        self._thread = threading.Thread(
            target=self._main, args=(run,), name=f"collab-job-{self.job_id[:8]}", daemon=True
        )
        self._thread.start()

    def resume(self) -> Job:
        """Continue a failed job from its last completed round (after a lake came back).

        Lakes are logged in to again; a lake that already ran the interrupted round answers
        with the result it stored, so the model is the one an uninterrupted run gives.
        """
        if self.status != "failed":
            raise CollabError(f"only a failed job can resume; this one is {self.status}")
        if isinstance(self.error, RequestDenied) or self._resume is None:
            raise CollabError(f"this job cannot resume: {self.error}")
        self.error, self.status = None, "running"
        self._ended.clear()
        self._start(self._resume)
        return self

    # state --------------------------------------------------------------------------------
    @property
    def lake_states(self) -> dict[str, str]:
        return dict(self.progress.lake_states)

    @property
    def rounds_done(self) -> int:
        return self.progress.rounds_done

    @property
    def history(self) -> pd.DataFrame:
        """Per round: the plan family's metrics (``loss``, and accuracy for a classifier or
        RMSE and R² for a regression) of the model entering the round (for an exact
        regression: of the solution), the same model's metrics on the lakes' held-out rows
        (``val_accuracy``, ``val_log_loss``, ... or ``val_rmse``, ``val_mae``, ``val_r2``;
        NaN in rounds not evaluated), rows used (summed over lakes), and the round's wall
        time in seconds."""
        validation: tuple[str, ...] = ()
        if self.plan.holdout > 0:
            validation = tuple(f"val_{m}" for m in HISTORY_VALIDATION.get(self.plan.task, ()))
        return pd.DataFrame(
            [r.as_row() for r in self.progress.history],
            columns=["round", *self.plan.history_metrics, *validation, "rows", "seconds"],
        )

    @property
    def done(self) -> bool:
        return self.status in ("done", "failed")

    def _notify(self, progress: Progress | None = None) -> None:
        with self._changed:
            self._changed.notify_all()

    def _main(self, run: Callable[[Job], Model]) -> None:
        try:
            self._model = run(self)
            self.status = "done"
        except BaseException as exc:
            self.error = exc
            self.status = "failed"
        for callback in list(self._end_callbacks):
            with contextlib.suppress(Exception):  # a view that fails never hides the job's end
                callback(self)
        self._ended.set()
        self._notify()

    def on_end(self, callback: Callable[[Job], None]) -> None:
        """Call ``callback(job)`` when the job ends (done or failed), before :meth:`result`
        returns; at once if it already ended."""
        self._end_callbacks.append(callback)
        if self._ended.is_set():
            callback(self)

    def cancel(self) -> None:
        """Stop after the round in progress; lakes keep what they logged."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # waiting ------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (or ``timeout`` seconds pass); whether it ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def result(self, timeout: float | None = None, *, progress: bool = True) -> Model:
        """The trained model, once every lake approved and all rounds finished.

        Shows rounds done and each lake's state while it waits. Raises the error that
        stopped the job (naming the lake), or ``TimeoutError`` after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        what = "statistics" if self.plan.task == "statistics" else "training"
        shown = _RoundsShown.for_output(self.plan.total_rounds, what) if progress else None
        try:
            while not self._ended.is_set():
                if shown is not None:
                    shown.show(self.rounds_done, self.lake_states)
                with self._changed:
                    self._changed.wait(0.25)
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"job {self.job_id[:8]} still {self.status} after {timeout} s; lakes: "
                        f"{self.lake_states}"
                    )
            if shown is not None:
                shown.show(self.rounds_done, self.lake_states)
        finally:
            if shown is not None:
                shown.close()
        if self.error is not None:
            raise self.error
        assert self._model is not None
        return self._model

    def __repr__(self) -> str:
        return (
            f"<Job {self.job_id[:8]} {self.status}: {self.rounds_done}/{self.plan.total_rounds} "
            "rounds, "
            f"lakes={self.lake_states}>"
        )

    def _display_(self) -> tuple[Any, str | None, Any]:
        from .._display import JOB_MIME, job_payload, job_report

        payload = job_payload(self)
        return job_report(payload), JOB_MIME, payload


class _RoundsShown:
    """A job's progress where output redraws in place (a terminal, a notebook): a bar."""

    def __init__(self, total: int, what: str = "training") -> None:
        from tqdm.auto import tqdm

        self._shown: Any = None
        if _in_kernel():  # displayed with an id, so closing stores the final state
            from IPython.display import display
            from tqdm.notebook import tqdm as notebook_tqdm

            self._bar = notebook_tqdm(
                total=total, desc=what, unit="round", leave=True, display=False
            )
            self._shown = display(self._bar.container, display_id=True)
        else:
            self._bar = tqdm(total=total, desc=what, unit="round", leave=True)

    @staticmethod
    def for_output(total: int, what: str = "training") -> _RoundsShown:
        """A bar where output redraws, else a line every few rounds (a log, a pipe, CI)."""
        return _RoundsShown(total, what) if _redraws() else _RoundLines(total, what)

    def show(self, done: int, lakes: dict[str, str]) -> None:
        self._bar.n = done
        self._bar.set_postfix_str(_states(lakes), refresh=True)

    def close(self) -> None:
        self._bar.close()
        if self._shown is not None:  # the text a viewer without a kernel shows: the end
            self._shown.update(self._bar.container)


class _RoundLines(_RoundsShown):
    """A job's progress as a line at the start, every sixth of the rounds and at the end."""

    def __init__(self, total: int, what: str = "training") -> None:
        self._total, self._what = total, what
        self._every = max(1, total // 6)
        self._last: int | None = None

    def show(self, done: int, lakes: dict[str, str]) -> None:
        if done == self._last or (done % self._every and done != self._total):
            return
        self._last = done
        print(f"{self._what}: {done}/{self._total} rounds ({_states(lakes)})", file=sys.stderr)

    def close(self) -> None:
        sys.stderr.flush()


def _states(lakes: dict[str, str]) -> str:
    return ", ".join(f"{lake}: {state}" for lake, state in lakes.items())


def _redraws() -> bool:
    """Whether progress can redraw in place: on a terminal, or in a Jupyter kernel."""
    try:
        if sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return _in_kernel()


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (displays reach a notebook)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def run_remote(
    sessions: dict[str, ScientistSession],
    function: str,
    relogin: Callable[[str], ScientistSession] | None = None,
    preset: Standardizer | None = None,
    facts: dict[str, Any] | None = None,
    *,
    channel: bool = True,
) -> Callable[[Job], Model]:
    """The body of a submitted job: wait for every approval, then train over PySyft (and,
    with ``channel``, the round channel the lakes' tickets open)."""

    def resume(job: Job) -> Model:
        assert relogin is not None
        fresh = {name: relogin(name) for name in sessions}
        parties: list[Party] = [
            RemoteParty(session, function, job.plan.table, channel=channel)
            for session in fresh.values()
        ]
        return train(job, parties, preset, facts)

    def run(job: Job) -> Model:
        if relogin is not None:
            job._resume = resume
        await_approvals(sessions, function, job.progress, lambda: job.cancelled, job._notify)
        job.status = "running"
        parties: list[Party] = [
            RemoteParty(session, function, job.plan.table, channel=channel)
            for session in sessions.values()
        ]
        return train(job, parties, preset, facts)

    return run


def await_approvals(
    sessions: dict[str, ScientistSession],
    function: str,
    progress: Progress,
    cancelled: Callable[[], bool],
    notify: Callable[[], None],
) -> None:
    """Wait until every lake approved the request ``function`` (raises on a denial)."""
    pending = set(sessions)
    while pending:
        if cancelled():
            raise CollabError("the job was cancelled while waiting for approvals")
        for name in sorted(pending):
            try:
                status, reason = sessions[name].request_state(function)
            except LakeError:
                progress.lake_states[name] = "failed"
                raise
            if status == "approved":
                progress.lake_states[name] = "approved"
                pending.discard(name)
            elif status == "denied":
                progress.lake_states[name] = "denied"
                raise denial_error(name, reason or "no reason given")
        notify()
        if pending:
            time.sleep(POLL_SECONDS)


def train(
    job: Job,
    parties: Sequence[Party],
    preset: Standardizer | None = None,
    facts: dict[str, Any] | None = None,
) -> Model:
    job.status = "running"
    coordinator = Coordinator(
        job.plan,
        parties,
        job_id=job.job_id,
        on_progress=job._notify,
        stop=lambda: job.cancelled,
        preset=preset,
        facts=facts if job.plan.task in ("classification", "regression") else None,
    )
    coordinator.progress = job.progress
    for party in parties:
        job.progress.lake_states[party.name] = "running"
    try:
        return coordinator.fit()
    finally:
        for party in parties:
            if isinstance(party, RemoteParty):
                party.close()


def denial_error(lake: str, reason: str) -> CollabError:
    """The error for a denied request: a lake that refused by policy (``[BudgetExceeded] ...``)
    gives that error type, an owner's own reason gives :class:`RequestDenied`."""
    if reason.startswith("[") and "]" in reason:
        kind, _, text = reason[1:].partition("]")
        if kind in ERRORS_BY_NAME:
            return reported_by(lake, kind, text.strip())
    return RequestDenied(lake, reason)
