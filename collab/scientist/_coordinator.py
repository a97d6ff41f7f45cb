"""A job's rounds, coordinated from the scientist's side, for any plan family.

The coordinator only ever holds public state (the family's state, the federated feature
statistics) and sums over lakes; the same loop drives real lakes and ``simulate``. It runs
the phases of :mod:`collab.protocol`: secure-aggregation set-up, statistics, then the
family's rounds until the family says the model is finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import CollabError, LakeError, PlanError
from ..plans import Model, Plan, Standardizer, Update
from ..plans._evaluation import evaluation_metrics
from ..plans._stats import STAT_METRICS
from ..protocol import Deal, Evaluate, Keys, Receive, Round, Schedule, Stats, Unmask, unmask_round
from ..secure import secure_threshold
from ._parties import Party

MODEL_TASKS = ("classification", "regression")


@dataclass
class RoundRecord:
    """One round of a job's history: the family's metrics (``loss`` first), the labelled
    rows summed over lakes, and the round's wall time."""

    round: int
    metrics: dict[str, float]
    rows: int
    seconds: float = 0.0

    def as_row(self) -> dict[str, Any]:
        return {"round": self.round, **self.metrics, "rows": self.rows, "seconds": self.seconds}


@dataclass
class Progress:
    """What a running job reports: per-lake state and rounds done."""

    lake_states: dict[str, str]
    rounds_done: int = 0
    history: list[RoundRecord] = field(default_factory=list)
    # the public state after the last completed round, from which a job resumes
    standardizer: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    secure: dict[str, Any] | None = None  # roster, public keys and threshold once set up
    dropped: list[str] = field(default_factory=list)
    # early stopping: the best validation loss so far, the state that gave it, and how many
    # evaluations since have not beaten it
    best: dict[str, Any] | None = None
    stopped_early: bool = False
    approvals: dict[str, dict[str, Any]] = field(default_factory=dict)  # each lake's audit entry
    # each lake's own vector of the last exchange, only where it was sent unmasked
    per_lake: dict[str, Any] = field(default_factory=dict)


