"""How a table's schema renders: one lake's table, or a table across a federation's lakes
(``application/vnd.collab.schema+json``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ._kit import Cell, Report, Section, bundle, fmt, html, text

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_MIME = "application/vnd.collab.schema+json"
CATEGORIES_SHOWN = 8  # a column's categories listed before "+N more"


class ShownColumn(Protocol):
    """What the schema report reads of a column (a :class:`collab.ColumnSchema`)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def nullable(self) -> bool: ...
    @property
    def description(self) -> str: ...
    @property
    def private(self) -> bool: ...
    @property
    def kind(self) -> str: ...
    @property
    def categories(self) -> Sequence[Any] | None: ...


class ShownTable(Protocol):
    """What the schema report reads of one lake's table (a :class:`collab.TableSchema`)."""

    @property
    def name(self) -> str: ...
    @property
    def lake(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def rows_at_least(self) -> int | None: ...
    @property
    def columns(self) -> Sequence[ShownColumn]: ...


class ShownFederation(Protocol):
    """What :meth:`SchemaView.from_federation` asks of a :class:`collab.Federation`."""

    @property
    def lakes(self) -> Sequence[str]: ...
    @property
    def tables(self) -> Mapping[str, Sequence[str]]: ...
    def schema(self, table: str) -> pd.DataFrame: ...
    def table_schemas(self, table: str) -> Mapping[str, ShownTable]: ...


def _json_value(value: Any) -> Any:
    """A published category as JSON holds it (numpy scalars as Python numbers)."""
    if isinstance(value, str | bool | int | float) or value is None:
        return value
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def categories_payload(categories: Iterable[Any] | None) -> list[Any] | None:
    """A column's published categories for a JSON payload; ``None`` where none are."""
    return None if categories is None else [_json_value(c) for c in categories]


def categories_text(categories: Sequence[Any] | None, shown: int = CATEGORIES_SHOWN) -> str:
    """A column's categories on one line: the first ``shown``, then ``+N more``."""
    if not categories:
        return ""
    values = [str(c) for c in categories]
    if len(values) <= shown:
        return ", ".join(values)
    return f"{', '.join(values[:shown])} +{len(values) - shown} more"


def _column_payload(column: ShownColumn, presence: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": column.type,
        "nullable": bool(column.nullable),
        "description": column.description,
        "private": bool(column.private),
        "kind": column.kind,
        "categories": categories_payload(column.categories),
        "presence": dict(presence),
    }


def table_schema_payload(schema: ShownTable) -> dict[str, Any]:
    """One lake's table as a schema payload whose only lake is that lake."""
    return {
        "table": schema.name,
        "lakes": [schema.lake],
        "columns": [_column_payload(c, {schema.lake: "ok"}) for c in schema.columns],
    }


def schema_payload_from_frame(table: str, frame: pd.DataFrame, lakes: Sequence[str]) -> dict:
    """The payload of ``Federation.schema(table)``'s frame (one presence column per lake;
    its ``categories`` column where it has one)."""
    columns = []
    for row in frame.to_dict("records"):
        categories = row.get("categories")
        columns.append(
            {
                "name": str(row["column"]),
                "type": str(row["type"]),
                "nullable": bool(row["nullable"]),
                "description": str(row["description"] or ""),
                "private": bool(row["private"]),
                "kind": str(row["kind"]),
                "categories": categories_payload(categories)
                if isinstance(categories, list | tuple)
                else None,
                "presence": {lake: str(row[lake]) for lake in lakes},
            }
        )
    return {"table": table, "lakes": list(lakes), "columns": columns}


def with_published_categories(payload: dict[str, Any], schemas: Mapping[str, ShownTable]) -> None:
    """Fill each column's categories in ``payload`` from the lakes' ``schemas`` (the first
    lake's list), and mark a lake that publishes other categories than that lake
    ``differs: categories`` where its presence was ``ok``."""
    for column in payload["columns"]:
        published = {
            lake: tuple(c.categories) if c.categories is not None else None
            for lake, schema in schemas.items()
            for c in schema.columns
            if c.name == column["name"]
        }
        if all(v is None for v in published.values()):
            continue
        first = next(iter(published.values()))
        column["categories"] = categories_payload(first)
        for lake, categories in published.items():
            if categories != first and column["presence"].get(lake) == "ok":
                column["presence"][lake] = "differs: categories"


def mismatches(payload: Mapping[str, Any]) -> list[str]:
    """Columns that are missing on a lake or whose type differs there."""
    return [c["name"] for c in payload["columns"] if any(v != "ok" for v in c["presence"].values())]


def schema_report(
    payload: Mapping[str, Any],
    *,
    description: str = "",
    rows: Mapping[str, int | None] | None = None,
) -> Report:
    """A table across lakes: every column's facts and, per lake, ok / missing / differs."""
    lakes = list(payload["lakes"])
    columns = payload["columns"]
    odd = mismatches(payload)
    several = len(lakes) > 1
    categorical = any(c.get("categories") for c in columns)
    header = ("column", "type", "kind", "nullable", "private", "description")
    if categorical:
        header = (*header[:3], "categories", *header[3:])
    grid = []
    for c in columns:
        row: list[Cell] = [
            (c["name"], "private") if c["private"] else c["name"],
            c["type"],
            _kind_text(c),
            fmt(c["nullable"]),
            ("private", "private") if c["private"] else "",
            c["description"] or "",
        ]
        if categorical:
            row.insert(3, categories_text(c.get("categories")))
        if several:
            row.extend((c["presence"][lake], c["presence"][lake]) for lake in lakes)
        grid.append(tuple(row))
    private = [c["name"] for c in columns if c["private"]]
    summary = [f"{len(columns)} columns"]
    summary.append(f"on {len(lakes)} lakes" if several else f"on lake {lakes[0]}")
    if several:
        summary.append(f"{len(odd)} differ between lakes" if odd else "the same on every lake")
    if private:
        summary.append(f"private: {', '.join(private)}")
    named = [c["name"] for c in columns if c.get("categories")]
    if named:
        summary.append(f"categorical: {', '.join(named)}")
    sections = []
    if description or rows:
        about: list[tuple[Cell, ...]] = []
        if description:
            about.append(("description", description))
        for lake, count in (rows or {}).items():
            about.append((f"rows on {lake}", "no table" if count is None else f"at least {count}"))
        sections.append(Section("Table", tuple(about)))
    sections.append(
        Section(
            "Columns",
            tuple(grid),
            header=header + (tuple(lakes) if several else ()),
            note="private columns can never be used by a plan" if private else "",
        )
    )
    status: Cell = (
        (
            (f"{len(odd)} mismatch" + ("es" if len(odd) != 1 else ""), "differs")
            if odd
            else ("consistent", "ok")
        )
        if several
        else ""
    )
    return Report("Schema", payload["table"], status, "; ".join(summary), None, tuple(sections))


def _kind_text(column: Mapping[str, Any]) -> str:
    """``categorical (3)`` for a column with categories, else its kind."""
    kind = str(column.get("kind") or "")
    categories = column.get("categories")
    if categories:
        return f"{kind or 'categorical'} ({len(categories)})"
    return kind


@dataclass(frozen=True)
class SchemaView:
    """A table's schema across a federation's lakes, for display (``Federation.schema_view``).

    ``payload`` follows ``application/vnd.collab.schema+json``; ``rows`` is each lake's
    published (coarsened) row count, ``None`` where the lake has no such table.
    """

    payload: dict[str, Any]
    description: str = ""
    rows: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def from_federation(cls, fed: ShownFederation, table: str) -> SchemaView:
        frame = fed.schema(table)
        payload = schema_payload_from_frame(table, frame, fed.lakes)
        hosted = fed.tables
        rows: dict[str, int | None] = dict.fromkeys(fed.lakes)
        description = ""
        if all(table in hosted.get(lake, []) for lake in fed.lakes):
            schemas = fed.table_schemas(table)
            with_published_categories(payload, schemas)
            for lake, schema in schemas.items():
                rows[lake] = schema.rows_at_least
                description = description or schema.description
        return cls(payload, description, rows)

    @property
    def table(self) -> str:
        return str(self.payload["table"])

    @property
    def mismatches(self) -> list[str]:
        return mismatches(self.payload)

    def report(self) -> Report:
        return schema_report(self.payload, description=self.description, rows=self.rows)

    def __repr__(self) -> str:
        return text(self.report())

    def _repr_html_(self) -> str:
        return html(self.report())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return bundle(self.report(), SCHEMA_MIME, self.payload, include, exclude)
