"""Rich display of collab objects: the text, HTML and JSON a notebook shows.

Each object is first described as a :class:`Report` (a title, a status, a progress bar and a
few :class:`Section` s) built from plain data; :func:`text` and :func:`html` then render the same
report, so a terminal, GitHub or nbviewer (``text/plain``, and a plain-text fallback inside the
HTML for viewers that strip styles) and JupyterLab (``text/html``) show the same sections.
Beside them, ``_repr_mimebundle_`` carries a JSON payload for the collab JupyterLab extension:

- ``application/vnd.collab.schema+json``: ``{"table", "lakes", "columns": [{"name", "type",
  "nullable", "description", "private", "kind", "categories": [...] | null, "presence":
  {lake: "ok" | "missing" | "differs: <type>" | "differs: categories"}}]}``; ``kind`` is
  numeric, binary, categorical, boolean, date, text or other, ``categories`` the values the
  owners publish for a categorical column
- ``application/vnd.collab.plan+json``: ``plan.to_spec()`` plus ``"hash"``
- ``application/vnd.collab.job+json``: ``{"job_id", "plan", "status", "lakes",
  "rounds_done", "rounds_total", "history": [{"round", "loss", "accuracy", "rows"}],
  "error"}``
- ``application/vnd.collab.model+json``: ``model.to_dict()``

Every value that reaches HTML goes through :func:`html.escape`. The stylesheet is
``collab/static/collab.css``, read once.
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# This module renders; it names none of the types it renders (each type calls it from its
# ``_display_``), so it sits below every layer. Their objects are typed ``Any`` here.

SCHEMA_MIME = "application/vnd.collab.schema+json"
PLAN_MIME = "application/vnd.collab.plan+json"
JOB_MIME = "application/vnd.collab.job+json"
MODEL_MIME = "application/vnd.collab.model+json"

HISTORY_SHOWN = 5  # rounds of a job's history shown in its repr (the last ones)
CATEGORIES_SHOWN = 8  # a column's categories listed before "+N more"

# A cell is its text, or (text, state): the state styles it (a lake's state, a column's
# presence) and is reduced to a CSS class name from a fixed alphabet.
Cell = str | tuple[str, str]


@dataclass(frozen=True)
class Section:
    """A titled part of a report: a grid when ``header`` is given, else key/value rows."""

    title: str
    rows: tuple[tuple[Cell, ...], ...]
    header: tuple[str, ...] = ()
    note: str = ""
    open: bool = True


@dataclass(frozen=True)
class Report:
    """What one object shows: ``<kind> <title>``, a status, a summary line, sections."""

    kind: str
    title: str
    status: Cell = ""
    summary: str = ""
    progress: tuple[int, int] | None = None  # (done, total)
    sections: tuple[Section, ...] = field(default_factory=tuple)


# values -------------------------------------------------------------------------------------
def fmt(value: Any) -> str:
    """One value as text: ``—`` for nothing, yes/no, four significant digits for floats."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def _json_number(value: Any) -> float | None:
    """A float for a JSON payload; ``None`` for missing or non-finite values."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def state_of(text: str) -> str:
    """The CSS-safe state name of a lake state or a column's presence."""
    head = text.split(":")[0].strip().lower()
    head = {"waiting for approval": "waiting", "pending": "waiting"}.get(head, head)
    return re.sub(r"[^a-z]+", "-", head).strip("-") or "none"


def _cell_text(cell: Cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _short(digest: str, n: int = 12) -> str:
    return digest[:n]


# text ---------------------------------------------------------------------------------------
def _bar(done: int, total: int, width: int = 20) -> str:
    filled = 0 if total <= 0 else round(width * min(done, total) / total)
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} rounds"


