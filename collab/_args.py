"""Checking what a user passes to collab's public calls: one place for the shapes every call
takes (a list of names, a whole number, a number, text), with errors naming the parameter."""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import Any


def names(value: Any, parameter: str, *, what: str = "column") -> tuple[str, ...]:
    """``value`` as a tuple of names. A single string is one name (as pandas reads
    ``df["age"]``), never its letters; anything else must be a list of non-empty strings.

    Raises
    ------
    TypeError
        Naming ``parameter`` and what it takes.
    """
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, bytes | dict) or not isinstance(value, Iterable):
        raise TypeError(
            f"{parameter} must be a {what} name or a list of {what} names, e.g. "
            f"{parameter}=['age', 'bmi'], not {value!r}"
        )
    items = tuple(value)
    wrong = [v for v in items if not isinstance(v, str) or not v]
    if wrong:
        raise TypeError(
            f"{parameter} must list {what} names as text, e.g. {parameter}=['age', 'bmi']; "
            f"{wrong[0]!r} is not one"
        )
    return items


def repeated(items: Iterable[Hashable]) -> list[Any]:
    """The items of ``items`` that occur more than once, sorted (one pass: a plan may name
    tens of thousands of features)."""
    return sorted(item for item, count in Counter(items).items() if count > 1)


def whole(value: Any, parameter: str, *, least: int = 0, most: int | None = None) -> int:
    """``value`` as an int in ``[least, most]``; :class:`TypeError` or :class:`ValueError`
    naming ``parameter`` otherwise (``2.0`` is refused as much as ``2.5``)."""
    span = f"at least {least}" if most is None else f"from {least} to {most}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{parameter} must be a whole number {span}, not {value!r}")
    if value < least or (most is not None and value > most):
        raise ValueError(f"{parameter} must be a whole number {span}, not {value!r}")
    return int(value)


def number(value: Any, parameter: str) -> float:
    """``value`` as a finite float; :class:`TypeError` naming ``parameter`` otherwise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
    ):
        raise TypeError(f"{parameter} must be a finite number, not {value!r}")
    return float(value)


def text(value: Any, parameter: str) -> str:
    """``value`` itself when it is a string; :class:`TypeError` naming ``parameter``
    otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{parameter} must be text, not {value!r}")
    return value


def mapping(value: Any, parameter: str, *, label: str, example: str) -> Mapping[Any, Any]:
    """``value`` as a mapping (``None`` is an empty one); :class:`TypeError` naming ``label``
    and ``parameter``, with ``example`` of what it takes, otherwise."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{label}: {parameter} must map column names to values, e.g. "
            f"{parameter}={example}, not {value!r}"
        )
    return value
