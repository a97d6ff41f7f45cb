"""What every trained model shares: its inputs, how missing values are filled, its record."""

from __future__ import annotations

import json
import math
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._display import RichDisplay
from .._errors import PlanError
from .._version import __version__
from ..features import Design
from ..features._design import numeric_rows, numeric_values
from ._registry import FamilyPlan, model_classes, plan_from_spec


@dataclass(frozen=True, eq=False, kw_only=True)
class Model(RichDisplay, ABC):
    """Base of the models plans build, with a scikit-learn-like surface.

    Inputs are the plan's features on their original scale; a missing value counts as the
    federated mean ``feature_means_``. Subclasses add their learned attributes (trailing
    underscore) and ``predict`` (a :class:`Classifier`: ``predict_proba``); ``to_sklearn``,
    the learned values' plain form (``_params``) and their report (``report_table``) are
    optional.
    """

    # the family's name in saved models: the registered family's, set by register_family
    family: ClassVar[str] = ""
    # what the model is, for a view that draws it (JupyterLab's picks its drawing by it):
    # "coefficients" (one per feature, ``coef_``), "trees", or "report" (its table only)
    view: ClassVar[str] = "report"
    task: ClassVar[str] = "classification"

    features: tuple[str, ...]
    label: str
    feature_means_: np.ndarray
    lakes: tuple[str, ...] = ()
    rounds: int = 0
    plan_hash: str = ""
    plan_spec: str = field(default="", repr=False)
    history: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    # the finished model's metrics on the lakes' held-out rows (scikit-learn's names)
    validation: dict[str, Any] = field(default_factory=dict, repr=False)
    # per lake: the audit entry that approved the plan (seq, time, actor, hash)
    approvals: dict[str, Any] = field(default_factory=dict, repr=False)
    # per lake: the table's published row count (rounded down to one significant digit)
    lake_rows: dict[str, int] = field(default_factory=dict, repr=False)
    # the plan's design (raw columns, categories, transforms) and its fitted fills; ``None``
    # when the inputs are the features as they are
    inputs: dict[str, Any] | None = field(default=None, repr=False)
    collab_version: str = field(default=__version__, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "lakes", tuple(self.lakes))
        object.__setattr__(self, "feature_means_", np.asarray(self.feature_means_, dtype=float))
        # plain JSON data whichever way it arrived (a confusion matrix as lists, read or made)
        for name in ("validation", "approvals", "lake_rows"):
            object.__setattr__(self, name, json.loads(json.dumps(dict(getattr(self, name)))))
        if self.inputs is not None:
            object.__setattr__(self, "inputs", json.loads(json.dumps(dict(self.inputs))))

    @property
    def plan(self) -> FamilyPlan | None:
        """The plan (a :class:`~collab.plans.Plan`) this model was trained from; ``None``
        for a model made by hand."""
        return plan_from_spec(json.loads(self.plan_spec)) if self.plan_spec else None

    @property
    def design(self) -> Design | None:
        """How the model turns raw columns into :attr:`features` (``None``: as they are)."""
        return None if self.inputs is None else Design.from_spec(self.inputs)

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The columns the model reads (before one-hot encoding and transforms)."""
        design = self.design
        return np.array(self.features if design is None else design.features, dtype=object)

    @property
    def n_features_in_(self) -> int:
        return len(self.feature_names_in_)

    def _matrix(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The model's inputs from ``X``, a missing value counting as the feature's mean."""
        fills = (self.inputs or {}).get("fills") or {}
        M = self._inputs_of(X, fills)
        return np.where(np.isnan(M), self.feature_means_, M)

    def _inputs_of(self, X: pd.DataFrame | np.ndarray, fills: Mapping[str, Any]) -> np.ndarray:
        """The model's inputs from ``X`` (a DataFrame with its raw columns, or an array of
        them), the design applied with ``fills``; NaN where a value is missing."""
        design = self.design
        columns = list(self.feature_names_in_)
        if isinstance(X, pd.DataFrame):
            missing = [f for f in columns if f not in X.columns]
            if missing:
                raise PlanError(
                    f"the data has no column(s) {', '.join(missing)}; the model was trained on "
                    f"{', '.join(columns)}"
                )
            if design is not None:
                raw = design.raw(X)
            else:
                raw = (
                    np.column_stack([numeric_values(X, c) for c in columns])
                    if len(X)
                    else (np.zeros((0, len(columns))))
                )
        else:
            raw = numeric_rows(X, columns)
        return raw if design is None else design.expand(raw, fills)

    @abstractmethod
    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The prediction for each row of ``X``."""

    def to_sklearn(self) -> Any:
        """An equivalent fitted scikit-learn estimator (where the family has one)."""
        raise PlanError(f"a {self.family} model has no scikit-learn equivalent")

    def _named(self, estimator: Any) -> Any:
        """``estimator`` with the input names scikit-learn records when it is fitted on a
        DataFrame, so it takes the same frames as this model; behind the design's
        ``ColumnTransformer`` in a ``Pipeline`` when the model has one."""
        estimator.n_features_in_ = len(self.features)
        design = self.design
        if design is None:
            estimator.feature_names_in_ = np.array(self.features, dtype=object)
            return estimator
        from sklearn.pipeline import Pipeline

        assert self.inputs is not None
        columns = design.to_sklearn(self.inputs.get("fills") or {}, self.feature_means_)
        return Pipeline([("inputs", columns), ("model", estimator)])

    def _learned(self) -> dict[str, Any]:
        """The learned attributes a subclass adds (trailing underscore), by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name.endswith("_") and f.name != "feature_means_"
        }

    def _params(self) -> dict[str, Any]:
        """The learned values as plain data (lists and numbers), named without their
        trailing underscore."""
        return {
            name.rstrip("_"): np.asarray(value).tolist() if isinstance(value, np.ndarray) else value
            for name, value in self._learned().items()
        }

    def _learned_shapes(self) -> dict[str, tuple[Any, tuple[int, ...]]]:
        """Per learned value (by field name, ``coefs_[0]`` for a list's item): the value and
        the shape it must have for this model's inputs. A family adds its own."""
        return {"feature_means_": (self.feature_means_, (len(self.features),))}

    def _misfits(self) -> list[str]:
        """What does not fit this model's inputs among its learned values (read from a file,
        say): empty when every value has its shape and is finite."""
        problems = []
        inputs = f"{len(self.features)} inputs ({', '.join(self.features)})"
        for name, (value, shape) in self._learned_shapes().items():
            array = np.asarray(value)
            if array.shape != shape:
                problems.append(
                    f"{name} has shape {array.shape} where a model with {inputs} has {shape}"
                )
            elif array.dtype.kind not in "fiub" or not np.all(np.isfinite(array)):
                problems.append(f"{name} holds a value that is not a finite number")
        return problems

    def report_table(self) -> dict[str, Any]:
        """A table of what was learned, for displays: ``title``, ``header``, ``rows``,
        ``note``; by default the coefficients (``coef_``, ``intercept_``) per feature, or
        each learned value's size."""
        learned = self._learned()
        if "coef_" in learned and "intercept_" in learned:
            coef, intercept = learned["coef_"], learned["intercept_"]
            classes = getattr(self, "classes_", None)
            return coefficient_table(self.features, coef, intercept, classes)
        rows = [[name, int(np.size(value))] for name, value in learned.items()]
        return {"title": "Learned values", "header": ["value", "size"], "rows": rows, "note": ""}

    def to_dict(self) -> dict[str, Any]:
        """Everything a display or a saved copy needs, as plain data."""
        return {
            "model": self.family,
            "view": self.view,
            "task": self.task,
            "features": list(self.features),
            "input_columns": list(self.feature_names_in_),
            "label": self.label,
            "rounds": self.rounds,
            "lakes": list(self.lakes),
            "plan_hash": self.plan_hash,
            "feature_means": [float(v) for v in self.feature_means_],
            **self._params(),
            "report": self.report_table(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` as JSON: every learned value, the plan it came from,
        its lakes, rounds and history, and the collab version; :func:`collab.load_model`
        reads it back. Plain data, no pickle: reading a model never runs code."""
        target = Path(path)
        target.write_text(json.dumps(self.to_document(), indent=1))
        return target

    def to_document(self, *, learned_only: bool = False) -> dict[str, Any]:
        """The model as plain JSON data (what :meth:`save` writes); with ``learned_only``,
        without its records (history, plan, validation, approvals, rows): what an evaluation
        request carries to the lakes."""
        records = ("history", "plan_spec", "validation", "approvals", "lake_rows")
        return {
            "format": SAVED_MODEL_FORMAT,
            "format_version": 1,
            "collab_version": __version__,
            "family": self.family,
            "fields": {
                f.name: _plain(getattr(self, f.name))
                for f in fields(self)
                if not (learned_only and f.name in records)
            },
        }

    def evaluate(self, fed: Any, table: str, *, timeout: float | None = None) -> dict[str, Any]:
        """This model's metrics on every row of ``table`` in federation ``fed`` (lakes that
        took no part in training: the external validation a study needs); see
        :meth:`collab.Federation.evaluate`."""
        return fed.evaluate(self, table, timeout=timeout)  # type: ignore[no-any-return]

    def card(self) -> ModelCard:
        """What an ethics board asks of this model: the plan and its hash, the lakes, the
        rows and rounds, secure aggregation and differential privacy, the final training
        metrics, the metrics on the lakes' held-out rows and the collab version that trained
        it."""
        plan = self.plan
        spec = plan.to_spec() if plan is not None else {}
        last = dict(self.history[-1]) if self.history else {}
        metrics = plan.history_metrics if plan is not None else ()
        return ModelCard(
            {
                "model": self.family,
                "task": self.task,
                "table": spec.get("table"),
                "label": self.label,
                "features": list(self.feature_names_in_),
                "transforms": [t.to_spec() for t in plan.transforms] if plan is not None else [],
                "plan": spec or None,
                "plan_hash": self.plan_hash,
                "lakes": list(self.lakes),
                "rows": last.get("rows"),
                "rounds": self.rounds,
                "secure_aggregation": spec.get("secure_aggregation"),
                "secure_threshold": spec.get("secure_threshold"),
                "dp": spec.get("dp"),
                "training_metrics": {k: float(last[k]) for k in metrics if k in last},
                "validation": dict(self.validation),
                "lake_rows": dict(self.lake_rows),
                "approvals": dict(self.approvals),
                "validation_share": getattr(plan, "holdout", 0.0) if plan is not None else None,
                "collab_version": self.collab_version,
            }
        )

    def _display_(self) -> tuple[Any, str | None, Any]:
        from .._display import MODEL_MIME, model_report

        payload = self.to_dict()
        return model_report(payload), MODEL_MIME, payload


@dataclass(frozen=True, eq=False, kw_only=True)
class Classifier(Model):
    """A model predicting one of ``classes_``."""

    classes_: np.ndarray = field(default_factory=lambda: np.array([0, 1]))

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "classes_", np.asarray(self.classes_))

    @property
    def class_values(self) -> np.ndarray:
        """The classes as lakes code the label: their values when they are numbers, else
        their positions (a label stored as text arrives as its category's index)."""
        if self.classes_.dtype.kind in "fiub":
            return self.classes_.astype(np.float64)
        return np.arange(len(self.classes_), dtype=np.float64)

    @abstractmethod
    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The probability of each of ``classes_``, one row per input row."""

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: pd.DataFrame | np.ndarray, y: Sequence[Any] | np.ndarray) -> float:
        """Accuracy on ``X`` against labels ``y``."""
        truth = np.asarray(y)
        if truth.dtype.kind in "fiub" and self.classes_.dtype.kind in "fiub":
            return float(np.mean(self.predict(X).astype(float) == truth.astype(float)))
        return float(np.mean(self.predict(X) == truth))


@dataclass(frozen=True, eq=False, kw_only=True)
class Regressor(Model):
    """A model predicting a number."""

    task: ClassVar[str] = "regression"

    def score(self, X: pd.DataFrame | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
        """R² of the predictions of ``X`` against ``y`` (as scikit-learn's ``r2_score``)."""
        truth = np.asarray(y, dtype=float)
        residual = np.sum((truth - self.predict(X)) ** 2)
        total = np.sum((truth - truth.mean()) ** 2)
        return float(1.0 - residual / total) if total > 0 else 0.0


@dataclass(frozen=True, eq=False, kw_only=True)
class BinaryClassifier(Classifier):
    """A classifier of two classes whose :meth:`decision_function` is the log-odds of
    ``classes_[1]`` (a logistic model, boosted trees)."""

    @abstractmethod
    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The log-odds of ``classes_[1]`` for each row of ``X``."""

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities of ``classes_[0]`` and ``classes_[1]``, one row per input row."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


@dataclass(frozen=True, eq=False, kw_only=True)
class LinearScore(Model):
    """A model whose score is linear in its inputs: ``coef_`` (one per input) and
    ``intercept_``, on the original (unstandardised) scale of each feature."""

    view: ClassVar[str] = "coefficients"

    coef_: np.ndarray
    intercept_: float

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "coef_", np.asarray(self.coef_, dtype=float))
        object.__setattr__(self, "intercept_", float(self.intercept_))

    def _linear(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The score of each row: its inputs times ``coef_``, plus ``intercept_``."""
        return self._matrix(X) @ self.coef_ + self.intercept_

    def _learned_shapes(self) -> dict[str, tuple[Any, tuple[int, ...]]]:
        d = len(self.features)
        return {
            **super()._learned_shapes(),
            "coef_": (self.coef_, (d,)),
            "intercept_": (self.intercept_, ()),
        }

    def report_table(self) -> dict[str, Any]:
        return coefficient_table(self.features, self.coef_, self.intercept_)


def expit(z: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-z))`` (scipy's, as scikit-learn's)."""
    from scipy.special import expit as logistic

    return np.asarray(logistic(z))


def coefficient_table(
    features: Sequence[str], coef: np.ndarray, intercept: float | np.ndarray, classes: Any = None
) -> dict[str, Any]:
    """The report of a linear model: one row per feature, one column per class when there
    are several sets of coefficients."""
    coef = np.atleast_2d(coef)
    names = ["coefficient"] if coef.shape[0] == 1 else [f"class {c}" for c in classes]
    intercepts = np.atleast_1d(intercept)
    rows = [[f, *[float(v) for v in coef[:, j]]] for j, f in enumerate(features)]
    rows.append(["(intercept)", *[float(v) for v in intercepts]])
    return {
        "title": "Coefficients",
        "header": ["feature", *names],
        "rows": rows,
        "note": "on the original (unstandardised) scale of each feature",
    }


@dataclass(frozen=True)
class ModelCard(RichDisplay):
    """A model's card (see :meth:`Model.card`): ``facts`` as plain data, shown as a report."""

    facts: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.facts)

    def __str__(self) -> str:
        from .._display import text

        return text(self._display_()[0])

    def _display_(self) -> tuple[Any, str | None, Any]:
        from .._display import model_card_report

        return model_card_report(self.facts), None, None


SAVED_MODEL_FORMAT = "collab.model"


def _plain(value: Any) -> Any:
    """``value`` as JSON data; arrays keep their dtype so they read back as they were."""
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _restored(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"ndarray", "dtype"}:
        return np.asarray(value["ndarray"], dtype=np.dtype(value["dtype"]))
    if isinstance(value, list):
        return tuple(_restored(v) for v in value)
    if isinstance(value, dict):
        return {k: _restored(v) for k, v in value.items()}
    return value


def load_model(path: str | Path) -> Model:
    """Read a model written by :meth:`Model.save`.

    Raises
    ------
    PlanError
        The file is not a saved collab model, or its family is not installed here.
    """
    if not isinstance(path, str | Path):
        raise TypeError(
            f"load_model takes the path of a file model.save wrote, e.g. "
            f"collab.load_model('model.json'), not {path!r}"
        )
    source = Path(path)
    try:
        document = json.loads(source.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"cannot read a model from {str(source)!r}: {exc}") from exc
    return model_from_document(document, repr(str(source)))


def model_from_document(document: Any, source: str = "the document") -> Model:
    """The model :meth:`Model.to_document` describes; :class:`PlanError` saying what is
    wrong with ``source`` otherwise."""
    if not isinstance(document, dict) or document.get("format") != SAVED_MODEL_FORMAT:
        raise PlanError(
            f"{source} is not a saved collab model (no format {SAVED_MODEL_FORMAT!r}); "
            "save one with model.save(path)"
        )
    if document.get("format_version") != 1:
        raise PlanError(
            f"{source} was saved in format version {document.get('format_version')!r} "
            f"by collab {document.get('collab_version')}; this collab reads version 1"
        )
    family = document.get("family")
    installed = model_classes()
    cls = installed.get(family)  # type: ignore[arg-type]
    if cls is None:
        raise PlanError(
            f"{source} holds a {family!r} model, a family not installed here "
            f"(installed: {', '.join(sorted(installed))}); import the module that registers it"
        )
    saved = document.get("fields", {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(saved) - known)
    if unknown:
        raise PlanError(
            f"{source} has value(s) {', '.join(unknown)} that a {family!r} model "
            f"does not have; it was saved by collab {document.get('collab_version')}"
        )
    values = {name: _restored(value) for name, value in saved.items()}
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        problem = _unfit(hints.get(name), value) if name != "classes_" else None
        if problem:
            raise PlanError(
                f"{source}: the {family!r} model's {name} {problem}; it is not a model "
                "model.save wrote (save the model again)"
            )
    try:
        model = cls(**values)
    except (TypeError, ValueError, KeyError) as exc:
        raise PlanError(f"{source} is not a complete {family!r} model: {exc!r}") from exc
    problems = model._misfits()
    if problems:
        raise PlanError(
            f"{source}: the {family!r} model's learned values do not fit its inputs: "
            f"{'; '.join(problems)}. It is not a model model.save wrote (save the model again)."
        )
    return model


def _unfit(hint: Any, value: Any) -> str | None:
    """Why ``value`` cannot be a field annotated ``hint`` (an array or tuple of arrays of
    numbers, a number), or ``None``."""
    if hint is np.ndarray or hint == tuple[np.ndarray, ...]:
        parts = value if hint != np.ndarray and isinstance(value, tuple | list) else [value]
        if hint != np.ndarray and not isinstance(value, tuple | list):
            return f"must be a list of arrays of numbers, not {value!r:.60}"
        for part in parts:
            try:
                array = np.asarray(part, dtype=float)
            except (TypeError, ValueError):
                return f"must hold numbers, not {part!r:.60}"
            if not np.all(np.isfinite(array)):
                return "holds a value that is not a finite number"
    elif hint == tuple[str, ...]:
        if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
            return f"must be a list of column names, not {value!r:.60}"
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, not {value!r:.60}"
        if not math.isfinite(value):
            return f"must be a finite number, not {value!r}"
    return None
