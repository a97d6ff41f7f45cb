"""What the plan builder may offer, read from the lakes' published schemas and policies.

A column is offered only when every lake has it with the same type, no lake marks it
private, and every lake's policy allows it; the reasons for the rest are kept so the builder
can say why a column is missing from its lists. Which columns may be a label depends on the
family's task: a regression family learns a numeric column, a classifier a binary one or one
whose categories every owner publishes. The plan itself is still checked by
``Federation.check`` (``Plan.check_against``): these lists only keep the builder from
offering what that check would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._policy import Policy
from .._schema import TableSchema


@dataclass(frozen=True)
class Choices:
    """The columns, models and limits a plan on one table can use.

    ``labels`` are the columns some family may learn; ``class_labels`` those a classifier
    may (binary, or with categories published on every lake) and ``numeric_labels`` those a
    regression family may. ``models`` are the families every lake's policy allows,
    classifiers first.
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

    def labels_for(self, model: str | None) -> tuple[str, ...]:
        """The labels a plan of family ``model`` may learn."""
        task = self.tasks.get(str(model))
        if task == "regression":
            return self.numeric_labels
        if task == "classification":
            return self.class_labels
        return self.labels


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
        if all(c is not None and c.kind == "binary" for c in columns) or all(
            c is not None and c.is_numeric and c.categories is not None for c in columns
        ):
            class_labels.append(name)
        if all(c is not None and c.kind == "numeric" for c in columns):
            numeric_labels.append(name)
        if all(c is not None and c.is_numeric for c in columns):
            features.append(name)
        else:
            kind = columns[0].kind if columns[0] is not None else "other"
            withheld[name] = f"{kind}, not numeric"
    tasks = {model: str(getattr(family, "task", "")) for model, family in families.items()}
    allowed = sorted(
        (model for model in families if all(policies[lake].allows_model(model) for lake in lakes)),
        key=lambda model: tasks[model] != "classification",
    )
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
    )


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
