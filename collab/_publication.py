"""What an owner publishes about a hosted table or view: one checked set of settings.

``Lake.add_table``, ``Lake.add_view`` and a ``lake.toml`` entry all build a
:class:`Publication`; the lake checks it against the table's columns once Spark has read them,
and the engine counts the rows outside its published categories.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

import numpy as np

from ._args import mapping, names
from ._errors import CollabError
from ._policy import Policy
from ._schema import NUMERIC_TYPES

# what each mapping of column names takes, as its error messages show it
_EXAMPLES = {
    "bounds": "{'age': (0, 120)}",
    "categories": "{'sex': ['F', 'M']}",
    "column_descriptions": "{'age': 'age at admission'}",
}


def by_column(label: str, parameter: str, value: Any) -> Mapping[Any, Any]:
    """An owner's ``{column: ...}`` setting (``None`` is none), or :class:`TypeError`."""
    return mapping(value, parameter, label=label, example=_EXAMPLES[parameter])


def _category_values(label: str, column: str, values: Any) -> list[Any]:
    """The published categories of ``column`` as a list of distinct plain values."""
    problem = None
    if isinstance(values, str | bytes | Mapping | set | frozenset) or not isinstance(
        values, Iterable
    ):
        problem = f"must be a list of values, not {values!r}"
    else:
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
        if not values:
            problem = "must list at least one value"
        elif not all(isinstance(v, str | int | float | bool) for v in values) or any(
            isinstance(v, float) and math.isnan(v) for v in values
        ):
            problem = (
                f"must be text, numbers or true/false (a missing value is not one): {values!r}"
            )
        elif len({(type(v) is bool, v) for v in values}) != len(values):
            problem = f"name a value more than once: {values!r}"
    if problem is not None:
        raise CollabError(f"{label}: categories of {column!r} {problem}")
    return values


def _descriptions(label: str, value: Any) -> dict[str, str]:
    descriptions = dict(by_column(label, "column_descriptions", value))
    for column, description in descriptions.items():
        if not isinstance(description, str):
            raise TypeError(
                f"{label}: column_descriptions[{column!r}] must be text, not {description!r}"
            )
    return descriptions


def _ranges(label: str, value: Any) -> dict[str, tuple[float, float]]:
    """The owner's ``bounds`` as ``{column: (low, high)}`` floats, checked."""
    ranges = {}
    for column, pair in by_column(label, "bounds", value).items():
        if (
            isinstance(pair, str | bytes | Mapping)
            or not isinstance(pair, Iterable)
            or len(pair := tuple(pair)) != 2
            or not all(
                isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in pair
            )
            or not all(math.isfinite(float(v)) for v in pair)
        ):
            raise CollabError(
                f"{label}: bounds of {column!r} must be two finite numbers (low, high), e.g. "
                f"bounds={{{str(column)!r}: (0, 120)}}; got {pair!r}"
            )
        low, high = float(pair[0]), float(pair[1])
        if not low < high:
            raise CollabError(
                f"{label}: bounds of {column!r} must have low < high, got ({low}, {high})"
            )
        ranges[str(column)] = (low, high)
    return ranges


class Settings(TypedDict, total=False):
    """What ``add_table`` and ``add_view`` take about a table besides where it is."""

    description: str
    private_columns: Iterable[str]
    column_descriptions: Mapping[str, str] | None
    bounds: Mapping[str, tuple[float, float]] | None
    categories: Mapping[str, Sequence[Any]] | None
    policy: Policy | None


@dataclass(frozen=True)
class Publication:
    """The settings an owner publishes with a table or a view, checked by :meth:`checked`.

    ``private_columns`` no plan may use; ``column_descriptions`` shown beside columns;
    ``bounds`` ``{column: (low, high)}`` for numeric columns (DP plans need them);
    ``categories`` ``{column: [value, ...]}``; ``policy`` the owner's rules for the table.
    """

    description: str = ""
    private_columns: tuple[str, ...] = ()
    column_descriptions: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    categories: dict[str, list[Any]] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)

    @classmethod
    def checked(cls, label: str, settings: Mapping[str, Any]) -> Publication:
        """The owner's ``settings`` (:class:`Settings`, as given to ``add_table`` or
        ``add_view``), checked; every error names ``label`` (the lake and the table) and the
        setting."""
        unknown = sorted(set(settings) - set(Settings.__annotations__))
        if unknown:
            raise TypeError(
                f"{label}: unknown setting {unknown[0]!r}; a table or view publishes "
                f"{', '.join(Settings.__annotations__)}"
            )
        description = settings.get("description", "")
        policy = settings.get("policy")
        policy = Policy() if policy is None else policy
        if not isinstance(policy, Policy):
            raise TypeError(f"{label}: policy must be collab.Policy(...), not {policy!r}")
        if not isinstance(description, str):
            raise TypeError(f"{label}: description must be text, not {description!r}")
        try:
            private = names(settings.get("private_columns", ()), "private_columns")
        except TypeError as exc:
            raise TypeError(f"{label}: {exc}") from exc
        descriptions = _descriptions(label, settings.get("column_descriptions"))
        ranges = _ranges(label, settings.get("bounds"))
        categories = by_column(label, "categories", settings.get("categories"))
        published = {
            str(column): _category_values(label, column, values)
            for column, values in categories.items()
        }
        return cls(description, private, descriptions, ranges, published, policy)

    def settings(self) -> Settings:
        """The settings as ``add_table``/``add_view`` take them."""
        return Settings(**{f.name: getattr(self, f.name) for f in fields(self)})  # type: ignore[typeddict-item]

    def check_columns(self, label: str, types: Mapping[str, str]) -> None:
        """Check the settings against the table's columns and their Spark ``types``: every
        column named exists, bounds are on numeric columns, categories fit the column's type."""
        named = [
            *self.private_columns,
            *self.column_descriptions,
            *self.bounds,
            *self.categories,
        ]
        for column in named:
            if column not in types:
                raise CollabError(
                    f"{label} has no column {column!r}; its columns are {', '.join(types)}"
                )
        for column in self.bounds:
            if types[column].split("(")[0] not in NUMERIC_TYPES:
                raise CollabError(
                    f"{label}: column {column!r} holds {types[column]} values, and bounds "
                    "are a range of numbers; publish bounds only for numeric columns (for a "
                    "column of a few values, publish its categories instead)"
                )
        for column, values in self.categories.items():
            base = types[column].split("(")[0]
            if base == "boolean":
                wanted, fits = "true or false", all(isinstance(v, bool) for v in values)
            elif base in NUMERIC_TYPES:
                wanted = "numbers"
                fits = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            else:
                wanted, fits = "", True
            if not fits:
                raise CollabError(
                    f"{label}: column {column!r} holds {types[column]} values, so its "
                    f"categories must be {wanted}, not {values!r}"
                )
