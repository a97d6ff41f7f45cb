"""The classes of a label: from the plan, or from what the owners publish for the column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._errors import PlanError
from .._schema import ColumnSchema, TableSchema


def check_classes(classes: Any) -> tuple[float, ...] | None:
    """``classes`` as a tuple of distinct numbers (at least two), or ``None``."""
    if classes is None:
        return None
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) < 2:
        raise PlanError(f"classes must be a list of at least two label values, not {classes!r}")
    values = []
    for value in classes:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PlanError(
                f"classes must be the label's numeric values (for example [0, 1, 2]); "
                f"{value!r} is not a number"
            )
        values.append(value)
    if len(set(values)) != len(values):
        raise PlanError(f"classes name a value more than once: {list(classes)!r}")
    return tuple(values)


def published_classes(label: str, schemas: Mapping[str, TableSchema]) -> tuple[float, ...] | None:
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
    column: ColumnSchema, label: str, classes: tuple[float, ...] | None, where: str, model: str
) -> None:
    if not column.is_numeric:
        raise PlanError(
            f"{where}: label {label!r} is {column.kind} ({column.type}); {model} needs a label "
            "stored as numbers (class values), or categories published by the owner."
        )
    if classes is None and column.kind != "binary" and column.categories is None:
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
