"""A model's quality on rows it never trained on, from sums a lake can release.

Every lake holds out a seeded, stratified share of its rows (:func:`holdout_mask`), which a
plan's training never touches. Evaluating a model there gives per-lake sums that add up across
lakes (:func:`evaluation_sums`): for a classifier the confusion matrix, the log loss and, per
class, histograms of the predicted probability for the rows of that class and for the others;
for a regression the squared and absolute errors and the label's sums. The pooled sums give
scikit-learn's metrics (:func:`evaluation_metrics`); ROC AUC comes from the histograms, exact up
to ties inside a bin (its stated error, ``roc_auc_error``).

:class:`Evaluation` is the request ``fed.evaluate(model, table)`` sends: a finished model
evaluated on all rows of another federation's table, approved like a plan.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._errors import PlanError, PolicyViolation
from .._schema import ColumnSchema
from ._classes import class_index
from ._model import Model, model_from_document
from ._parameters import Param
from ._plan import Plan, register_family
from ._stats import Standardizer
from ._update import Update

SCORE_BINS = 100
REGRESSION_METRICS = ("rmse", "mae", "r2")
CLASSIFICATION_METRICS = (
    "accuracy",
    "log_loss",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "confusion_matrix",
)
# what job.history shows per evaluated round, prefixed val_
HISTORY_VALIDATION = {
    "classification": ("accuracy", "log_loss", "precision", "recall", "f1", "roc_auc"),
    "regression": REGRESSION_METRICS,
}
_LOG_FLOOR = 1e-15  # scikit-learn's clipping of probabilities in log_loss


def holdout_mask(y: np.ndarray, share: float, *, stratify: bool, seed: int = 0) -> np.ndarray:
    """Which rows of a block are held out (``True``): ``round(share * n)`` of them, per label
    value when ``stratify``. Seeded by the block's labels, so every pass over the same rows
    (statistics, each round, each evaluation) holds out the same ones."""
    n = len(y)
    held = np.zeros(n, dtype=bool)
    if share <= 0 or n == 0:
        return held
    labels = np.ascontiguousarray(y, dtype=np.float64)
    rng = np.random.default_rng([seed, zlib.crc32(labels.tobytes()), n])
    u = rng.random(n)
    groups = (
        [np.flatnonzero(labels == v) for v in np.unique(labels)] if stratify else [np.arange(n)]
    )
    for rows in groups:
        take = round(share * len(rows))
        if take:
            held[rows[np.argpartition(u[rows], take - 1)[:take]]] = True
    return held


def evaluation_size(task: str, n_classes: int) -> int:
    if task == "regression":
        return 5
    k = n_classes
    return 1 + k * k + 1 + 2 * k * SCORE_BINS  # rows, confusion, log loss, score histograms


def evaluation_sums(model: Model, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """The sums of ``model`` on raw rows ``X`` with labels ``y``, and how many labels the
    model cannot score (not one of its classes: the lake refuses, never releasing them)."""
    if model.task == "regression":
        err = model.predict(X) - y if len(y) else np.zeros(0)
        return np.array(
            [len(y), float(err @ err), float(np.abs(err).sum()), float(y.sum()), float(y @ y)]
        ), 0
    classes = model.class_values  # type: ignore[attr-defined]
    k = len(classes)
    t, valid = class_index(y, tuple(classes))
    invalid = int(np.count_nonzero(~valid))
    t, X = t[valid], X[valid]
    out = np.zeros(evaluation_size("classification", k))
    if len(t) == 0:
        return out, invalid
    try:
        P = model.predict_proba(X)  # type: ignore[attr-defined]
    except (AttributeError, NotImplementedError):  # a model of hard predictions only
        P = (model.predict(X)[:, None] == model.classes_[None, :]).astype(np.float64)  # type: ignore[attr-defined]
    picked = np.clip(P[np.arange(len(t)), t], _LOG_FLOOR, 1 - _LOG_FLOOR)
    out[0] = len(t)
    out[1 : 1 + k * k] = np.bincount(t * k + np.argmax(P, axis=1), minlength=k * k)
    out[1 + k * k] = float(-np.log(picked).sum())
    bins = np.clip((P * SCORE_BINS).astype(np.int64), 0, SCORE_BINS - 1)
    histograms = np.zeros((k, 2, SCORE_BINS))
    for c in range(k):
        own = t == c
        histograms[c, 0] = np.bincount(bins[own, c], minlength=SCORE_BINS)
        histograms[c, 1] = np.bincount(bins[~own, c], minlength=SCORE_BINS)
    out[2 + k * k :] = histograms.ravel()
    return out, invalid


def evaluation_metrics(task: str, n_classes: int, sums: np.ndarray) -> dict[str, Any]:
    """scikit-learn's metrics from pooled :func:`evaluation_sums` (precision, recall and F1
    of class 1 for two classes, macro averages for more; ROC AUC one-vs-rest, macro)."""
    sums = np.asarray(sums, dtype=np.float64)
    if task == "regression":
        n, sse, sae, total, squares = sums
        if n <= 0:
            return {name: float("nan") for name in REGRESSION_METRICS}
        variance = squares - total * total / n
        return {
            "rmse": float(np.sqrt(sse / n)),
            "mae": float(sae / n),
            "r2": float(1 - sse / variance) if variance > 0 else float("nan"),
        }
    k = n_classes
    n = sums[0]
    if n <= 0:
        return {name: float("nan") for name in CLASSIFICATION_METRICS}
    confusion = np.rint(sums[1 : 1 + k * k]).reshape(k, k)
    truly, said = confusion.sum(axis=1), confusion.sum(axis=0)
    hits = np.diag(confusion)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(said > 0, hits / said, 0.0)
        recall = np.where(truly > 0, hits / truly, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    pick = (lambda v: float(v[1])) if k == 2 else (lambda v: float(v.mean()))
    histograms = sums[2 + k * k :].reshape(k, 2, SCORE_BINS)
    aucs, errors = zip(*(_auc(histograms[c, 0], histograms[c, 1]) for c in range(k)), strict=True)
    return {
        "accuracy": float(hits.sum() / n),
        "log_loss": float(sums[1 + k * k] / n),
        "precision": pick(precision),
        "recall": pick(recall),
        "f1": pick(f1),
        "roc_auc": float(aucs[1]) if k == 2 else float(np.mean(aucs)),
        "roc_auc_error": float(errors[1]) if k == 2 else float(np.mean(errors)),
        "confusion_matrix": confusion.astype(int).tolist(),
    }


def _auc(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float]:
    """ROC AUC from score histograms (ties inside a bin count half), and its largest error:
    half the share of positive-negative pairs that fall in the same bin."""
    p, q = positive.sum(), negative.sum()
    if p <= 0 or q <= 0:
        return float("nan"), float("nan")
    below = np.concatenate([[0.0], np.cumsum(negative)[:-1]])
    pairs = float(p * q)
    same = float(positive @ negative)
    auc = float((positive @ below + 0.5 * same) / pairs)
    return auc, 0.5 * same / pairs


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class Evaluation(Plan):
    """A finished model evaluated on every row of a table (``model.evaluate(fed, table)``).

    Parameters
    ----------
    table, features, label
        The table and the model's own features and label.
    trained
        The model's learned values (``model.to_document(learned_only=True)``): what the
        owners approve.
    """

    model: ClassVar[str] = "model_evaluation"
    task: ClassVar[str] = "evaluation"  # type: ignore[misc]
    history_metrics: ClassVar[tuple[str, ...]] = ()
    scales_rows: ClassVar[bool] = False

    parameters: ClassVar[tuple[Param, ...]] = (
        Param(
            "trained",
            "mapping",
            "The model's learned values (model.to_document(learned_only=True)): what the "
            "owners approve.",
        ),
    )

    trained: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def _validate(self) -> None:
        try:
            fitted = self.fitted
        except Exception as exc:
            raise PlanError(f"an evaluation request needs a trained collab model ({exc})") from exc
        if tuple(fitted.feature_names_in_) != tuple(self.features) or fitted.label != self.label:
            raise PlanError("an evaluation request's columns must be its model's")
        if self.transforms:
            raise PlanError("an evaluation request takes its model's transforms, not its own")
        design = fitted.design
        if design is not None and self.encoding is None:  # the model's categories, as it has them
            object.__setattr__(
                self, "encoding", {"categories": {k: list(v) for k, v in design.categories.items()}}
            )

    @property
    def encodings(self) -> dict[str, tuple[Any, ...]]:
        coded = dict(self.design.categories)
        classes = getattr(self.fitted, "classes_", None)
        if classes is not None and np.asarray(classes).dtype.kind not in "fiub":
            coded[self.label] = tuple(np.asarray(classes).tolist())
        return coded

    @property
    def fitted(self) -> Model:
        return model_from_document(self.trained)

    @property
    def family(self) -> str:
        return str(self.trained.get("family"))

    def check_label(self, column: ColumnSchema, where: str) -> None:
        if self.fitted.task == "regression" and not column.is_numeric:
            raise PlanError(f"{where}: label {column.name!r} is not numeric")

    @property
    def total_rounds(self) -> int:
        return 1

    def _shape(self) -> tuple[str, int]:
        fitted = self.fitted
        classes = getattr(fitted, "classes_", ())
        return fitted.task, len(classes)

    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        return {}

    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        return {"evaluate": True} if round_ == 1 else None

    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        if dict(request) != {"evaluate": True}:
            raise PolicyViolation("an evaluation round's request must be {'evaluate': True}")

    def update_size(self, n_features: int) -> int:
        return Update.size(0, evaluation_size(*self._shape()))

    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        sums, invalid = evaluation_sums(self.fitted, Z, y)
        return Update(rows=float(len(y)), metrics=np.zeros(0), values=sums, invalid=invalid)

    def invalid_labels(self, y: np.ndarray) -> int:
        fitted = self.fitted
        if fitted.task == "regression":
            return 0
        classes = tuple(fitted.class_values)  # type: ignore[attr-defined]
        return int(np.count_nonzero(~class_index(y, classes)[1]))

    @property
    def governing_family(self) -> str:
        return self.family

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        return {"values": update.values.tolist()}

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        return {}

    def build_model(  # type: ignore[override]
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> dict[str, Any]:
        task, k = self._shape()
        return evaluation_metrics(task, k, np.asarray(state["values"]))

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        fitted = self.fitted
        if fitted.task == "regression":
            return rng.standard_normal(n)
        return rng.choice(fitted.class_values, size=n)  # type: ignore[attr-defined]
