"""A followed job (``fed.follow``): a model that keeps training as the lakes' streams fill.

The owners approve the plan once, its terms (cadence, cap, expiry, window, and the DP cost
of each update) in it. Then, in a background thread, the job asks the lakes whether each
holds ``every_rows`` rows it has not trained on (a yes or no); when enough do, it runs an
update with them: the current model tested on the new rows (test-then-train, pooled like
validation), then the plan's rounds over the new rows starting from the current model. A
Page-Hinkley test over the updates' test losses flags drift (:mod:`collab.plans._drift`).
The lakes pin each update's rows in their records (:mod:`collab.lake._follow`), so an update
that fails is run again over the same rows, and each landed row is trained on once.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from .._args import whole
from .._display import Report, RichDisplay, follow_report
from .._errors import BudgetExceeded, CollabError, LakeError, PlanError, RequestDenied
from ..plans import Model, Plan, Standardizer
from ..plans._drift import DriftWarning, PageHinkley
from ..plans._evaluation import evaluation_metrics
from ..plans._rounds import RoundPlan
from ..protocol import STATS_SLOT, Evaluate
from ..transport import ScientistSession, function_name, render
from ._coordinator import Coordinator, Progress
from ._job import await_approvals
from ._parties import Party, RemoteParty

READY = "ready"  # the phase a lake answers with whether it holds an update's new rows
POLL_SECONDS = 0.5
RETRIES = 3  # how often an update that failed on a lake's connection is run again


def follow_terms(
    plan: Plan,
    every_rows: Any,
    max_updates: Any,
    until: Any,
    window: Any,
    min_lakes: Any,
    lakes: int,
) -> dict[str, Any]:
    """The terms the owners approve, checked (:class:`ValueError`, :class:`PlanError`)."""
    if not isinstance(plan, RoundPlan):
        raise PlanError(
            f"fed.follow trains a family by rounds (collab.plans.RoundPlan: logistic, linear, "
            f"softmax, MLP); {type(plan).__name__} is not one. Submit it with fed.submit."
        )

    def checked(value: Any, name: str, least: int = 1) -> int:
        return whole(value, f"fed.follow: {name}", least=least)

    terms: dict[str, Any] = {
        "every_rows": checked(every_rows, "every_rows"),
        "max_updates": checked(max_updates, "max_updates"),
    }
    if until is not None:
        if hasattr(until, "timestamp"):
            until = until.timestamp()
        if not isinstance(until, int | float) or until <= time.time():
            raise ValueError(
                f"fed.follow: until must be a future datetime or epoch seconds, not {until!r}"
            )
        terms["until"] = float(until)
    if window is not None:
        terms["window"] = checked(window, "window", terms["every_rows"])
    if min_lakes is not None:
        terms["min_lakes"] = checked(min_lakes, "min_lakes")
        if min_lakes > lakes:
            raise ValueError(
                f"fed.follow: min_lakes {min_lakes} is more than the federation's {lakes} lakes"
            )
    return terms


def follow(
    fed: Any,  # the Federation whose lakes are asked
    plan: Plan,
    every_rows: int,
    max_updates: int,
    until: Any = None,
    window: int | None = None,
    min_lakes: int | None = None,
) -> FollowJob:
    """Follow a stream: a standing job that updates ``plan``'s model as rows land.

    Each lake's owner approves it once, seeing its terms. An update starts when each lake
    (or ``min_lakes`` of them) holds at least ``every_rows`` rows the job has not trained
    on: the current model is first tested on those new rows (test-then-train, pooled), then
    the plan's rounds run on them from the current model (or on the ``window`` most recent
    rows). At most ``max_updates`` updates, until ``until`` (a datetime or epoch seconds).
    With DP, each update costs the plan's epsilon. The plan must be a family trained by
    rounds; its held-out validation is replaced by the test-then-train metrics. Returns a
    :class:`FollowJob` at once.
    """
    terms = follow_terms(plan, every_rows, max_updates, until, window, min_lakes, len(fed.lakes))
    if getattr(plan, "validation", None) != 0:
        plan = replace(plan, validation=0)  # type: ignore[call-arg]
    plan = fed.check(replace(plan, follow=terms))
    fed._check_budget(plan)
    job_id = uuid.uuid4().hex
    source = render(job_id, plan)
    function = function_name(job_id)
    for session in fed._sessions.values():
        session.submit(function, source, plan.table)
    return FollowJob(
        plan,
        job_id,
        dict(fed._sessions),
        function,
        preset=fed._preset(plan),
        relogin=fed._relogin,
        channel=fed.round_channel,
    )


def _tested(
    coordinator: Coordinator, state: dict[str, Any], standardizer: Standardizer
) -> dict[str, Any]:
    """The current model's metrics on the update's new rows, pooled (test-then-train): an
    EVALUATE in the statistics' masking slot, which an update after the first leaves free."""
    plan = coordinator.plan
    request = plan.evaluation_request(state)
    sent = standardizer.to_dict()
    sums = coordinator._aggregate(
        lambda names: Evaluate(plan.hash, 1, names, request, sent, STATS_SLOT - 1)
    )
    return evaluation_metrics(*coordinator._model_shape(request, standardizer), sums)


