"""What the plan builder may offer, read from the lakes' published schemas and policies.

A column is offered only when every lake has it with the same type (and, for a categorical
column, the same published categories), no lake marks it private, and every lake's policy
allows it; the reasons for the rest are kept so the builder can say why a column is missing
from its lists. A feature is a numeric, binary, boolean or categorical column (text and dates
never are). Which columns a family may learn is asked of the family itself
(``Plan.check_label`` on every lake's column), so a classifier of two classes is offered
binary columns and categorical ones with two categories, a multi-class one any published
categories. Which :mod:`collab.features` transforms fit a column depends on its kind
(:func:`fits`). The plan itself is still checked by ``Federation.check``
(``Plan.check_against``): these lists only keep the builder from offering what that check
would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._errors import CollabError
from .._policy import Policy
from .._schema import ColumnSchema, TableSchema

# the kinds of column a plan may take as a feature (categorical ones are one-hot encoded)
FEATURE_KINDS = ("numeric", "binary", "boolean", "categorical")

# the transforms of collab.features, and the kinds of column each fits; ``impute`` by strategy
TRANSFORMS = ("log1p", "clip", "bucketize", "standardize", "impute", "missing_indicator")
IMPUTE_STRATEGIES = ("mean", "median", "most_frequent", "constant")
_FITS: dict[str, frozenset[str]] = {
    "log1p": frozenset({"numeric"}),
    "clip": frozenset({"numeric"}),
    "bucketize": frozenset({"numeric"}),
    "standardize": frozenset({"numeric"}),
    "impute:mean": frozenset({"numeric"}),
    "impute:median": frozenset({"numeric"}),
    "impute:most_frequent": frozenset({"categorical", "boolean", "binary"}),
    "impute:constant": frozenset(FEATURE_KINDS),
    "missing_indicator": frozenset(FEATURE_KINDS),
}


def transform_key(transform: str, strategy: str | None = None) -> str:
    """``impute:<strategy>`` for an imputation, else the transform's own name."""
    return f"{transform}:{strategy or 'mean'}" if transform == "impute" else transform


def fits(transform: str, strategy: str | None, kind: str) -> bool:
    """Whether ``transform`` (an imputation with ``strategy``) fits a column of ``kind``."""
    return kind in _FITS.get(transform_key(transform, strategy), frozenset())


def fitting_kinds(transform: str, strategy: str | None = None) -> tuple[str, ...]:
    """The kinds of column ``transform`` fits, in :data:`FEATURE_KINDS` order."""
    found = _FITS.get(transform_key(transform, strategy), frozenset())
    return tuple(kind for kind in FEATURE_KINDS if kind in found)


@dataclass(frozen=True)
class Choices:
    """The columns, models and limits a plan on one table can use.

    ``labels`` are the columns some family may learn, ``family_labels`` those each family
    may; ``class_labels`` those some classifier may and ``numeric_labels`` those a
    regression family may. ``models`` are the families every lake's policy allows,
    classifiers first. ``kinds`` and ``categories`` describe the offered columns (the
    categories every lake publishes), ``bounds`` the ranges every lake publishes alike.
    """

    features: tuple[str, ...]
    labels: tuple[str, ...]
    withheld: dict[str, str]  # column -> why it is not offered
    private: tuple[str, ...]
    models: tuple[str, ...]
    max_rounds: int
    requires_dp: bool
    requires_secure_aggregation: bool
    max_epsilon: dict[str, float | None] = field(default_factory=dict)
    class_labels: tuple[str, ...] = ()
    numeric_labels: tuple[str, ...] = ()
    tasks: dict[str, str] = field(default_factory=dict)  # model -> its task
    family_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # column -> its kind
    categories: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    # model -> setting -> (low, high) every lake's policy allows (``Plan.policy_limits``)
    limits: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    def labels_for(self, model: str | None) -> tuple[str, ...]:
        """The labels a plan of family ``model`` may learn."""
        if str(model) in self.family_labels:
            return self.family_labels[str(model)]
        task = self.tasks.get(str(model))
        if task == "regression":
            return self.numeric_labels
        if task == "classification":
            return self.class_labels
        return self.labels

    def describe(self, name: str) -> str:
        """A column as a choice names it: ``ward (categorical: 4)``, ``smoker (boolean)``,
        a numeric column by its name alone."""
        kind = self.kinds.get(name, "numeric")
        if kind == "numeric":
            return name
        if kind == "categorical":
            return f"{name} (categorical: {len(self.categories.get(name, ()))})"
        return f"{name} ({kind})"

    def fitting(
        self, transform: str, strategy: str | None, columns: Sequence[str]
    ) -> tuple[str, ...]:
        """Those of ``columns`` that ``transform`` fits by their kind (a median also needs
        the range every lake publishes: it is read off a pooled histogram over it)."""
        median = transform_key(transform, strategy) == "impute:median"
        return tuple(
            name
            for name in columns
            if fits(transform, strategy, self.kinds.get(name, ""))
            and not (median and name not in self.bounds)
        )


