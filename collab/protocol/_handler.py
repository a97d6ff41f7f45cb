"""The one lake-side handler of a phase, run by real lakes and by ``simulate``'s mock lakes.

A real lake's runner first checks that the call belongs to an approved job and may run
(that is governance, and stays with the lake); then this handler checks the message against
the plan, computes the lake's sums over its rows (:class:`Rows`: Spark over the table, or
synthetic arrays), refuses what the owner's policy forbids, and releases the result through
the privacy mods (DP noise, then masking).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from .._errors import PlanError, PolicyViolation, PrivacyError
from .._policy import Policy
from ..plans import Plan, Standardizer, Update
from ..plans._evaluation import evaluation_size, evaluation_sums, holdout_mask
from ..plans._stats import STAT_METRICS, labelled, stats_size, table_stats
from ..secure import MaskingParty, dp_mod, release, secure_threshold
from ._messages import Deal, Evaluate, Keys, Message, Receive, Round, Stats, Unmask, parse
from ._schedule import Executions, Schedule

Compute = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Rows(Protocol):
    """A lake's rows of the plan's columns, as the handler computes over them."""

    def total(
        self,
        compute: Callable[..., np.ndarray],
        size: int,
        standardizer: Standardizer | None,
        job: str | None = None,
    ) -> np.ndarray:
        """The sum of ``compute(X, y)`` over blocks of labelled rows; with ``standardizer``,
        ``X`` arrives standardised; with ``job``, ``compute(X, y, state)`` also takes the
        block's state of that job (:meth:`collab.plans.LakeStep.job_update`)."""
        ...

    def drop_job(self, job: str) -> None:
        """Remove ``job``'s state (the job ended)."""
        ...


class MaskingStore(Protocol):
    """Where a lake keeps its secure-aggregation party between phases."""

    def load(self) -> MaskingParty | None: ...

    def save(self, party: MaskingParty) -> None: ...


