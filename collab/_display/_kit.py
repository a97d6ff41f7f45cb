"""The rendering kit: a :class:`Report` of :class:`Section` s, rendered as plain text
(:func:`text`) and as escaped HTML with its plain-text fallback (:func:`html`), by small
pure functions; the stylesheet ``collab/static/collab.css`` is read once. It names no type
it renders: each type builds its report (the modules beside this one) and
:class:`RichDisplay` turns it into what a notebook shows."""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

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


def json_number(value: float | None) -> float | None:
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


def count(n: int, noun: str) -> str:
    """``n noun`` with the noun in the plural unless ``n`` is 1."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def short(digest: str, n: int = 12) -> str:
    """The first ``n`` characters of a hash, as reports show it."""
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
