"""What a scientist may know about a table: its schema, a coarse size, and synthetic rows.

The schema travels from a lake to scientists as the public ("mock") side of the table's
PySyft asset, so everything here must be safe to publish: names, types, nullability, the
owner's descriptions, a row count rounded down to one significant digit, and whether a
numeric column only holds 0 and 1 (needed to validate a label before anything runs).
Synthetic rows are generated from these facts alone, never sampled from real rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._display import RichDisplay
from ._errors import PlanError

ColumnKind = Literal["numeric", "binary", "categorical", "boolean", "date", "text", "other"]

# kinds a plan reads as numbers as they are (a boolean as 0/1)
NUMBER_KINDS = frozenset({"numeric", "binary", "boolean"})

NUMERIC_TYPES = frozenset(
    {"double", "float", "int", "bigint", "smallint", "tinyint", "decimal", "boolean"}
)


def column_kind(spark_type: str, binary: bool, categorical: bool) -> ColumnKind:
    """A column's kind from its Spark type, whether it holds only 0 and 1, and whether the
    owner publishes its categories."""
    base = spark_type.split("(")[0]
    if categorical:
        return "categorical"
    if base == "boolean":
        return "boolean"
    if binary:
        return "binary"
    if base in NUMERIC_TYPES:
        return "numeric"
    if base in ("date", "timestamp", "timestamp_ntz"):
        return "date"
    if base in ("string", "varchar", "char"):
        return "text"
    return "other"


def presence(schemas: Mapping[str, TableSchema | None], column: str) -> dict[str, str]:
    """Per lake, how ``column`` stands against the first lake that has it: ``ok``,
    ``missing`` (no such column, or no such table) or ``differs: <type>``."""
    found = {
        lake: None
        if schema is None
        else next((c for c in schema.columns if c.name == column), None)
        for lake, schema in schemas.items()
    }
    first = next((c for c in found.values() if c is not None), None)
    out = {}
    for lake, c in found.items():
        if c is None:
            out[lake] = "missing"
        elif first is not None and c.type != first.type:
            out[lake] = f"differs: {c.type}"
        else:
            out[lake] = "ok"
    return out


def category_text(value: Any) -> str:
    """A category as Spark writes it as a string (``CAST(x AS STRING)``), so a value matches
    its published category whichever side compares them."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(float(value))
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def category_codes(values: Any, categories: Sequence[Any]) -> np.ndarray:
    """Each value's index in ``categories`` as a float: ``len(categories)`` for a value
    outside them, NaN for a missing one (what the lakes' Spark coding gives).

    A number matches a numeric category by value (``1`` is ``1.0``); anything else matches
    by its text, as Spark writes it (:func:`category_text`)."""
    index = {category_text(c): float(i) for i, c in enumerate(categories)}
    numbers = {float(c): float(i) for i, c in enumerate(categories) if _is_number(c)}
    other = float(len(categories))
    series = pd.Series(values)
    missing = series.isna().to_numpy()
    codes = np.array(
        [
            numbers.get(float(v), other)
            if _is_number(v) and numbers
            else index.get(category_text(v), other)
            for v in series
        ],
        dtype=np.float64,
    )
    codes[missing] = np.nan
    return codes


