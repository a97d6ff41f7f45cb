"""What every family trained by federated rounds shares: local gradient steps on a lake's
rows, FedAvg/FedProx, an optional server optimiser, and per-row clipping for DP.

A family built on :class:`RoundPlan` says how to compute its gradient and metrics on a block
of standardised rows; this module runs ``local_epochs`` passes of (mini-batch) gradient
descent from the global weights, returns the row-weighted change, and moves the global
weights with the server optimiser once the changes are summed across lakes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._errors import PlanError, PolicyViolation
from .._policy import Policy
from ._parameters import Param, dp_fixed
from ._plan import Plan
from ._server_optimizer import SERVER_OPTIMIZERS, default_server_learning_rate, server_step
from ._stats import Standardizer
from ._update import Update


@dataclass(frozen=True, eq=False, kw_only=True)
class RoundPlan(Plan):
    """Base of families trained by federated averaging (FedAvg), or FedProx with ``fedprox_mu``.

    Parameters
    ----------
    rounds
        Federated rounds; each lake runs one local step per round.
    local_epochs
        Passes over a lake's rows inside one round.
    learning_rate
        Step size of local gradient descent on standardised features.
    batch_size
        Rows per local gradient step; ``None`` uses the whole block of rows (full batch).
    l2
        L2 penalty on the weights (not the intercepts).
    fedprox_mu
        FedProx's proximal term (Li et al., 2020): local steps are pulled towards the global
        weights, which keeps lakes whose rows differ from drifting apart over many local
        epochs; 0 is plain FedAvg.
    server_optimizer
        How the coordinator applies the lakes' mean change: ``"sgd"`` (FedAvg), or the
        adaptive ``"adam"``, ``"yogi"``, ``"adagrad"`` (Reddi et al., 2021).
    server_learning_rate
        The coordinator's step size; ``None`` is 1.0 for ``"sgd"`` and 0.1 otherwise.
    validation
        The share of each lake's rows held out (seeded, stratified by class) and never
        trained on; the model is evaluated there as it trains and at the end. ``None`` is 0.2
        without DP and 0 with it (validation metrics under DP are not released).
    evaluate_every
        Evaluate on the held-out rows every this many rounds (and always at the end).
    early_stopping_rounds
        Stop after this many evaluations without a better validation loss (log loss for a
        classifier, RMSE for a regression) and keep the best model; ``None`` trains all rounds.
    """

    parameters: ClassVar[tuple[Param, ...]] = (
        Param("rounds", "int", "Federated rounds; each lake runs one local step per round.", low=1),
        Param(
            "local_epochs", "int", "Passes over a lake's rows inside one round.", low=1, with_dp=1
        ),
        Param(
            "learning_rate",
            "float",
            "Step size of local gradient descent on standardised features.",
            low=0,
            positive=True,
        ),
        Param(
            "batch_size",
            "int",
            "Rows per local gradient step; None uses the whole block of rows (full batch).",
            low=1,
            optional=True,
            must="None or at least 1",
            with_dp=None,
        ),
        Param("l2", "float", "L2 penalty on the weights (not the intercepts).", low=0),
        Param(
            "fedprox_mu",
            "float",
            "FedProx's proximal term: local steps are pulled towards the global weights, which "
            "keeps lakes whose rows differ from drifting apart; 0 is plain FedAvg.",
            low=0,
        ),
        Param(
            "server_optimizer",
            "text",
            "How the coordinator applies the lakes' mean change: sgd (FedAvg), or the adaptive "
            "adam, yogi, adagrad (Reddi et al., 2021).",
            choices=SERVER_OPTIMIZERS,
        ),
        Param(
            "server_learning_rate",
            "float",
            "The coordinator's step size; None is 1.0 for sgd and 0.1 otherwise.",
            low=0,
            positive=True,
            optional=True,
            must="a positive number or None",
        ),
        Param(
            "validation",
            "float",
            "The share of each lake's rows held out (seeded, stratified by class) and never "
            "trained on; the model is evaluated there as it trains and at the end. None is 0.2 "
            "without DP and 0 with it (validation metrics under DP are not released).",
            low=0,
            high=0.5,
            optional=True,
            must="a share of rows from 0 to 0.5",
        ),
        Param(
            "evaluate_every",
            "int",
            "Evaluate on the held-out rows every this many rounds (and always at the end).",
            low=1,
        ),
        Param(
            "early_stopping_rounds",
            "int",
            "Stop after this many evaluations without a better validation loss (log loss for a "
            "classifier, RMSE for a regression) and keep the best model; None trains all "
            "rounds.",
            low=1,
            optional=True,
        ),
    )

    rounds: int = 30
    local_epochs: int = 1
    learning_rate: float = 0.5
    batch_size: int | None = None
    l2: float = 0.0
    fedprox_mu: float = 0.0
    server_optimizer: str = "sgd"
    server_learning_rate: float | None = None
    validation: float | None = None
    evaluate_every: int = 1
    early_stopping_rounds: int | None = None

    def _validate(self) -> None:
        if self.validation is None:
            object.__setattr__(self, "validation", 0.0 if self.dp is not None else 0.2)
        if self.dp is not None and self.validation > 0:
            raise PlanError(
                "validation metrics under DP are not released: set validation=0 for a DP plan "
                "and evaluate the model with model.evaluate(fed, table) on another table"
            )
        if self.early_stopping_rounds is not None and not self.validation:
            raise PlanError("early_stopping_rounds needs validation above 0")
        fixed = dp_fixed(type(self))
        if self.dp is not None and any(getattr(self, n) != v for n, v in fixed.items()):
            settings = " and ".join(f"{name}={value!r}" for name, value in fixed.items())
            raise PlanError(
                "with dp, each round is one full-batch gradient step per lake (the step the "
                f"privacy accounting covers): set {settings}"
            )

    @classmethod
    def policy_limits(cls, policies: Sequence[Policy]) -> dict[str, tuple[int, int]]:
        # a plan runs ``rounds`` rounds (total_rounds), which check_against bounds
        return {"rounds": (1, max(min((p.max_rounds for p in policies), default=1), 1))}

    # --- what a family implements (required) ----------------------------------------------
    @abstractmethod
    def n_weights(self, n_features: int) -> int:
        """How many weights the model has for ``n_features`` inputs."""

    @abstractmethod
    def penalised(self, n_features: int) -> np.ndarray:
        """1.0 where ``l2`` applies (weights), 0.0 where it does not (intercepts)."""

    @abstractmethod
    def gradient(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The mean gradient of the loss over the rows (without the L2 term)."""

    @abstractmethod
    def metric_totals(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Sums named by ``metric_sums`` for the model ``w`` on these rows."""

    # --- what a family may implement (optional) --------------------------------------------
    def initial_weights(self, n_features: int) -> np.ndarray:
        """The weights before the first round (zeros by default)."""
        return np.zeros(self.n_weights(n_features))

    def row_gradients(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """One gradient per row, shape ``(rows, n_weights)`` (for DP clipping)."""
        raise PlanError(f"{self.model} plans do not support differential privacy")

    def row_metrics(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Per-row metric values bounded to [-1, 1], shape ``(rows, len(metric_sums))``."""
        raise PlanError(f"{self.model} plans do not support differential privacy")

    def prepare_labels(self, y: np.ndarray, request: Mapping[str, Any]) -> np.ndarray:
        """The label as the family's arithmetic uses it (class indices, a scaled value)."""
        return y

    def proximal_mu(self) -> float:
        """FedProx's pull towards the global weights during local steps (0 for FedAvg)."""
        return float(self.fedprox_mu)

    # --- the protocol ---------------------------------------------------------------------
    @property
    def total_rounds(self) -> int:
        return int(self.rounds)

    @property
    def holdout(self) -> float:
        return float(self.validation or 0.0)

    @property
    def evaluates_rounds(self) -> bool:
        return self.holdout > 0

    def evaluates_round(self, round_: int) -> bool:
        return self.evaluates_rounds and (round_ - 1) % self.evaluate_every == 0

    @property
    def patience(self) -> int | None:
        return self.early_stopping_rounds

    def evaluation_request(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "weights": list(state["weights"]),
            "label_mean": state.get("label_mean", 0.0),
            "label_std": state.get("label_std", 1.0),
        }

    @property
    def server_rate(self) -> float:
        if self.server_learning_rate is not None:
            return float(self.server_learning_rate)
        return default_server_learning_rate(self.server_optimizer)

    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        d = self.n_inputs
        return {
            "weights": self.initial_weights(d).tolist(),
            "moments": {},
            "label_mean": standardizer.label_mean,
            "label_std": standardizer.label_std,
        }

    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        if round_ > self.rounds:
            return None
        return {
            "weights": list(state["weights"]),
            "label_mean": state.get("label_mean", 0.0),
            "label_std": state.get("label_std", 1.0),
        }

    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        try:
            weights = np.asarray(request["weights"], dtype=np.float64)
            scale = float(request.get("label_std", 1.0))
            float(request.get("label_mean", 0.0))
        except Exception as exc:
            raise PolicyViolation(f"round message has bad weights ({exc})") from exc
        if weights.shape != (self.n_weights(n_features),) or not np.all(np.isfinite(weights)):
            raise PolicyViolation(
                f"round message has bad weights: expected {self.n_weights(n_features)} finite "
                f"numbers, got shape {weights.shape}"
            )
        if not (np.isfinite(scale) and scale > 0):
            raise PolicyViolation("round message has a bad label scale")

    def update_size(self, n_features: int) -> int:
        return Update.size(len(self.metric_sums), self.n_weights(n_features))

    def _usable(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, int]:
        keep = ~np.isnan(y)
        if not keep.all():
            Z, y = Z[keep], y[keep]
        invalid = self.invalid_labels(y)
        if invalid:
            good = self._valid_mask(y)
            Z, y = Z[good], y[good]
        return Z, self.prepare_labels(y, request), invalid

    def _valid_mask(self, y: np.ndarray) -> np.ndarray:
        return np.ones(len(y), dtype=bool)

    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        """``local_epochs`` of gradient descent from the global weights: the row-weighted
        change of the weights; metrics are those of the incoming (global) weights."""
        Z, t, invalid = self._usable(Z, y, request)
        d = self.n_inputs
        w0 = np.asarray(request["weights"], dtype=np.float64)
        n = len(t)
        if n == 0:
            return Update(0.0, np.zeros(len(self.metric_sums)), np.zeros(len(w0)), invalid)
        metrics = self.metric_totals(Z, t, w0)
        w = self.descend(Z, t, w0, self.penalised(d) * self.l2, self.proximal_mu())
        return Update(float(n), metrics, n * (w - w0), float(invalid))

    def descend(
        self, Z: np.ndarray, t: np.ndarray, w0: np.ndarray, mask: np.ndarray, mu: float
    ) -> np.ndarray:
        """The weights after ``local_epochs`` of mini-batch gradient descent from ``w0``
        (``mask``: each weight's L2 penalty; ``mu``: the proximal term's)."""
        w = w0.copy()
        n, batch = len(t), self.batch_size or len(t)
        for _ in range(self.local_epochs):
            for start in range(0, n, batch):
                Zb, tb = Z[start : start + batch], t[start : start + batch]
                g = self.gradient(Zb, tb, w) + mask * w
                if mu:
                    g = g + mu * (w - w0)
                w -= self.learning_rate * g
        return w

    def dp_update(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any], clip_norm: float
    ) -> Update:
        """Per-row gradients clipped to ``clip_norm`` and summed, per-row metrics bounded."""
        Z, t, invalid = self._usable(Z, y, request)
        w = np.asarray(request["weights"], dtype=np.float64)
        if len(t) == 0:
            return Update(0.0, np.zeros(len(self.metric_sums)), np.zeros(len(w)), invalid)
        Z = np.clip(Z, -1.0, 1.0)
        total = np.zeros(len(w))
        metrics = np.zeros(len(self.metric_sums))
        for start in range(0, len(t), 4096):  # bounded memory for wide models
            Zb, tb = Z[start : start + 4096], t[start : start + 4096]
            G = self.row_gradients(Zb, tb, w)
            norms = np.linalg.norm(G, axis=1, keepdims=True)
            total += (G * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-12))).sum(axis=0)
            metrics += np.clip(self.row_metrics(Zb, tb, w), -1.0, 1.0).sum(axis=0)
        return Update(float(len(t)), metrics, total, float(invalid))

    def dp_row_bound(self, clip_norm: float) -> float:
        # one row adds a clipped gradient, 1 to the row count and at most 1 to each metric
        return float(np.sqrt(clip_norm**2 + 1.0 + len(self.metric_sums)))

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        if update.rows <= 0:
            raise PlanError(f"no lake has labelled rows in table {self.table!r}")
        weights = np.asarray(state["weights"], dtype=np.float64)
        if self.dp is not None:  # the sum of clipped gradients: one full-batch step
            delta = -self.learning_rate * update.values / update.rows
        else:
            delta = update.values / update.rows
        new, moments = server_step(
            self.server_optimizer, self.server_rate, weights, delta, state.get("moments")
        )
        return {**state, "weights": new.tolist(), "moments": moments}


@dataclass(frozen=True, eq=False, kw_only=True)
class ClassifierRoundPlan(RoundPlan):
    """A classifier trained by rounds: each round reports the incoming model's log loss and
    its count of correct predictions, so the history shows loss and accuracy."""

    metric_sums: ClassVar[tuple[str, ...]] = ("loss", "correct")
    history_metrics: ClassVar[tuple[str, ...]] = ("loss", "accuracy")
    primary_metric: ClassVar[str] = "accuracy"

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        rows = max(update.rows, 1e-12)
        return {
            "loss": float(update.metrics[0] / rows),
            "accuracy": float(update.metrics[1] / rows),
        }


def softmax(margins: np.ndarray) -> np.ndarray:
    shifted = margins - margins.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))