class Coordinator:
    """Runs ``plan`` over ``parties`` and builds its model.

    With the plan's secure aggregation on, every vector a lake sends is masked, and the
    coordinator only ever decodes sums (:mod:`collab.secure`); a lake that drops out is left
    behind while at least the threshold of lakes remain. With DP, features are scaled by the
    owners' published bounds (``preset``) and no exact statistics are asked for.
    """

    def __init__(
        self,
        plan: Plan,
        parties: Sequence[Party],
        *,
        job_id: str = "",
        on_progress: Callable[[Progress], None] | None = None,
        stop: Callable[[], bool] | None = None,
        preset: Standardizer | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        if not parties:
            raise PlanError("a federated job needs at least one lake")
        self.plan = plan
        self.schedule = Schedule.of(plan)
        self.job_id = job_id
        self.parties = {p.name: p for p in parties}
        self.progress = Progress(lake_states={p.name: "waiting" for p in parties})
        self.preset = preset
        self.facts = dict(facts or {})  # what the model records beyond training (lake rows)
        self._on_progress = on_progress or (lambda _: None)
        self._stop = stop or (lambda: False)
        self._pool = ThreadPoolExecutor(max_workers=len(self.parties))

    @property
    def threshold(self) -> int:
        n = len(self.parties)
        return secure_threshold(n, self.plan.secure_threshold)

    def _alive(self) -> list[str]:
        return [name for name in self.parties if name not in self.progress.dropped]

    def _call(
        self, names: Sequence[str], message: Callable[[str], Any]
    ) -> tuple[dict[str, Any], dict[str, BaseException]]:
        futures = {
            n: self._pool.submit(self.parties[n].compute, message(n).to_dict()) for n in names
        }
        answers, failures = {}, {}
        for name, future in futures.items():
            try:
                answers[name] = future.result()
            except BaseException as exc:
                failures[name] = exc
            else:
                if isinstance(answers[name], dict) and "approval" in answers[name]:
                    self.progress.approvals[name] = answers[name]["approval"]
        return answers, failures

    def _fail(self, failures: dict[str, BaseException]) -> None:
        for name in failures:
            self.progress.lake_states[name] = "failed"
        self._on_progress(self.progress)
        raise next(iter(failures.values()))

    def _setup_secure(self) -> None:
        plan = self.plan.hash
        roster = list(self.parties)
        keys, failures = self._call(roster, lambda _: Keys(plan, 1))
        if failures:
            self._fail(failures)
        public = {name: keys[name]["keys"] for name in roster}
        deal = Deal(plan, 1, roster, public, self.threshold)
        sealed, failures = self._call(roster, lambda _: deal)
        if failures:
            self._fail(failures)
        inbox = {
            name: {sender: sealed[sender]["sealed"][name] for sender in roster if sender != name}
            for name in roster
        }
        _, failures = self._call(roster, lambda name: Receive(plan, 1, inbox[name]))
        if failures:
            self._fail(failures)
        self.progress.secure = {"roster": roster, "public": public, "threshold": self.threshold}

    def _aggregate(self, make: Callable[[list[str]], Stats | Round | Evaluate]) -> np.ndarray:
        """The sum over the lakes still taking part of their vectors for the message
        ``make(participants)``, masked in the message's slot of the job's schedule."""
        participants = self._alive()
        message = make(participants)
        slot = message.slot
        answers, failures = self._call(participants, lambda _: message)
        if not self.schedule.secure:
            if failures:
                self._fail(failures)
            vectors = {name: np.asarray(a["vector"]) for name, a in answers.items()}
            self.progress.per_lake = vectors  # the owners released them: kept for the result
            return np.sum(list(vectors.values()), axis=0)
        from ..secure import AggregationAborted, unmask, unpack

        hard = {n: e for n, e in failures.items() if not isinstance(e, LakeError)}
        if hard:
            self._fail(hard)
        secure = self.progress.secure
        assert secure is not None
        if len(answers) < secure["threshold"]:
            self._abort(failures, len(answers), secure["threshold"])
        reveal_request = Unmask(
            self.plan.hash, unmask_round(slot), slot, sorted(answers), participants
        )
        reveals, late = self._call(sorted(answers), lambda _: reveal_request)
        hard = {n: e for n, e in late.items() if not isinstance(e, LakeError)}
        if hard:
            self._fail(hard)
        try:
            total = unmask(
                job=self.job_id,
                slot=slot,
                roster=secure["roster"],
                public=secure["public"],
                threshold=secure["threshold"],
                participants=participants,
                masked={n: unpack(a["masked"]) for n, a in answers.items()},
                reveals={n: r["reveal"] for n, r in reveals.items()},
            )
        except AggregationAborted:
            self._abort({**failures, **late}, len(reveals), secure["threshold"])
        for name in [*failures, *late]:
            self.progress.dropped.append(name)
            self.progress.lake_states[name] = "dropped"
        self._on_progress(self.progress)
        return total

    def _abort(self, failures: dict[str, BaseException], answered: int, threshold: int) -> None:
        for name in failures:
            self.progress.lake_states[name] = "failed"
        self._on_progress(self.progress)
        lost = sorted(failures) or ["unknown"]
        raise LakeError(
            lost[0],
            f"dropped out; only {answered} lake(s) answered, below the secure-aggregation "
            f"threshold of {threshold}, so the round was aborted without revealing any lake's "
            f"update (lost: {', '.join(lost)}; cause: {next(iter(failures.values()), '')})",
        )

    def _set_all(self, state: str) -> None:
        for name in self._alive():
            self.progress.lake_states[name] = state
        self._on_progress(self.progress)

    def _prepare(self) -> Standardizer:
        """The federated standardisation: summed statistics, or the DP preset."""
        plan = self.plan
        fixed = plan.preset_standardizer()  # a family that reads rows as they are
        if fixed is not None:
            return fixed
        if self.preset is not None:
            return self.preset
        stats = self._aggregate(lambda names: Stats(plan.hash, 1, names))
        update = Update.from_flat(stats, len(STAT_METRICS))
        if update.rows <= 0:
            raise PlanError(f"no lake has labelled rows in table {plan.table!r}")
        return plan.standardizer_from(update)

    def fit(self) -> Model:
        """Train from scratch, or from the last completed round recorded in ``progress``."""
        plan, progress, schedule = self.plan, self.progress, self.schedule
        try:
            self._set_all("running")
            if schedule.secure and progress.secure is None:
                self._setup_secure()
            if progress.standardizer is None or progress.state is None:
                standardizer = self._prepare()
                progress.standardizer = standardizer.to_dict()
                progress.state = plan.start(standardizer)
            standardizer = Standardizer.from_dict(progress.standardizer)
            shared = plan.round_standardizer(progress.standardizer)
            state = progress.state
            r = schedule.resume_round(progress.rounds_done)
            size = plan.update_size(plan.n_inputs)
            while (
                schedule.runs_round(r)
                and not progress.stopped_early
                and (request := plan.round_request(state, r)) is not None
            ):
                if self._stop():
                    raise CollabError(f"the job was cancelled after {r - 1} rounds")
                started = time.perf_counter()
                evaluate = plan.evaluates_round(r)
                total = self._aggregate(
                    lambda names, r=r, request=request, evaluate=evaluate: Round(
                        plan.hash, r, names, request, shared, evaluate
                    )
                )
                update = Update.from_flat(total[:size], len(plan.metric_sums))
                entering = state
                state = plan.absorb(state, update)
                metrics = plan.round_metrics(update, state)
                if evaluate:
                    scores = self._validation(total[size:], entering, standardizer)
                    metrics.update({f"val_{k}": v for k, v in scores.items()})
                    self._track_best(entering, scores, r)
                progress.history.append(
                    RoundRecord(
                        round=r,
                        metrics=metrics,
                        rows=round(update.rows),
                        seconds=time.perf_counter() - started,
                    )
                )
                progress.state = state
                progress.rounds_done = r
                self._on_progress(progress)
                r += 1
            if progress.stopped_early and progress.best is not None:
                state = progress.best["state"]  # the best model, not the last
            validation: dict[str, Any] = {}
            if schedule.evaluates:
                validation = self._final_validation(state, standardizer)
            self._set_all("done")
        finally:
            self._pool.shutdown(wait=False)
        return plan.model_from(
            state,
            standardizer,
            lakes=tuple(self._alive()),
            rounds=progress.rounds_done,
            plan_hash=plan.hash,
            plan_spec=plan.spec_json,
            history=tuple(record.as_row() for record in progress.history),
            validation=validation,
            approvals=dict(progress.approvals),
            **self.facts,
            # a request for figures (not a model) also gets each lake's own, where released
            **({"per_lake": dict(progress.per_lake)} if plan.task not in MODEL_TASKS else {}),
        )

    def _model_shape(self, state: dict[str, Any], standardizer: Standardizer) -> tuple[str, int]:
        model = self.plan.build_model(state, standardizer)
        return model.task, len(getattr(model, "classes_", ()))

    def _validation(
        self, sums: np.ndarray, state: dict[str, Any], standardizer: Standardizer
    ) -> dict[str, float]:
        """The scalar validation metrics of the pooled held-out sums (for the history)."""
        scores = evaluation_metrics(*self._model_shape(state, standardizer), sums)
        return {k: v for k, v in scores.items() if isinstance(v, float)}

    def _track_best(self, state: dict[str, Any], scores: dict[str, float], r: int) -> None:
        patience = self.plan.patience
        loss = self.plan.validation_loss(scores)
        progress = self.progress
        if loss is None or not np.isfinite(loss):
            return
        if progress.best is None or loss < progress.best["loss"]:
            progress.best = {"loss": loss, "state": dict(state), "round": r, "since": 0}
        else:
            progress.best["since"] += 1
            if patience is not None and progress.best["since"] >= patience:
                progress.stopped_early = True

    def _final_validation(self, state: dict[str, Any], standardizer: Standardizer) -> dict:
        """Every validation metric of the finished model, pooled over the lakes' held-out
        rows (the EVALUATE phase, in the masking slot after the rounds)."""
        plan = self.plan
        request = plan.evaluation_request(state)
        sent = standardizer.to_dict()
        rounds = self.schedule.rounds
        assert rounds is not None  # the evaluation's slot comes after the last round's
        sums = self._aggregate(lambda names: Evaluate(plan.hash, 1, names, request, sent, rounds))
        return evaluation_metrics(*self._model_shape(request, standardizer), sums)
