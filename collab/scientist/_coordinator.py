"""Federated averaging, coordinated from the scientist's side.

The coordinator only ever holds public state (the global weights, the federated feature
statistics) and sums over lakes; the same loop drives real lakes and ``simulate``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import CollabError, PlanError
from ..plans import LogisticModel, LogisticRegression
from ..plans._steps import Standardizer
from ._parties import Party


@dataclass
class RoundRecord:
    round: int
    loss: float
    accuracy: float
    rows: int


@dataclass
class Progress:
    """What a running job reports: per-lake state and rounds done."""

    lake_states: dict[str, str]
    rounds_done: int = 0
    history: list[RoundRecord] = field(default_factory=list)


class FedAvg:
    """Weighted federated averaging of logistic-regression updates over ``parties``."""

    def __init__(
        self,
        plan: LogisticRegression,
        parties: Sequence[Party],
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        if not parties:
            raise PlanError("a federated job needs at least one lake")
        self.plan = plan
        self.parties = list(parties)
        self.progress = Progress(lake_states={p.name: "waiting" for p in parties})
        self._on_progress = on_progress or (lambda _: None)
        self._stop = stop or (lambda: False)
        self._pool = ThreadPoolExecutor(max_workers=len(self.parties))

    def _set_all(self, state: str) -> None:
        for name in self.progress.lake_states:
            self.progress.lake_states[name] = state
        self._on_progress(self.progress)

    def _gather(self, message: dict[str, Any]) -> np.ndarray:
        """Each lake's vector for ``message``, summed; the first failure names its lake."""
        futures = {p.name: self._pool.submit(p.compute, message) for p in self.parties}
        total: np.ndarray | None = None
        failure: BaseException | None = None
        for name, future in futures.items():
            try:
                vector = future.result()
            except BaseException as exc:
                self.progress.lake_states[name] = "failed"
                failure = failure or exc
                continue
            total = vector if total is None else total + vector
        if failure is not None:
            self._on_progress(self.progress)
            raise failure
        assert total is not None
        return total

    def fit(self) -> LogisticModel:
        plan = self.plan
        d = len(plan.features)
        try:
            self._set_all("running")
            stats = self._gather({"plan": plan.hash, "phase": "stats", "round": 1})
            standardizer = Standardizer.from_stats(stats, d)
            weights = np.zeros(d + 1)
            for r in range(1, plan.rounds + 1):
                if self._stop():
                    raise CollabError(f"the job was cancelled after {r - 1} rounds")
                message = {
                    "plan": plan.hash,
                    "phase": "round",
                    "round": r,
                    "weights": weights.tolist(),
                    "mean": standardizer.mean.tolist(),
                    "std": standardizer.std.tolist(),
                }
                total = self._gather(message)
                rows = total[d + 1]
                if rows <= 0:
                    raise PlanError(f"no lake has labelled rows in table {plan.table!r}")
                weights = weights + total[: d + 1] / rows
                self.progress.history.append(
                    RoundRecord(
                        round=r,
                        loss=float(total[d + 2] / rows),
                        accuracy=float(total[d + 3] / rows),
                        rows=round(rows),
                    )
                )
                self.progress.rounds_done = r
                self._on_progress(self.progress)
            self._set_all("done")
        finally:
            self._pool.shutdown(wait=False)
        return LogisticModel.from_standardised(
            weights,
            standardizer.mean,
            standardizer.std,
            features=plan.features,
            label=plan.label,
            lakes=tuple(p.name for p in self.parties),
            rounds=plan.rounds,
            plan_hash=plan.hash,
        )