def _grid_text(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[str]:
    table = [list(header), *[[_cell_text(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    return ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in table]


def text(report: Report) -> str:
    """The report as plain text (``text/plain``, and the fallback inside the HTML)."""
    head = f"{report.kind} {report.title}"
    status = _cell_text(report.status)
    lines = [f"{head} · {status}" if status else head]
    if report.summary:
        lines.append(f"  {report.summary}")
    if report.progress is not None:
        lines.append(f"  {_bar(*report.progress)}")
    for section in report.sections:
        lines.append(section.title)
        if section.header:
            body = _grid_text(section.header, section.rows)
        else:
            width = max((len(_cell_text(r[0])) for r in section.rows), default=0)
            body = [
                f"{_cell_text(r[0]).ljust(width)}  {' '.join(_cell_text(c) for c in r[1:])}"
                for r in section.rows
            ]
        lines.extend(f"  {line}" for line in body)
        if section.note:
            lines.append(f"  ({section.note})")
    return "\n".join(lines)


# html ---------------------------------------------------------------------------------------
def esc(value: Any) -> str:
    """``value`` as text, escaped for HTML."""
    return _html.escape(value if isinstance(value, str) else fmt(value), quote=True)


@lru_cache(maxsize=1)
def css() -> str:
    """The stylesheet, read once from ``collab/static/collab.css``."""
    return files("collab").joinpath("static", "collab.css").read_text(encoding="utf-8")


def style() -> str:
    return f"<style>{css()}</style>"


def _cell_html(cell: Cell, tag: str = "td") -> str:
    if isinstance(cell, tuple):
        value, state = cell
        return f'<{tag} class="collab-state collab-{state_of(state)}">{esc(value)}</{tag}>'
    return f"<{tag}>{esc(cell)}</{tag}>"


def grid_html(header: Sequence[str], rows: Iterable[Sequence[Cell]], css_class: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell_html(c) for c in row) + "</tr>" for row in rows)
    extra = f" {css_class}" if css_class else ""
    return (
        f'<table class="collab-grid{extra}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _pairs_html(rows: Sequence[Sequence[Cell]]) -> str:
    items = "".join(
        f"<dt>{esc(_cell_text(r[0]))}</dt>" + "".join(_cell_html(c, "dd") for c in r[1:])
        for r in rows
    )
    return f'<dl class="collab-pairs">{items}</dl>'


def section_html(section: Section) -> str:
    body = grid_html(section.header, section.rows) if section.header else _pairs_html(section.rows)
    note = f'<p class="collab-note">{esc(section.note)}</p>' if section.note else ""
    count = f' <span class="collab-count">{len(section.rows)}</span>' if section.header else ""
    opened = " open" if section.open else ""
    return (
        f'<details class="collab-section"{opened}><summary>{esc(section.title)}{count}'
        f"</summary>{body}{note}</details>"
    )


def progress_html(done: int, total: int) -> str:
    return (
        f'<div class="collab-progress"><progress value="{int(done)}" max="{max(int(total), 1)}">'
        f"</progress><span>{int(done)} / {int(total)} rounds</span></div>"
    )


def header_html(report: Report) -> str:
    status = ""
    if report.status:
        value = _cell_text(report.status)
        state = report.status[1] if isinstance(report.status, tuple) else value
        status = f' <span class="collab-badge collab-{state_of(state)}">{esc(value)}</span>'
    summary = f'<div class="collab-summary">{esc(report.summary)}</div>' if report.summary else ""
    return (
        f'<div class="collab-header"><span class="collab-kind">{esc(report.kind)}</span> '
        f'<span class="collab-title">{esc(report.title)}</span>{status}</div>{summary}'
    )


def html(report: Report, *, fallback: bool = True) -> str:
    """The report as HTML with the stylesheet; with ``fallback``, the plain text too, shown
    only where the stylesheet is stripped (untrusted notebooks, GitHub)."""
    parts = [header_html(report)]
    if report.progress is not None:
        parts.append(progress_html(*report.progress))
    parts.extend(section_html(s) for s in report.sections)
    body = "".join(parts)
    if not fallback:
        return f'{style()}<div class="collab-repr"><div class="collab-wrap">{body}</div></div>'
    return (
        f'{style()}<div class="collab-repr"><pre class="collab-fallback">{esc(text(report))}'
        f'</pre><div class="collab-wrap" hidden>{body}</div></div>'
    )


def bundle(
    report: Report,
    mime: str | None = None,
    payload: Any = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> dict[str, Any]:
    """A MIME bundle: ``text/plain``, ``text/html`` and, when given, the JSON payload."""
    data: dict[str, Any] = {"text/plain": text(report), "text/html": html(report)}
    if mime is not None:
        data[mime] = payload
    if include is not None:
        data = {k: v for k, v in data.items() if k in set(include)}
    if exclude is not None:
        data = {k: v for k, v in data.items() if k not in set(exclude)}
    return data


# schemas ------------------------------------------------------------------------------------
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


def _column_payload(column: Any, presence: Mapping[str, str]) -> dict[str, Any]:
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


def table_schema_payload(schema: Any) -> dict[str, Any]:
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


def with_published_categories(payload: dict[str, Any], schemas: Mapping[str, Any]) -> None:
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
    def from_federation(cls, fed: Any, table: str) -> SchemaView:
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


# plans --------------------------------------------------------------------------------------
def plan_payload(plan: Any) -> dict[str, Any]:
    """The plan's spec, its hash, and what displays need to show any family: its task, the
    rounds it runs, the metrics its history records, and its own settings in order."""
    spec = plan.to_spec()
    own = [s["name"] for s in type(plan).settings()]
    return {
        **spec,
        "hash": plan.hash,
        "task": plan.task,
        "total_rounds": int(plan.total_rounds),
        "metrics": list(plan.history_metrics),
        "primary_metric": plan.primary_metric,
        "settings": [[name, spec.get(name)] for name in own],
    }


def _dp_text(dp: Mapping[str, Any] | None) -> str:
    if not dp:
        return "off"
    return (
        f"epsilon {fmt(dp.get('epsilon'))}, delta {fmt(dp.get('delta'))}, "
        f"clip norm {fmt(dp.get('clip_norm'))}"
    )


def _secure_text(spec: Mapping[str, Any]) -> str:
    if not spec.get("secure_aggregation"):
        return "off: each lake's update is seen by the coordinator"
    threshold = spec.get("secure_threshold")
    survivors = "a majority of lakes" if threshold is None else f"{threshold} lakes"
    return f"on: only the sum over lakes is revealed (needs {survivors} each round)"


def _setting_text(name: str, value: Any) -> str:
    if name == "batch_size" and value is None:
        return "full batch"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return fmt(value)


def _layout_text(layout: Mapping[str, Any]) -> str:
    """What a statistics request computes per column (as its owners approve it)."""
    parts = []
    for column, how in layout.items():
        said = ["moments" if how.get("numeric") else "counts"]
        if how.get("bounds"):
            said.append(f"histogram over {fmt(how['bounds'][0])}..{fmt(how['bounds'][1])}")
        if how.get("categories"):
            said.append(f"{len(how['categories'])} categories")
        parts.append(f"{column} ({', '.join(said)})")
    return "; ".join(parts)


def plan_report(payload: Mapping[str, Any]) -> Report:
    features = list(payload.get("features", []))
    settings = payload.get("settings") or []
    if payload.get("task") == "statistics":
        return _statistics_request_report(payload, features, settings)
    sections = (
        Section(
            "Columns",
            (("label", payload.get("label", "")), ("features", ", ".join(features))),
        ),
        Section(
            "Training",
            tuple(
                (str(name).replace("_", " "), _setting_text(str(name), value))
                for name, value in settings
            ),
        ),
        Section(
            "Privacy",
            (
                ("secure aggregation", _secure_text(payload)),
                ("differential privacy", _dp_text(payload.get("dp"))),
            ),
        ),
        Section("Identity", (("hash", _short(str(payload.get("hash", "")))),), open=False),
    )
    summary = (
        f"predicts {payload.get('label')} from {len(features)} feature"
        f"{'s' if len(features) != 1 else ''} in "
        f"{_count(int(payload.get('total_rounds') or 0), 'round')}"
    )
    title = f"{payload.get('model')} on {payload.get('table')}"
    return Report("Plan", title, "", summary, None, sections)


def _statistics_request_report(
    payload: Mapping[str, Any], columns: list[str], settings: Sequence[Sequence[Any]]
) -> Report:
    own = {str(name): value for name, value in settings}
    kind = str(own.get("kind", "describe"))
    rows: list[tuple[str, Cell]] = [("columns", ", ".join(columns)), ("kind", kind)]
    if kind == "describe":
        rows.append(("histogram bins", fmt(own.get("bins"))))
    if isinstance(own.get("layout"), Mapping):
        rows.append(("computes", _layout_text(own["layout"])))
    sections = (
        Section("Request", tuple(rows)),
        Section(
            "Privacy",
            (
                ("secure aggregation", _secure_text(payload)),
                ("differential privacy", _dp_text(payload.get("dp"))),
                ("small cells", "each lake blanks its cells below its policy's min_rows"),
            ),
        ),
        Section("Identity", (("hash", _short(str(payload.get("hash", "")))),), open=False),
    )
    summary = f"pooled statistics ({kind}) of {_count(len(columns), 'column')}"
    return Report("Statistics request", f"on {payload.get('table')}", "", summary, None, sections)


# jobs ---------------------------------------------------------------------------------------
def job_payload(job: Any) -> dict[str, Any]:
    history = [
        {
            "round": int(r.round),
            **{name: _json_number(r.metrics.get(name)) for name in job.plan.history_metrics},
            **{k: _json_number(v) for k, v in r.metrics.items() if k.startswith("val_")},
            "rows": None if r.rows is None else int(r.rows),
        }
        for r in list(job.progress.history)
    ]
    error = job.error
    return {
        "job_id": job.job_id,
        "plan": plan_payload(job.plan),
        "status": job.status,
        "lakes": dict(job.lake_states),
        "rounds_done": int(job.rounds_done),
        "rounds_total": int(job.plan.total_rounds),
        "history": history,
        "error": None if error is None else f"{type(error).__name__}: {error}",
    }


def job_report(payload: Mapping[str, Any]) -> Report:
    plan = payload["plan"]
    lakes = payload["lakes"]
    history = payload["history"]
    metrics = list(plan.get("metrics") or ["loss"])
    shown = history[-HISTORY_SHOWN:]
    sections = [
        Section(
            "Lakes",
            tuple((lake, (state, state)) for lake, state in lakes.items()),
            header=("lake", "state"),
        ),
    ]
    if history:
        sections.append(
            Section(
                "History",
                tuple(
                    (fmt(r["round"]), *(fmt(r.get(m)) for m in metrics), fmt(r["rows"]))
                    for r in shown
                ),
                header=("round", *metrics, "rows"),
                note=f"last {len(shown)} of {len(history)} rounds; job.history has them all"
                if len(history) > len(shown)
                else "",
            )
        )
    if payload.get("error"):
        sections.append(Section("Error", (("error", (payload["error"], "failed")),)))
    sections.append(
        Section(
            "Plan",
            (
                ("model", f"{plan.get('model')} on {plan.get('table')}"),
                ("label", plan.get("label", "")),
                ("features", ", ".join(plan.get("features", []))),
                ("secure aggregation", fmt(bool(plan.get("secure_aggregation")))),
                ("differential privacy", _dp_text(plan.get("dp"))),
                ("plan hash", _short(str(plan.get("hash", "")))),
            ),
            open=False,
        )
    )
    summary = f"{plan.get('model')} on {plan.get('table')} across {len(lakes)} lakes"
    status = str(payload["status"])
    return Report(
        "Job",
        str(payload["job_id"])[:8],
        (status, status),
        summary,
        (int(payload["rounds_done"]), int(payload["rounds_total"])),
        tuple(sections),
    )


# models -------------------------------------------------------------------------------------
def model_payload(model: Any) -> dict[str, Any]:
    return model.to_dict()


def model_report(payload: Mapping[str, Any]) -> Report:
    features = list(payload.get("features", []))
    table = payload.get("report") or {}
    rows = tuple(
        tuple(v if isinstance(v, str) else fmt(v) for v in row) for row in table.get("rows", [])
    )
    lakes = list(payload.get("lakes", []))
    sections = (
        Section(
            str(table.get("title", "Parameters")),
            rows,
            header=tuple(table.get("header", ())),
            note=str(table.get("note", "")),
            open=len(rows) <= 12,
        ),
        Section(
            "Training",
            (
                ("lakes", ", ".join(lakes) or "—"),
                ("rounds", fmt(payload.get("rounds"))),
                ("plan hash", _short(str(payload.get("plan_hash", ""))) or "—"),
            ),
        ),
    )
    summary = (
        f"predicts {payload.get('label')} from {_count(len(features), 'feature')}; trained "
        f"over {_count(len(lakes), 'lake')} in {_count(payload.get('rounds') or 0, 'round')}"
    )
    model = str(payload.get("model", "model")).replace("_", " ")
    return Report("Model", model, "", summary, None, sections)


def _validation_rows(
    validation: Mapping[str, Any], share: float | None
) -> tuple[tuple[str, Cell], ...]:
    if not validation:
        return (("held out", "none: the model was not validated during training"),)
    rows: list[tuple[str, Cell]] = []
    if share:
        rows.append(("held out", f"{share:.0%} of each lake's rows, never trained on"))
    for name, value in validation.items():
        if name == "confusion_matrix":
            value = " / ".join(" ".join(str(int(v)) for v in row) for row in value)
        elif name == "roc_auc_error":
            continue
        rows.append((name.replace("_", " "), fmt(value)))
    return tuple(rows)


def model_card_report(facts: Mapping[str, Any]) -> Report:
    features = list(facts.get("features", []))
    lakes = list(facts.get("lakes", []))
    plan = facts.get("plan")
    metrics = facts.get("training_metrics") or {}
    rows = facts.get("rows")
    # under differential privacy the lakes' counts and training figures carry noise
    noisy = "≈ " if facts.get("dp") else ""
    sections = (
        Section(
            "Plan",
            (
                ("model", str(facts.get("model", "")).replace("_", " ")),
                ("table", fmt(facts.get("table")) if plan else "not recorded"),
                ("label", str(facts.get("label", ""))),
                ("features", ", ".join(features)),
                ("plan hash", str(facts.get("plan_hash") or "not recorded")),
            ),
        ),
        Section(
            "Data and training",
            (
                ("lakes", ", ".join(lakes) or "—"),
                *(
                    (f"rows at {lake}", f"at least {fmt(int(n))}")
                    for lake, n in (facts.get("lake_rows") or {}).items()
                ),
                ("rows (pooled, last round)", "—" if rows is None else noisy + fmt(int(rows))),
                ("rounds", fmt(facts.get("rounds"))),
                *((f"training {k}", noisy + fmt(v)) for k, v in metrics.items()),
            ),
        ),
        Section(
            "Validation on held-out rows",
            _validation_rows(facts.get("validation") or {}, facts.get("validation_share")),
        ),
        Section(
            "Privacy",
            (
                ("secure aggregation", _secure_text(facts) if plan else "not recorded"),
                ("differential privacy", _dp_text(facts.get("dp")) if plan else "not recorded"),
            ),
        ),
        Section(
            "Provenance",
            (
                ("collab version", str(facts.get("collab_version", ""))),
                *(
                    (
                        f"approved at {lake}",
                        f"audit entry {entry.get('seq')} by {entry.get('actor')}, hash "
                        f"{_short(str(entry.get('hash', '')))}",
                    )
                    for lake, entry in (facts.get("approvals") or {}).items()
                ),
            ),
        ),
    )
    summary = (
        f"predicts {facts.get('label')} from {_count(len(features), 'feature')}; trained over "
        f"{_count(len(lakes), 'lake')} in {_count(int(facts.get('rounds') or 0), 'round')}"
    )
    model = str(facts.get("model", "model")).replace("_", " ")
    return Report("Model card", model, "", summary, None, sections)


# lakes --------------------------------------------------------------------------------------
def lake_info(lake: Any) -> dict[str, Any]:
    """What a lake's repr shows (everything here is the owner's to see)."""
    tables = []
    for name in lake.tables:
        schema, policy = lake.schema(name), lake.policy(name)
        tables.append(
            {
                "name": name,
                "description": schema.description,
                "rows_at_least": schema.rows_at_least,
                "columns": len(schema.columns),
                "private": [c.name for c in schema.columns if c.private],
                "policy": policy.to_dict(),
            }
        )
    requests = [r.summary() for r in lake.all_requests()]
    return {
        "name": lake.name,
        "url": lake.url,
        "tables": tables,
        "requests": requests,
        "audit_entries": len(lake.audit),
    }


def lake_report(info: Mapping[str, Any]) -> Report:
    tables = info["tables"]
    requests = info["requests"]
    pending = sum(1 for r in requests if r["status"] == "pending")
    sections = [
        Section(
            "Tables",
            tuple(
                (
                    t["name"],
                    f"at least {t['rows_at_least']}",
                    fmt(t["columns"]),
                    ", ".join(t["private"]) or "—",
                    t["description"] or "",
                )
                for t in tables
            ),
            header=("table", "rows", "columns", "private", "description"),
        ),
        Section(
            "Policies",
            tuple(
                (
                    t["name"],
                    "all but private"
                    if t["policy"]["allowed_columns"] is None
                    else ", ".join(t["policy"]["allowed_columns"]),
                    fmt(t["policy"]["min_rows"]),
                    fmt(t["policy"]["max_rounds"]),
                    fmt(t["policy"]["max_epsilon"]),
                    fmt(t["policy"]["require_secure_aggregation"]),
                    fmt(t["policy"]["auto_approve"]),
                )
                for t in tables
            ),
            header=(
                "table",
                "allowed columns",
                "min rows",
                "max rounds",
                "max epsilon",
                "secure aggregation required",
                "auto approve",
            ),
            open=False,
        ),
        Section(
            "Requests",
            tuple(
                (
                    r["request"],
                    r["scientist"],
                    r["table"],
                    r["model"],
                    fmt(r["rounds"]),
                    fmt(r["epsilon"]),
                    (r["status"], r["status"]),
                )
                for r in requests
            ),
            header=("request", "scientist", "table", "model", "rounds", "epsilon", "status"),
            note="newest first; lake.requests to approve or deny" if requests else "none yet",
        ),
        Section(
            "Audit",
            (
                ("entries", fmt(info["audit_entries"])),
                ("read", "lake.audit; check the chain with lake.verify_audit()"),
            ),
        ),
    ]
    where = info["url"] or "in-process"
    status: Cell = (f"{pending} pending", "waiting") if pending else ""
    summary = f"{where}; {len(tables)} table{'s' if len(tables) != 1 else ''}"
    return Report("Lake", info["name"], status, summary, None, tuple(sections))


# requests -----------------------------------------------------------------------------------
def request_report(summary: Mapping[str, Any], budget: str = "") -> Report:
    """One request as an owner reviews it (the approval queue's card)."""
    rows: list[tuple[Cell, ...]] = [
        ("scientist", str(summary["scientist"])),
        ("table", str(summary["table"])),
        ("model", str(summary["model"])),
        ("label", str(summary["label"])),
        ("features", str(summary["features"])),
        ("rounds", fmt(summary["rounds"])),
        ("secure aggregation", fmt(summary.get("secure aggregation"))),
        (
            "privacy cost",
            "no DP: spends no epsilon"
            if summary.get("epsilon") is None
            else f"epsilon {fmt(summary['epsilon'])}",
        ),
    ]
    if budget:
        rows.append(("budget after", budget))
    status = str(summary["status"])
    return Report(
        "Request",
        str(summary["request"]),
        (status, status),
        f"{summary['scientist']} asks to train {summary['model']} on {summary['table']}",
        None,
        (Section("Plan", tuple(rows)),),
    )


# frames -------------------------------------------------------------------------------------
def frame_section(title: str, frame: pd.DataFrame, note: str = "") -> Section:
    """A small DataFrame as a grid section (for synthetic previews)."""
    rows = tuple(tuple(fmt(v) for v in row) for row in frame.itertuples(index=False))
    return Section(title, rows, header=tuple(str(c) for c in frame.columns), note=note)


# the core classes' _repr_html_ / _repr_mimebundle_ ---------------------------------------------
class RichDisplay:
    """Rich display for a collab type: it says what it shows in :meth:`_display_` (a report,
    and the MIME type and payload of the JupyterLab extension's renderer, if any); this mixin
    turns that into the text, HTML and MIME bundle a notebook shows."""

    def _display_(self) -> tuple[Report, str | None, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return html(self._display_()[0])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        report, mime, payload = self._display_()
        return bundle(report, mime, payload, include, exclude)