class _UpdateParty:
    """A lake as one update of a followed job reaches it: every message names the update."""

    def __init__(self, party: Party, update: int) -> None:
        self.name, self._party, self._update = party.name, party, update

    def compute(self, message: dict[str, Any]) -> Any:
        return self._party.compute({**message, "update": self._update})


class FollowJob(RichDisplay):
    """A standing job over streams: ``updates`` (a DataFrame, a row an update), ``model``
    (the latest), ``models`` (every update's), ``wait``, ``stop`` and ``status``
    (``waiting``, ``running``, ``done``, ``stopped`` or ``failed``; ``reason`` says why it
    ended)."""

    def __init__(
        self,
        plan: Plan,
        job_id: str,
        sessions: dict[str, ScientistSession],
        function: str,
        *,
        preset: Standardizer | None = None,
        relogin: Callable[[str], ScientistSession] | None = None,
        channel: bool = True,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.plan, self.job_id = plan, job_id
        self.terms = dict(plan.follow or {})
        self.progress = Progress(lake_states={name: "waiting for approval" for name in sessions})
        self.status = "waiting"
        self.reason: str | None = None
        self.error: BaseException | None = None
        self._sessions, self._function, self._preset = sessions, function, preset
        self._relogin, self._channel, self._poll = relogin, channel, poll
        self._rows: list[dict[str, Any]] = []
        self._models: list[Model] = []
        self._warned = 0
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._detector = PageHinkley()
        self._thread = threading.Thread(
            target=self._main, name=f"collab-follow-{job_id[:8]}", daemon=True
        )
        self._thread.start()

    # what the scientist reads ---------------------------------------------------------------
    @property
    def updates(self) -> pd.DataFrame:
        """One row an update: ``update``, ``new_rows`` (pooled over the lakes; with a
        ``window``, the rows trained on; under DP, a noisy count), ``lakes``,
        ``before_*`` (the current model tested on the new rows before training on them;
        NaN for the first update, and under DP, whose updates are not tested), the rounds'
        training metrics after (``loss``, ...), ``drift``, ``seconds`` and ``latency``
        (seconds from the arrival of the update's newest file to the updated model)."""
        self._warn()
        return pd.DataFrame(self.history)

    @property
    def history(self) -> list[dict[str, Any]]:
        """:attr:`updates` as a list of dicts, without warning of drift (for views)."""
        return [dict(row) for row in self._rows]

    @property
    def model(self) -> Model:
        """The latest model (raises until the first update is done)."""
        if not self._models:
            raise CollabError(f"job {self.job_id[:8]} has made no update yet ({self.status})")
        return self._models[-1]

    @property
    def models(self) -> list[Model]:
        """Every update's model, oldest first."""
        return list(self._models)

    @property
    def lake_states(self) -> dict[str, str]:
        return dict(self.progress.lake_states)

    @property
    def done(self) -> bool:
        return self.status in ("done", "stopped", "failed")

    def wait(self, updates: int | None = None, timeout: float | None = None) -> FollowJob:
        """Wait until ``updates`` updates are done (``None``: until the job ends); raises
        :class:`TimeoutError` after ``timeout`` seconds, and the job's error if it failed
        before."""
        if updates is not None and (not isinstance(updates, int) or updates < 1):
            raise ValueError(f"updates must be a whole number >= 1, not {updates!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (self.done or (updates is not None and len(self._rows) >= updates)):
            with self._changed:
                self._changed.wait(0.25)
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"job {self.job_id[:8]}: {len(self._rows)} update(s) after {timeout} s "
                    f"({self.status}; lakes: {self.lake_states})"
                )
        self._warn()
        if self.status == "failed" and self.error is not None:
            raise self.error
        return self

    def stop(self) -> None:
        """Stop after the update running now (if any); the lakes keep their records."""
        self._stop.set()
        self._thread.join()

    def _warn(self) -> None:
        """A Python warning for each drift flagged since the last (in the reader's thread)."""
        for row in self._rows[self._warned :]:
            if row["drift"]:
                warnings.warn(
                    f"job {self.job_id[:8]}: drift at update {row['update']}: the model's "
                    f"test-then-train loss rose beyond its update-to-update noise",
                    DriftWarning,
                    stacklevel=3,
                )
        self._warned = len(self._rows)

    def _notify(self, _: Any = None) -> None:
        with self._changed:
            self._changed.notify_all()

    def __repr__(self) -> str:
        return (
            f"<FollowJob {self.job_id[:8]} {self.status}: {len(self._rows)}/"
            f"{self.terms.get('max_updates')} updates, lakes={self.lake_states}>"
        )

    def _display_(self) -> tuple[Report, None, None]:
        return follow_report(self), None, None

    # the job ---------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            await_approvals(
                self._sessions, self._function, self.progress, self._stop.is_set, self._notify
            )
            self.status = "running"
            self._follow()
        except (BudgetExceeded, RequestDenied) as exc:
            self.status, self.error = "stopped", exc
            what = "budget" if isinstance(exc, BudgetExceeded) else "denial"
            self.reason = f"stopped by a lake's {what}: {exc}"
        except CollabError as exc:
            if self._stop.is_set():  # stopped while waiting for approvals
                self.status, self.reason = "stopped", "stopped by the scientist"
                return
            revoked = "denied job" in str(exc)
            self.status, self.error = ("stopped" if revoked else "failed"), exc
            self.reason = f"{'revoked' if revoked else 'failed'}: {exc}"
        except BaseException as exc:
            self.status, self.error, self.reason = "failed", exc, f"failed: {exc}"
        finally:
            self._notify()

    def _parties(self, sessions: dict[str, ScientistSession]) -> dict[str, Party]:
        table = self.plan.table
        return {
            name: RemoteParty(s, self._function, table, channel=self._channel)
            for name, s in sessions.items()
        }

    def _reconnect(self, name: str) -> Party | None:
        """The lake ``name`` logged in to again (after it reopened), or ``None`` while down."""
        if self._relogin is None:
            return None
        try:
            session = self._relogin(name)
        except Exception:
            return None
        return self._parties({name: session})[name]

    def _follow(self) -> None:
        terms, plan = self.terms, self.plan
        parties = self._parties(self._sessions)
        need = int(terms.get("min_lakes") or len(parties))
        update = 1
        state: dict[str, Any] | None = None
        standardizer: Standardizer | None = None
        while True:
            if update > int(terms["max_updates"]):
                self.status, self.reason = "done", f"made its {update - 1} update(s)"
                return
            if terms.get("until") is not None and time.time() > float(terms["until"]):
                self.status, self.reason = "done", "expired"
                return
            if self._stop.is_set():
                self.status, self.reason = "stopped", "stopped by the scientist"
                return
            message = {"phase": READY, "plan": plan.hash, "round": 0, "update": update}
            landed: list[float] = []
            joined = []
            for name, party in list(parties.items()):
                try:
                    answer = party.compute(message)
                except LakeError:  # a lake that stopped: asked again (logged in anew) later
                    self.progress.lake_states[name] = "unreachable"
                    parties[name] = self._reconnect(name) or party
                    continue
                if answer.get("ready"):
                    joined.append(name)
                    landed.append(float(answer.get("landed") or 0.0))
                    self.progress.lake_states[name] = "ready"
                else:
                    self.progress.lake_states[name] = "waiting for rows"
            self._notify()
            if len(joined) < need:
                self._stop.wait(self._poll)
                continue
            done: dict[str, Any] = {}  # what the update's attempts completed
            for attempt in range(RETRIES + 1):
                try:
                    state, standardizer = self._update(
                        update, [parties[n] for n in joined], state, standardizer, max(landed), done
                    )
                    break
                except LakeError:
                    if attempt == RETRIES or self._relogin is None:
                        raise
                    time.sleep(self._poll)  # the same update again: the lakes pinned its rows
                    for name in joined:
                        parties[name] = self._reconnect(name) or parties[name]
            update += 1

    def _update(
        self,
        update: int,
        parties: Sequence[Party],
        state: dict[str, Any] | None,
        standardizer: Standardizer | None,
        landed: float,
        done: dict[str, Any],
    ) -> tuple[dict[str, Any], Standardizer]:
        """Run update ``update``; an attempt after a failed one continues from what ``done``
        records (its set-up, its test, its completed rounds): each lake answers a message it
        ran already with its recorded answer, so the update is the one an uninterrupted
        attempt gives."""
        plan = self.plan
        joined = [_UpdateParty(p, update) for p in parties]
        coordinator = Coordinator(
            plan, joined, job_id=f"{self.job_id}-u{update}", preset=self._preset
        )
        if "progress" in done:
            coordinator.progress = done["progress"]
        else:
            done["progress"], done["started"] = coordinator.progress, time.perf_counter()
            coordinator.progress.approvals = self.progress.approvals
        progress = coordinator.progress
        if plan.secure_aggregation and progress.secure is None:
            coordinator._setup_secure()
        if "before" not in done:
            scores: dict[str, Any] = {}
            if state is not None and standardizer is not None and plan.dp is None:
                scores = _tested(coordinator, state, standardizer)
            done["before"] = {f"before_{k}": v for k, v in scores.items() if isinstance(v, float)}
        before = done["before"]
        if progress.state is None and state is not None and standardizer is not None:
            progress.standardizer = standardizer.to_dict()  # warm start
            progress.state = dict(state)
        model = coordinator.fit()
        assert progress.state is not None and progress.standardizer is not None
        history = progress.history
        loss = before.get("before_log_loss", before.get("before_rmse", math.nan))
        drift = self._detector.update(loss)
        after = {k: v for k, v in history[-1].metrics.items()} if history else {}
        row = {
            "update": update,
            "new_rows": history[0].rows if history else 0,
            "lakes": ", ".join(p.name for p in parties),
            **before,
            **after,
            "drift": drift,
            "seconds": time.perf_counter() - done["started"],
            "latency": time.time() - landed if landed else math.nan,
        }
        self._models.append(model)
        self._rows.append(row)
        for p in parties:
            self.progress.lake_states[p.name] = "waiting for rows"
        self._notify()
        return progress.state, Standardizer.from_dict(progress.standardizer)
