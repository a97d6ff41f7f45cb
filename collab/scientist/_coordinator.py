"""Federated averaging, coordinated from the scientist's side.

The coordinator only ever holds public state (the global weights, the federated feature
statistics) and sums over lakes; the same loop drives real lakes and ``simulate``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import CollabError, LakeError, PlanError
from ..plans import LogisticModel, LogisticRegression
from ..plans._steps import Standardizer
from ._parties import Party


@dataclass
class RoundRecord:
    round: int
    loss: float
    accuracy: float
    rows: int
    seconds: float = 0.0


@dataclass
class Progress:
    """What a running job reports: per-lake state and rounds done."""

    lake_states: dict[str, str]
    rounds_done: int = 0
    history: list[RoundRecord] = field(default_factory=list)
    # the public state after the last completed round, from which a job resumes
    mean: list[float] | None = None
    std: list[float] | None = None
    weights: list[float] | None = None
    secure: dict[str, Any] | None = None  # roster, public keys and threshold once set up
    dropped: list[str] = field(default_factory=list)


class FedAvg:
    """Weighted federated averaging of logistic-regression updates over ``parties``.

    With the plan's secure aggregation on, every vector a lake sends is masked, and the
    coordinator only ever decodes sums (:mod:`collab.secure`); a lake that drops out is left
    behind while at least the threshold of lakes remain. With DP, features are scaled by the
    owners' published bounds (``preset``) and no exact statistics are asked for.
    """

    def __init__(
        self,
        plan: LogisticRegression,
        parties: Sequence[Party],
        *,
        job_id: str = "",
        on_progress: Callable[[Progress], None] | None = None,
        stop: Callable[[], bool] | None = None,
        preset: Standardizer | None = None,
    ) -> None:
        if not parties:
            raise PlanError("a federated job needs at least one lake")
        self.plan = plan
        self.job_id = job_id
        self.parties = {p.name: p for p in parties}
        self.progress = Progress(lake_states={p.name: "waiting" for p in parties})
        self.preset = preset
        self._on_progress = on_progress or (lambda _: None)
        self._stop = stop or (lambda: False)
        self._pool = ThreadPoolExecutor(max_workers=len(self.parties))

    @property
    def threshold(self) -> int:
        n = len(self.parties)
        return self.plan.secure_threshold or (n // 2 + 1)

    def _alive(self) -> list[str]:
        return [name for name in self.parties if name not in self.progress.dropped]

    def _call(
        self, names: Sequence[str], message: Callable[[str], dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, BaseException]]:
        futures = {n: self._pool.submit(self.parties[n].compute, message(n)) for n in names}
        answers, failures = {}, {}
        for name, future in futures.items():
            try:
                answers[name] = future.result()
            except BaseException as exc:
                failures[name] = exc
        return answers, failures

    def _fail(self, failures: dict[str, BaseException]) -> None:
        for name in failures:
            self.progress.lake_states[name] = "failed"
        self._on_progress(self.progress)
        raise next(iter(failures.values()))

    def _setup_secure(self) -> None:
        base = {"plan": self.plan.hash, "round": 1}
        roster = list(self.parties)
        keys, failures = self._call(roster, lambda _: {**base, "phase": "keys"})
        if failures:
            self._fail(failures)
        public = {name: keys[name]["keys"] for name in roster}
        deal = {
            **base,
            "phase": "deal",
            "roster": roster,
            "public": public,
            "threshold": self.threshold,
        }
        sealed, failures = self._call(roster, lambda _: deal)
        if failures:
            self._fail(failures)
        inbox = {
            name: {sender: sealed[sender]["sealed"][name] for sender in roster if sender != name}
            for name in roster
        }
        _, failures = self._call(
            roster, lambda name: {**base, "phase": "receive", "inbox": inbox[name]}
        )
        if failures:
            self._fail(failures)
        self.progress.secure = {"roster": roster, "public": public, "threshold": self.threshold}

    def _aggregate(self, message: dict[str, Any], slot: int) -> np.ndarray:
        """The sum over the lakes still taking part of their vectors for ``message``."""
        participants = self._alive()
        message = {**message, "participants": participants}
        answers, failures = self._call(participants, lambda _: message)
        if not self.plan.secure_aggregation:
            if failures:
                self._fail(failures)
            return np.sum([np.asarray(a["vector"]) for a in answers.values()], axis=0)
        from ..secure import AggregationAborted, unmask, unpack

        hard = {n: e for n, e in failures.items() if not isinstance(e, LakeError)}
        if hard:
            self._fail(hard)
        secure = self.progress.secure
        assert secure is not None
        if len(answers) < secure["threshold"]:
            self._abort(failures, len(answers), secure["threshold"])
        reveal_request = {
            "plan": self.plan.hash,
            "phase": "unmask",
            "round": slot + 1,
            "slot": slot,
            "received": sorted(answers),
            "participants": participants,
        }
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

    def fit(self) -> LogisticModel:
        """Train from scratch, or from the last completed round recorded in ``progress``."""
        plan, progress = self.plan, self.progress
        d = len(plan.features)
        try:
            self._set_all("running")
            if plan.secure_aggregation and progress.secure is None:
                self._setup_secure()
            if progress.mean is None or progress.std is None:
                if self.preset is not None:
                    standardizer = self.preset
                else:
                    stats = self._aggregate({"plan": plan.hash, "phase": "stats", "round": 1}, 0)
                    standardizer = Standardizer.from_stats(stats, d)
                progress.mean = standardizer.mean.tolist()
                progress.std = standardizer.std.tolist()
                progress.weights = [0.0] * (d + 1)
            mean, std = np.asarray(progress.mean), np.asarray(progress.std)
            weights = np.asarray(progress.weights, dtype=np.float64)
            for r in range(progress.rounds_done + 1, plan.rounds + 1):
                if self._stop():
                    raise CollabError(f"the job was cancelled after {r - 1} rounds")
                message = {
                    "plan": plan.hash,
                    "phase": "round",
                    "round": r,
                    "weights": weights.tolist(),
                    "mean": progress.mean,
                    "std": progress.std,
                }
                started = time.perf_counter()
                total = self._aggregate(message, r)
                rows = total[d + 1]
                if rows <= 0:
                    raise PlanError(f"no lake has labelled rows in table {plan.table!r}")
                weights = weights + total[: d + 1] / rows
                progress.history.append(
                    RoundRecord(
                        round=r,
                        loss=float(total[d + 2] / rows),
                        accuracy=float(total[d + 3] / rows),
                        rows=round(rows),
                        seconds=time.perf_counter() - started,
                    )
                )
                progress.weights = weights.tolist()
                progress.rounds_done = r
                self._on_progress(progress)
            self._set_all("done")
        finally:
            self._pool.shutdown(wait=False)
        return LogisticModel.from_standardised(
            weights,
            mean,
            std,
            features=plan.features,
            label=plan.label,
            lakes=tuple(self._alive()),
            rounds=plan.rounds,
            plan_hash=plan.hash,
        )
