"""The two sides of a family, as Flower separates a ClientApp's handlers from a Strategy.

:class:`LakeStep` is what a lake runs for a family: it checks a round's request, takes the
family's step over a block of its rows (exact, or with each row's contribution bounded for
differential privacy) and blanks what its policy will not release. :class:`Strategy` is what
the coordinator runs: the public state before the first round, each round's request, how the
securely aggregated sum moves the state on, the history's metrics, and the model. What the
coordinator needs to know about evaluation on held-out rows and early stopping also comes
from the :class:`Strategy`'s hooks, so the coordinator and the lakes never ask which family
they run.

Both are abstract: a member marked ``@abstractmethod`` is one every family writes (or
inherits from a base such as :class:`~collab.plans.RoundPlan`), and
:func:`~collab.plans.register_family` refuses a class that leaves one out, naming it. The
other members have defaults that fit most families and say in their docstrings when to
write one's own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._errors import PlanError
from ._stats import Standardizer
from ._update import Update

if TYPE_CHECKING:
    from .._schema import ColumnSchema
    from ._model import Model

# the held-out metric a job keeps its best model by (lower is better), per task
VALIDATION_LOSS = {"classification": "log_loss", "regression": "rmse"}


class LakeStep(ABC):
    """What a lake runs for a family, on its own rows (see the module's docstring)."""

    model: str
    label: str
    dp: Any

    # --- required -------------------------------------------------------------------------
    @abstractmethod
    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        """Raise :class:`PolicyViolation` unless ``request`` is one this plan sends."""

    @abstractmethod
    def update_size(self, n_features: int) -> int:
        """Length of the flat vector :meth:`local_update` returns."""

    @abstractmethod
    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        """One lake's step on a block of labelled rows (``Z`` as :meth:`row_scaling` left
        them)."""

    # --- optional -------------------------------------------------------------------------
    def dp_update(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any], clip_norm: float
    ) -> Update:
        """The step with each row's contribution bounded by :meth:`dp_row_bound` in L2 norm
        (``Z`` scaled by the published bounds and clipped to [-1, 1]). A family without it
        refuses differential privacy."""
        raise PlanError(f"{self.model} plans do not support differential privacy")

    def dp_row_bound(self, clip_norm: float) -> float:
        """L2 bound of one row's contribution to :meth:`dp_update`'s flat vector."""
        raise PlanError(f"{self.model} plans do not support differential privacy")

    def suppress(self, update: Update, min_rows: int) -> Update:
        """What of a lake's exact ``update`` it may release under its policy's ``min_rows``
        (a statistics family blanks small cells); the update itself by default."""
        return update

    def release_terms(self, request: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """For a family that releases counts: what an exact (non-DP) release of a round with
        ``request`` fixes for later ones to the same scientist on the same table (a
        histogram's grid; the lakes pooled are always fixed; thresholds counted below
        accumulate up to a limit). A lake refuses a later exact release on other terms,
        since the difference of two could isolate rows. ``None`` for a family that releases
        no counts."""
        return None

    def invalid_labels(self, y: np.ndarray) -> int:
        """How many labelled rows hold a label this family cannot use (never released)."""
        return 0

    def check_label(self, column: ColumnSchema, where: str) -> None:
        """Raise unless this family can learn ``column`` (a :class:`PlanError` naming it);
        any label by default."""
        return None

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        """Labels for a lake's synthetic rows that this plan accepts (``simulate``)."""
        return rng.standard_normal(n)

    # --- optional: state kept on the lake for the life of a job -----------------------------
    keeps_job_state: ClassVar[bool] = False
    """Whether the lake keeps state per block of rows for the life of a job and hands it to
    :meth:`job_update` (a family whose step would otherwise redo work every round)."""

    def job_update(
        self,
        Z: np.ndarray,
        y: np.ndarray,
        request: Mapping[str, Any],
        state: dict[str, np.ndarray],
        clip_norm: float | None,
    ) -> Update:
        """The step of :meth:`local_update` (``clip_norm`` ``None``) or :meth:`dp_update`
        on a block, with the block's job ``state``: named arrays the family reads and
        replaces (never changes in place), kept by the lake between rounds when it can.

        ``state`` is a cache, never an input: it may come empty (the first round, a lake
        that restarted, rows not kept) or from an earlier round, and the family rebuilds
        what is missing or stale from the rows and the request, so that the result equals
        that of an empty ``state``. Nothing of it leaves the lake.

        Where a lake keeps no rows (a Spark cluster), a round after the first may read only
        the state: ``Z`` then stands for rows not read, which can be cut by rows (``Z[keep]``)
        and counted (``len``); any use of its values makes the lake call again with the rows
        and an empty ``state``."""
        if clip_norm is None:
            return self.local_update(Z, y, request)
        return self.dp_update(Z, y, request, clip_norm)

    def ends_job_state(self, request: Mapping[str, Any]) -> bool:
        """Whether the round of ``request`` is the last to use the job's state (the lake
        drops it after; it also drops it after the job's last round, its evaluation, or a
        denial)."""
        return False

    def row_scaling(self, standardizer: Callable[[], Standardizer]) -> Any:
        """What a lake applies to a block of raw rows before the step, given the job's
        standardisation (asked for only when it is used); ``None``: the rows as they are.
        By default ``standardizer()`` (a :class:`~collab.plans.Plan` applies its design
        first)."""
        return standardizer()


class Strategy(ABC):
    """What the coordinator runs for a family (see the module's docstring)."""

    model: str
    task: str
    dp: Any

    # --- required -------------------------------------------------------------------------
    @property
    @abstractmethod
    def total_rounds(self) -> int:
        """The most round executions a lake allows for this plan (and secure-aggregation
        slots it deals): the policy's ``max_rounds`` bounds it."""

    @abstractmethod
    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        """The public state before the first round (JSON-able; a job resumes from it)."""

    @abstractmethod
    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        """The public request of round ``round_`` (sent to every lake), or ``None`` when the
        model is finished."""

    @abstractmethod
    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        """The next public state from the round's aggregated update (the coordinator's step)."""

    @abstractmethod
    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        """The history's values for one round (named by ``history_metrics``)."""

    @abstractmethod
    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> Model:
        """The trained model from the final public state (its inputs named
        :attr:`input_names`)."""

    # --- optional: the job's standardisation ----------------------------------------------
    def preset_standardizer(self) -> Standardizer | None:
        """The job's standardisation when the family needs no pooled statistics phase (it
        reads rows as they are); ``None`` (the default): the coordinator pools the lakes'
        statistics, or takes a DP plan's published bounds."""
        return None

    def round_standardizer(self, standardizer: dict[str, Any]) -> dict[str, Any] | None:
        """What of the job's ``standardizer`` a round's message carries to the lakes: all of
        it without DP; nothing with DP (every lake scales by the published bounds)."""
        return standardizer if self.dp is None else None

    # --- optional: evaluation on held-out rows and early stopping -------------------------
    @property
    def holdout(self) -> float:
        """The share of each lake's rows held out from training for validation (none by
        default)."""
        return 0.0

    @property
    def evaluates_rounds(self) -> bool:
        """Whether a round's request carries a model the lakes can evaluate as they train."""
        return False

    def evaluates_round(self, round_: int) -> bool:
        """Whether round ``round_``'s lakes also evaluate the model entering it on their
        held-out rows (every round the family evaluates, by default)."""
        return self.evaluates_rounds

    def evaluation_request(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The request that carries the model of ``state`` for the final evaluation (it must
        pass :meth:`LakeStep.check_request`); :meth:`build_model` builds the model from it."""
        raise PlanError(f"{self.model} plans are not evaluated on held-out rows")

    def validation_loss(self, scores: Mapping[str, float]) -> float | None:
        """The one held-out metric the job keeps its best model by, lower being better (log
        loss for a classifier, RMSE for a regression); ``None`` when there is none."""
        name = VALIDATION_LOSS.get(self.task)
        return None if name is None else scores.get(name)

    @property
    def patience(self) -> int | None:
        """Stop after this many evaluations without a lower :meth:`validation_loss` and keep
        the best model; ``None`` (the default) trains every round."""
        return None
