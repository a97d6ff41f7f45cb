"""What a survival request checks before it is sent: its duration and event columns, and the
times its bins end at."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._errors import PlanError
from ..._schema import ColumnSchema

__all__ = ["check_duration", "check_event", "check_times"]


def check_duration(column: ColumnSchema, where: str) -> None:
    """Raise unless ``column`` can be a duration: a number whose published range (if any)
    starts at 0 or above."""
    if column.kind != "numeric" or column.categories is not None:
        raise PlanError(
            f"{where}: duration column {column.name!r} is {column.kind} ({column.type}); a "
            "duration must be a non-negative number (for example days from treatment to the "
            "event or to the end of follow-up)"
        )
    if column.bounds is not None and column.bounds[0] < 0:
        raise PlanError(
            f"{where}: duration column {column.name!r} is published with bounds "
            f"{list(column.bounds)}, below 0; a duration must be a non-negative number. Ask "
            "the owner, or use a view with the time since the start of follow-up."
        )


def check_event(column: ColumnSchema, where: str) -> None:
    """Raise unless ``column`` can be an event indicator: boolean, or numbers 0/1."""
    if column.kind in ("boolean", "binary"):
        return
    if column.kind == "numeric" and column.categories is None:
        if column.bounds is None or (column.bounds[0] >= 0 and column.bounds[1] <= 1):
            return
    raise PlanError(
        f"{where}: event column {column.name!r} is {column.kind} ({column.type})"
        + (f" with bounds {list(column.bounds)}" if column.bounds is not None else "")
        + "; an event must be 0/1 or boolean (1: the event happened, 0: follow-up ended "
        "without it)"
    )


def check_times(value: Any) -> tuple[float, ...] | None:
    """The times a survival request's bins end at, sorted; :class:`PlanError` unless
    distinct non-negative numbers."""
    if value is None:
        return None
    try:
        times = tuple(sorted(float(v) for v in np.atleast_1d(np.asarray(value, dtype=float))))
    except (TypeError, ValueError) as exc:
        raise PlanError(f"times must be numbers, not {value!r}") from exc
    if not times or not all(np.isfinite(times)) or times[0] < 0 or len(set(times)) < len(times):
        raise PlanError(f"times must be distinct non-negative numbers, not {value!r}")
    return times