def coarse_rows(rows: int) -> int:
    """Round a row count down to one significant digit (569 -> 500, 12345 -> 10000)."""
    if rows <= 0:
        return 0
    scale = 10 ** math.floor(math.log10(rows))
    return (rows // scale) * scale


@dataclass(frozen=True)
class ColumnSchema:
    """One column as a scientist sees it."""

    name: str
    type: str
    nullable: bool
    kind: ColumnKind
    description: str = ""
    private: bool = False
    bounds: tuple[float, float] | None = None  # owner-published range, needed by DP plans
    categories: tuple[Any, ...] | None = None  # owner-published values (classes of a label)

    def __post_init__(self) -> None:
        if self.kind == "datetime":  # the name in schemas published before "date"
            object.__setattr__(self, "kind", "date")
        if self.bounds is not None:
            object.__setattr__(self, "bounds", (float(self.bounds[0]), float(self.bounds[1])))
        if self.categories is not None:
            object.__setattr__(self, "categories", tuple(self.categories))

    @property
    def is_numeric(self) -> bool:
        """Whether the column is read as numbers as it is (a boolean as 0/1)."""
        return self.kind in NUMBER_KINDS

    @property
    def stored_as_numbers(self) -> bool:
        """Whether Spark stores the column as numbers (a categorical column may be)."""
        return self.type.split("(")[0] in NUMERIC_TYPES


@dataclass(frozen=True)
class TableSchema(RichDisplay):
    """The published description of one table on one lake."""

    lake: str
    name: str
    columns: tuple[ColumnSchema, ...]
    description: str = ""
    rows_at_least: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSchema:
        """The column called ``name``; :class:`PlanError` naming the lake if there is none."""
        for column in self.columns:
            if column.name == name:
                return column
        close = [c for c in self.column_names if c.lower() == name.lower()]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise PlanError(
            f"lake {self.lake!r}: table {self.name!r} has no column {name!r}.{hint} "
            f"Its columns are: {', '.join(self.column_names)}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "lake": self.lake,
            "name": self.name,
            "description": self.description,
            "rows_at_least": self.rows_at_least,
            "columns": [asdict(c) for c in self.columns],
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSchema:
        return cls(
            lake=data["lake"],
            name=data["name"],
            description=data.get("description", ""),
            rows_at_least=int(data.get("rows_at_least", 0)),
            columns=tuple(ColumnSchema(**c) for c in data["columns"]),
            extra=dict(data.get("extra", {})),
        )

    def synthetic(self, n: int = 5, seed: int = 0) -> pd.DataFrame:
        """``n`` synthetic rows made from the schema alone (types and kinds), never real rows.

        A column with published categories takes them uniformly; other numeric columns are
        standard normal (integers: uniform 0-99), binary columns fair coin
        flips, text columns ``"<column>-<i>"``, dates uniform over 2020-2024, and nullable
        columns are missing about one time in twenty.
        """
        if n < 0:
            raise ValueError(f"n must be 0 or more, not {n}")
        rng = np.random.default_rng(seed)
        data: dict[str, Any] = {}
        for c in self.columns:
            values: Any
            if c.categories:
                values = np.asarray(c.categories, dtype=object)[
                    rng.integers(0, len(c.categories), size=n)
                ]
            elif c.kind in ("binary", "boolean"):
                values = rng.integers(0, 2, size=n)
                values = values.astype(bool) if c.type == "boolean" else values
            elif c.kind == "numeric":
                if c.type in ("double", "float") or c.type.startswith("decimal"):
                    values = np.round(rng.standard_normal(n), 4)
                else:
                    values = rng.integers(0, 100, size=n)
            elif c.kind == "date":
                start = np.datetime64("2020-01-01")
                values = start + rng.integers(0, 5 * 365, size=n).astype("timedelta64[D]")
            else:
                values = [f"{c.name}-{i}" for i in range(n)]
            series = pd.Series(values, name=c.name)
            if c.nullable and n:
                missing = rng.random(n) < 0.05
                numeric = c.kind in NUMBER_KINDS or (
                    c.kind == "categorical" and c.stored_as_numbers
                )
                series = series.astype(float if numeric and c.type != "boolean" else object)
                series[missing] = None
            data[c.name] = series
        return pd.DataFrame(data, columns=self.column_names)

    def _display_(self) -> tuple[Any, str | None, Any]:
        from ._display import SCHEMA_MIME, schema_report, table_schema_payload

        payload = table_schema_payload(self)
        report = schema_report(
            payload, description=self.description, rows={self.lake: self.rows_at_least}
        )
        return report, SCHEMA_MIME, payload