def choices(
    schemas: Mapping[str, TableSchema],
    policies: Mapping[str, Policy],
    families: Mapping[str, Any],
) -> Choices:
    lakes = list(schemas)
    order: list[str] = []
    for schema in schemas.values():
        order.extend(name for name in schema.column_names if name not in order)
    features, class_labels, numeric_labels, private = [], [], [], []
    withheld: dict[str, str] = {}
    usable: dict[str, dict[str, ColumnSchema]] = {}  # offered column -> each lake's column
    kinds: dict[str, str] = {}
    categories: dict[str, tuple[Any, ...]] = {}
    bounds: dict[str, tuple[float, float]] = {}
    for name in order:
        found = {
            lake: next((c for c in schemas[lake].columns if c.name == name), None) for lake in lakes
        }
        missing = [lake for lake, c in found.items() if c is None]
        if missing:
            withheld[name] = f"missing on {', '.join(missing)}"
            continue
        columns = list(found.values())
        secret = [lake for lake, c in found.items() if c is not None and c.private]
        if secret:
            private.append(name)
            withheld[name] = f"private on {', '.join(secret)}"
            continue
        if len({c.type for c in columns if c is not None}) > 1:
            types = ", ".join(f"{lake}: {c.type}" for lake, c in found.items() if c is not None)
            withheld[name] = f"its type differs between lakes ({types})"
            continue
        refused = [
            lake
            for lake in lakes
            if policies[lake].allowed_columns is not None
            and name not in (policies[lake].allowed_columns or ())
        ]
        if refused:
            withheld[name] = f"not allowed by the policy of {', '.join(refused)}"
            continue
        published = {c.categories for c in columns if c is not None}
        if len(published) > 1:
            withheld[name] = "its categories differ between lakes"
            continue
        usable[name] = published_by = {lake: c for lake, c in found.items() if c is not None}
        column = _widest(list(published_by.values()))
        kinds[name] = column.kind
        if column.categories is not None:
            categories[name] = tuple(column.categories)
        ranges = {c.bounds for c in published_by.values()}
        if len(ranges) == 1 and column.bounds is not None:
            bounds[name] = column.bounds
        if all(c.kind in FEATURE_KINDS for c in published_by.values()):
            features.append(name)
        else:
            withheld[name] = _not_a_feature(column)
    tasks = {model: str(getattr(family, "task", "")) for model, family in families.items()}
    allowed = sorted(
        (model for model in families if all(policies[lake].allows_model(model) for lake in lakes)),
        key=lambda model: (
            tasks[model] != "classification",
            int(getattr(families[model], "offer_order", 0)),
            model,
        ),
    )
    table = next(iter(schemas.values())).name if schemas else ""
    family_labels = {
        model: tuple(
            name for name, found in usable.items() if _learns(families[model], table, found)
        )
        for model in allowed
    }
    for model in allowed:
        target = numeric_labels if tasks[model] == "regression" else class_labels
        target.extend(n for n in family_labels[model] if n not in target)
    class_labels = [name for name in order if name in class_labels]
    numeric_labels = [name for name in order if name in numeric_labels]
    labels = [name for name in order if name in class_labels or name in numeric_labels]
    return Choices(
        features=tuple(features),
        labels=tuple(labels),
        withheld=withheld,
        private=tuple(private),
        models=tuple(allowed),
        max_rounds=min((policies[lake].max_rounds for lake in lakes), default=1),
        requires_dp=any(policies[lake].requires_dp for lake in lakes),
        requires_secure_aggregation=any(
            policies[lake].require_secure_aggregation for lake in lakes
        ),
        max_epsilon={lake: policies[lake].max_epsilon for lake in lakes},
        class_labels=tuple(class_labels),
        numeric_labels=tuple(numeric_labels),
        tasks={model: tasks[model] for model in allowed},
        family_labels=family_labels,
        kinds=kinds,
        categories=categories,
        bounds=bounds,
        limits={
            model: families[model].policy_limits([policies[lake] for lake in lakes])
            for model in allowed
        },
    )


def _widest(columns: list[ColumnSchema]) -> ColumnSchema:
    """The lakes' column as a choice describes it: a lake where it holds more than 0 and 1
    (numeric rather than binary), else the first."""
    order = ("text", "date", "other", "categorical", "numeric", "boolean", "binary")
    return min(columns, key=lambda c: order.index(c.kind) if c.kind in order else 0)


def _not_a_feature(column: ColumnSchema) -> str:
    if column.kind == "date":
        return "a date, not a number"
    if column.kind == "text":
        return "text without published categories"
    return f"{column.kind}, not a number or a category"


def _learns(family: Any, table: str, columns: Mapping[str, ColumnSchema]) -> bool:
    """Whether ``family`` can learn the column as every lake publishes it (asked of the
    family: its own ``check_label``)."""
    name = next(iter(columns.values())).name
    try:
        probe = family(table=table, features=(f"{name} (a feature)",), label=name)
        for lake, column in columns.items():
            probe.check_label(column, f"lake {lake!r}")
    except (CollabError, TypeError, ValueError):
        return False
    return True


def budget_left(fed: Any, table: str) -> dict[str, float | None] | None:
    """Epsilon each lake has left for this scientist on ``table``, when the federation can
    tell (``fed.budget(table)``: a Series or mapping lake -> epsilon left, NaN or ``None``
    for no limit, or a frame with ``lake`` and ``epsilon left`` columns); ``None`` when it
    cannot."""
    reader = getattr(fed, "budget", None)
    if not callable(reader):
        return None
    try:
        answer = reader(table)
    except Exception:
        return None
    if isinstance(answer, pd.DataFrame):
        if not {"lake", "epsilon left"} <= set(answer.columns):
            return None
        return {str(r["lake"]): _number(r["epsilon left"]) for r in answer.to_dict("records")}
    if isinstance(answer, pd.Series | Mapping):
        return {str(lake): _number(value) for lake, value in answer.items()}
    return None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN: no limit