class ArrayRows:
    """Rows held as arrays (a mock lake's synthetic rows, a test's table)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        keep = ~np.isnan(y)
        self.X, self.y = np.asarray(X, dtype=np.float64)[keep], np.asarray(y, np.float64)[keep]
        self.states: dict[str, dict[str, np.ndarray]] = {}  # per job, in memory

    def total(
        self,
        compute: Callable[..., np.ndarray],
        size: int,
        standardizer: Standardizer | None,
        job: str | None = None,
    ) -> np.ndarray:
        X = self.X if standardizer is None else standardizer.transform(self.X)
        if job is None:
            vector = compute(X, self.y)
        else:
            vector = compute(X, self.y, self.states.setdefault(job, {}))
        if vector.shape != (size,):
            raise ValueError(f"a step returned {vector.shape[0]} values, not {size}")
        return vector

    def drop_job(self, job: str) -> None:
        self.states.pop(job, None)


class MemoryMasking:
    """A masking party kept in memory (mock lakes)."""

    def __init__(self) -> None:
        self._party: MaskingParty | None = None

    def load(self) -> MaskingParty | None:
        return self._party

    def save(self, party: MaskingParty) -> None:
        self._party = party


class PartyHandler:
    """Handles every phase of one job for one lake."""

    def __init__(
        self,
        plan: Plan,
        *,
        lake: str,
        job_id: str,
        rows: Callable[[], Rows],
        masking: MaskingStore,
        policy: Policy,
        bounds: Mapping[str, tuple[float, float] | None],
    ) -> None:
        self.plan = plan
        self.schedule = Schedule.of(plan)
        self.lake = lake
        self.job_id = job_id
        self._rows = rows
        self._masking = masking
        self.policy = policy
        self.bounds = bounds
        self.blanked = 0  # cells the last release blanked as below the policy's min_rows

    @property
    def _where(self) -> str:
        return f"lake {self.lake!r}, table {self.plan.table!r}"

    def _party(self) -> MaskingParty:
        party = self._masking.load()
        if party is None:
            raise PolicyViolation(
                f"job {self.job_id[:8]}: secure aggregation was not set up on this lake"
            )
        return party

    def parse(self, data: Any) -> Message:
        """The typed message of ``data`` (a decoded JSON object); refused naming the job."""
        try:
            return parse(data)
        except PolicyViolation as exc:
            raise PolicyViolation(f"job {self.job_id[:8]}: {exc}") from exc

    def check(self, message: Message) -> None:
        """Refuse a message this plan never sends (before any row is touched)."""
        plan = self.plan
        if message.plan != plan.hash:
            raise PrivacyError(f"job {self.job_id[:8]}: the round message names another plan")
        if message.phase.secure_only and not plan.secure_aggregation:
            raise PolicyViolation(
                f"job {self.job_id[:8]}: the plan does not use secure aggregation"
            )
        if isinstance(message, Stats) and plan.dp is not None:
            raise PrivacyError(
                f"job {self.job_id[:8]}: a DP plan scales by published bounds; exact "
                "statistics are never released for it"
            )
        if isinstance(message, Deal):
            floor = secure_threshold(len(message.roster), plan.secure_threshold)
            if message.threshold < floor:
                raise PrivacyError(
                    f"job {self.job_id[:8]}: threshold {message.threshold} is below the plan's "
                    f"{floor}; a lower threshold would let fewer lakes unmask shares"
                )
            if self.lake not in message.roster:
                raise PolicyViolation(f"job {self.job_id[:8]}: this lake is not in the roster")
        if isinstance(message, Round):
            self.schedule.check_round(self.job_id, message.round)
            try:
                plan.check_request(message.request, plan.n_inputs)
            except PolicyViolation as exc:
                raise PolicyViolation(f"job {self.job_id[:8]}: {exc}") from exc
            if plan.dp is None:  # the standardisation it carries, refused here if unusable
                plan.row_scaling(lambda: self._standardizer(message))
            if message.evaluate and not (plan.holdout > 0 and plan.evaluates_rounds):
                raise PolicyViolation(
                    f"job {self.job_id[:8]}: this plan evaluates no model during its rounds"
                )
        if isinstance(message, Evaluate):
            if plan.holdout <= 0 or message.round != 1:
                raise PolicyViolation(
                    f"job {self.job_id[:8]}: this plan holds out no rows to evaluate on"
                    if plan.holdout <= 0
                    else f"job {self.job_id[:8]}: a job's model is evaluated once"
                )
            if message.slot != self.schedule.evaluation_slot:  # the last masking slot
                raise PrivacyError(f"job {self.job_id[:8]}: the evaluation names another slot")
            try:
                plan.check_request(message.request, plan.n_inputs)
            except PolicyViolation as exc:
                raise PolicyViolation(f"job {self.job_id[:8]}: {exc}") from exc
            self._standardizer(message)

    def _standardizer(self, message: Round | Evaluate) -> Standardizer:
        d = self.plan.n_inputs
        if self.plan.dp is not None:
            return self.plan.dp_standardizer(self.bounds)  # type: ignore[arg-type]
        try:
            standardizer = Standardizer.from_dict(message.standardizer or {})
        except Exception as exc:
            raise PolicyViolation(
                f"job {self.job_id[:8]}: round message has no usable standardisation ({exc})"
            ) from exc
        if (
            standardizer.mean.shape != (d,)
            or standardizer.std.shape != (d,)
            or not np.all(standardizer.std > 0)
            or not np.all(np.isfinite(standardizer.mean))
        ):
            raise PolicyViolation(f"job {self.job_id[:8]}: round message has the wrong shapes")
        self._check_fills(standardizer)
        return standardizer

    def _check_fills(self, standardizer: Standardizer) -> None:
        """A fill must be for an imputed feature, and a level's index must be one of its."""
        columns = {c.name: c for c in self.plan.design.columns if c.impute is not None}
        for name, value in standardizer.fills.items():
            column = columns.get(name)
            if (
                column is None
                or not np.isfinite(value)
                or (column.levels and (value != int(value) or not 0 <= value < column.levels))
            ):
                raise PolicyViolation(
                    f"job {self.job_id[:8]}: round message fills {name!r}, which the plan "
                    "does not impute that way"
                )

    def run(
        self, message: Message, message_hash: str, executions: Executions
    ) -> tuple[dict[str, Any], bool]:
        """This lake's answer to a checked ``message`` as the job's schedule admits it
        (:meth:`Schedule.admit`), counted in ``executions``; and whether it is the stored
        answer of a replay rather than a new release."""
        phase, round_ = message.phase.value, message.round
        stored = executions.claim_execution(
            self.job_id, phase, round_, schedule=self.schedule, message_hash=message_hash
        )
        if stored is not None:
            return stored, True
        result = self.handle(message)
        executions.store_result(self.job_id, phase, round_, result)
        return result, False

    def handle(self, message: Message) -> dict[str, Any]:
        """This lake's answer to ``message``, uncounted (:meth:`run` counts it)."""
        self.check(message)
        if isinstance(message, Keys):
            party = MaskingParty.create(self.lake, self.job_id)
            self._masking.save(party)
            return {"keys": party.public_keys()}
        if isinstance(message, Deal):
            party = self._party()
            sealed = party.deal(
                message.roster,
                message.public,
                message.threshold,
                slots=self.schedule.masking_slots,
            )
            self._masking.save(party)
            return {"sealed": sealed}
        if isinstance(message, Receive):
            party = self._party()
            party.receive(message.inbox)
            self._masking.save(party)
            return {"received": len(message.inbox)}
        if isinstance(message, Unmask):
            party = self._party()
            reveal = party.reveal(message.slot, message.received, message.participants)
            self._masking.save(party)
            return {"reveal": reveal}
        if isinstance(message, Evaluate):
            vector = self._evaluation(message.request, self._standardizer(message))
            masking = self._party() if self.plan.secure_aggregation else None
            if self._ends_job_state(message):
                self._rows().drop_job(self.job_id)
            return release(lambda: vector, masking, message.slot, message.participants)
        assert isinstance(message, Stats | Round)
        answer = self._compute(message)
        if self._ends_job_state(message):
            self._rows().drop_job(self.job_id)
        return answer

    def _held_out(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """Which rows of a block the plan holds out for validation (``None``: none)."""
        share, stratify = self.plan.holdout, self.plan.task == "classification"
        if share <= 0:
            return None
        return lambda y: holdout_mask(y, share, stratify=stratify)

    def _evaluation(self, request: dict[str, Any], standardizer: Standardizer) -> np.ndarray:
        """The sums of the model ``request`` carries over this lake's held-out rows; nothing
        (zeros) from a lake holding out fewer rows than its policy's minimum."""
        held_out = self._held_out()
        assert held_out is not None
        model = self.plan.model_from(request, standardizer)
        size = evaluation_size(model.task, len(getattr(model, "classes_", ())))

        def evaluate(X: np.ndarray, y: np.ndarray) -> np.ndarray:
            held = held_out(y)
            return evaluation_sums(model, X[held], y[held])[0]

        vector = self._rows().total(evaluate, size, None)
        if vector[0] < self.policy.min_rows:
            return np.zeros(size)
        return vector

    def _sums(self, message: Stats | Round) -> Update:
        """This lake's sums for ``message`` over its rows. The step given to the rows may be
        shipped to Spark's workers: it holds the plan and the request, never the handler."""
        plan = self.plan
        design = plan.design
        d = plan.n_inputs
        rows = self._rows()
        held_out = self._held_out()
        if isinstance(message, Stats):
            min_rows = self.policy.min_rows

            def stats(X: np.ndarray, y: np.ndarray) -> np.ndarray:
                invalid = plan.invalid_labels(y)  # over every row, held out or not
                if held_out is not None:  # the standardisation comes from training rows only
                    train = ~held_out(y)
                    X, y = X[train], y[train]
                if design.plain:
                    return table_stats(X, y, lambda _: invalid).flat()
                X, y = labelled(X, y)  # what the fitting counts is what trains
                E = design.expand(X)
                return np.concatenate(
                    [table_stats(E, y, lambda _: invalid).flat(), design.fit_sums(X, E)]
                )

            total = rows.total(stats, stats_size(d) + design.fit_size, None)
            if design.fit_size:  # a histogram's small cells never leave the lake
                tail, self.blanked = design.blank_small_cells(total[stats_size(d) :], min_rows)
                total = np.concatenate([total[: stats_size(d)], tail])
            return Update.from_flat(total, len(STAT_METRICS))
        request, dp = message.request, plan.dp

        def step(Z: np.ndarray, y: np.ndarray, state: dict[str, np.ndarray] | None = None) -> Any:
            if held_out is not None:
                train = ~held_out(y)
                Z, y = Z[train], y[train]
            clip = None if dp is None else float(dp.clip_norm)
            if state is not None:
                return plan.job_update(Z, y, request, state, clip).flat()
            if clip is None:
                return plan.local_update(Z, y, request).flat()
            return plan.dp_update(Z, y, request, clip).flat()

        scaling = plan.row_scaling(lambda: self._standardizer(message))
        if plan.keeps_job_state:
            total = rows.total(step, plan.update_size(d), scaling, self.job_id)
        else:
            total = rows.total(step, plan.update_size(d), scaling)
        return Update.from_flat(total, len(plan.metric_sums))

    def _ends_job_state(self, message: Message) -> bool:
        """Whether the job's state on this lake is of no further use after ``message``."""
        if not self.plan.keeps_job_state:
            return False
        if isinstance(message, Evaluate):
            return True
        return isinstance(message, Round) and (
            self.plan.ends_job_state(message.request)
            or (self.schedule.rounds is not None and message.round >= self.schedule.rounds)
        )

    def _compute(self, message: Stats | Round) -> dict[str, Any]:
        plan = self.plan
        update = self._sums(message)
        if update.invalid > 0:
            raise PlanError(
                f"{self._where}: {int(update.invalid)} labelled row(s) of column "
                f"{plan.label!r} hold a value {plan.model} cannot use (for a classifier: not "
                "one of the plan's classes). The values are not sent; ask the owner which "
                "values the column holds, or fix the plan's classes."
            )
        if update.rows < self.policy.min_rows:
            raise PolicyViolation(
                f"{self._where}: fewer {'labelled ' if plan.label else ''}rows than the owner's "
                "minimum of "
                f"{self.policy.min_rows}; this lake cannot take part."
            )

        if plan.dp is None:  # with DP, noise protects small cells instead
            exact = update
            try:
                update = plan.suppress(update, self.policy.min_rows)
            except PolicyViolation as exc:  # a refusal of the rows' make-up names the table
                raise PolicyViolation(f"{self._where}: {exc}") from None
            self.blanked += int(np.count_nonzero((exact.values == 0) & (update.values == 1)))

        evaluation = None
        if isinstance(message, Round) and message.evaluate:
            evaluation = self._evaluation(message.request, self._standardizer(message))

        def step() -> np.ndarray:
            if evaluation is None:
                return update.released()
            return np.concatenate([update.released(), evaluation])

        masking = self._party() if plan.secure_aggregation else None
        if plan.dp is not None and isinstance(message, Round):
            step = dp_mod(
                plan.dp,
                releases=plan.total_rounds,
                row_bound=plan.dp_row_bound(float(plan.dp.clip_norm)),
                shares=masking.threshold if masking is not None else 1,
            )(step)
        return release(step, masking, message.slot, message.participants)
