"""The classes of a label: from the plan, or from what the owners publish for the column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._errors import PlanError
from .._schema import ColumnSchema, TableSchema


def numeric_classes(classes: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in classes)


def check_classes(classes: Any) -> tuple[Any, ...] | None:
    """``classes`` as a tuple of distinct numbers or distinct texts (at least two), or
    ``None``."""
    if classes is None:
        return None
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) < 2:
        raise PlanError(f"classes must be a list of at least two label values, not {classes!r}")
    values = list(classes)
    texts = all(isinstance(v, str) for v in values)
    if not texts and not numeric_classes(values):
        raise PlanError(
            "classes must be the label's values, all numbers (for example [0, 1, 2]) or all "
            f"texts (for example ['benign', 'malignant']), not {list(classes)!r}"
        )
    if len(set(values)) != len(values):
        raise PlanError(f"classes name a value more than once: {list(classes)!r}")
    return tuple(values)


def published_classes(label: str, schemas: Mapping[str, TableSchema]) -> tuple[Any, ...] | None:
    """The label's categories as every lake publishes them (one list for all), or ``None``."""
    seen = {lake: schema.column(label).categories for lake, schema in schemas.items()}
    lists = {tuple(v) for v in seen.values() if v is not None}
    if not lists:
        return None
    if len(lists) > 1 or any(v is None for v in seen.values()):
        raise PlanError(
            f"the lakes publish different categories for label {label!r} ({seen}); give the "
            "plan classes=[...] explicitly"
        )
    return check_classes(sorted(next(iter(lists))))


def check_label_column(
    column: ColumnSchema, label: str, classes: tuple[Any, ...] | None, where: str, model: str
) -> None:
    if column.kind in ("text", "date", "other"):
        raise PlanError(
            f"{where}: label {label!r} is {column.kind} ({column.type}) with no published "
            f"classes; {model} needs a label stored as numbers (class values), or the owner "
            "to publish its categories (add_table(..., categories={...}))."
        )
    if (
        classes is not None
        and column.categories is not None
        and not numeric_classes(classes)
        and set(classes) != set(column.categories)
    ):
        raise PlanError(
            f"{where}: the plan's classes of label {label!r} ({list(classes)}) are not the "
            f"categories this lake publishes ({list(column.categories)})"
        )
    if classes is not None and not numeric_classes(classes) and column.kind != "categorical":
        raise PlanError(
            f"{where}: the plan names label {label!r}'s classes as texts, but this lake "
            f"publishes no categories for it ({column.kind}); ask the owner to publish them"
        )
    if classes is None and column.kind not in ("binary", "boolean") and column.categories is None:
        raise PlanError(
            f"{where}: {model} needs the classes of label {label!r}: give classes=[...] in the "
            "plan, or ask the owner to publish the column's categories."
        )


def class_index(y: np.ndarray, classes: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each label's position in ``classes``, and which labels are one of them."""
    values = np.asarray(classes, dtype=np.float64)
    order = np.argsort(values)
    sorted_values = values[order]
    pos = np.clip(np.searchsorted(sorted_values, y), 0, len(values) - 1)
    valid = sorted_values[pos] == y
    return order[pos], valid
