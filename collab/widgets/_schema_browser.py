"""Browse what a federation publishes: tables down, lakes across, then one table's columns and
a synthetic preview. Nothing here can show a real row: the data come from
``Federation.schema_view`` and ``Federation.mock`` (rows made from the schema alone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import _display
from .._display import Cell, Report, SchemaView, Section
from .._errors import CollabError
from ._base import View, fragment_html, message_html, report_html

if TYPE_CHECKING:
    from ..scientist import Federation

PREVIEW_ROWS = 5


def overview_report(views: dict[str, SchemaView], lakes: list[str]) -> Report:
    """Tables down, lakes across: each cell says whether that lake has the table, with its
    column count and published row count; the last column counts mismatched columns."""
    rows = []
    for table, view in views.items():
        cells: list[Cell] = [table]
        for lake in lakes:
            present = [c for c in view.payload["columns"] if c["presence"][lake] != "missing"]
            count = view.rows.get(lake)
            if not present:
                cells.append(("no table", "missing"))
            else:
                size = "" if count is None else f", at least {count} rows"
                cells.append((f"{len(present)} columns{size}", "ok"))
        odd = view.mismatches
        cells.append((f"{len(odd)}: {', '.join(odd)}", "differs") if odd else ("none", "ok"))
        rows.append(tuple(cells))
    section = Section("Tables", tuple(rows), header=("table", *lakes, "columns that differ"))
    summary = f"{len(views)} table{'s' if len(views) != 1 else ''} on {len(lakes)} lakes"
    return Report("Federation", ", ".join(lakes), "", summary, None, (section,))


class SchemaBrowser(View):
    """Tables down, lakes across; pick a table to see its columns (types, descriptions,
    mismatches between lakes highlighted) and synthetic rows made from its schema.

    Parameters
    ----------
    fed
        The scientist's :class:`collab.Federation`.
    preview_rows
        Synthetic rows shown per lake.
    """

    css_class = "collab-schema-browser"

    def __init__(self, fed: Federation, *, preview_rows: int = PREVIEW_ROWS) -> None:
        self.fed = fed
        self.preview_rows = preview_rows
        self.lakes = list(fed.lakes)
        hosted = fed.tables
        tables = sorted({t for names in hosted.values() for t in names})
        self.views: dict[str, SchemaView] = {t: fed.schema_view(t) for t in tables}
        self.overview = widgets.HTML(report_html(overview_report(self.views, self.lakes)))
        everywhere = [t for t in tables if all(t in hosted[lake] for lake in self.lakes)]
        first = (everywhere or tables or [None])[0]
        self.table = widgets.Dropdown(options=tables, description="Table", value=first)
        self.detail = widgets.HTML()
        self.preview = widgets.HTML()
        self.table.observe(self._show, names="value")
        super().__init__([self.overview, self.table, self.detail, self.preview])
        self._show()

    def _show(self, change: Any = None) -> None:
        table = self.table.value
        if table is None:
            self.detail.value = message_html("No lake publishes a table yet.")
            self.preview.value = ""
            return
        self.detail.value = report_html(self.views[table].report())
        self.preview.value = self._preview(table)

    def _preview(self, table: str) -> str:
        try:
            frame = self.fed.mock(table, n=self.preview_rows)
        except CollabError as exc:
            return message_html(f"No synthetic preview: {exc}", "info")
        section = _display.frame_section(
            f"Synthetic rows of {table}",
            frame,
            note="made from each lake's published schema (types only), never from real rows",
        )
        return fragment_html(_display.section_html(section))

    def snapshot(self) -> Report:
        overview = overview_report(self.views, self.lakes)
        table = self.table.value
        if table is None:
            return overview
        detail = self.views[table].report()
        sections = (
            *overview.sections,
            *(
                Section(f"{table}: {s.title}", s.rows, s.header, s.note, s.open)
                for s in detail.sections
            ),
        )
        return Report("Schema browser", overview.title, "", overview.summary, None, sections)
