"""Pooled statistics as the scientist reads them: tables that show themselves with plots."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd

DESCRIBE_COLUMNS = ["count", "missing", "mean", "std", "q05", "q25", "q50", "q75", "q95"]


class _StatisticsFrame(pd.DataFrame):
    """A pandas DataFrame that a notebook shows with its plots; anything derived from it is
    a plain DataFrame."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _plots_html(self) -> str:
        return ""

    def _plain(self) -> pd.DataFrame:
        """The table without its attrs (pandas compares attrs, which hold frames, when it
        truncates a wide table for display)."""
        plain = pd.DataFrame(self).copy()
        plain.attrs = {}
        return plain

    def __repr__(self) -> str:
        return repr(self._plain())

    def _repr_html_(self) -> str | None:
        from .._display import style

        table = self._plain()._repr_html_() or ""
        note = self.attrs.get("note", "")
        return (
            f"{style()}<div class='collab-statistics'>{self._plots_html()}{table}"
            + (f"<p class='collab-note'>{_escape(note)}</p>" if note else "")
            + "</div>"
        )


class Description(_StatisticsFrame):
    """``fed.describe``'s table: one row per column (``count``, ``missing``, ``mean``,
    ``std`` with ddof=1, quantiles ``q05``..``q95``), NaN where a figure does not apply or was
    suppressed. ``attrs`` holds each column's ``histograms``, ``categories`` and the
    ``quantile_error`` (how far each quantile may be from the pooled rows' own)."""

    def _plots_html(self) -> str:
        histograms: dict[str, pd.DataFrame] = self.attrs.get("histograms", {})
        categories: dict[str, pd.Series] = self.attrs.get("categories", {})
        cells = []
        for column in self.index:
            if column in histograms:
                frame = histograms[column]
                image = bars_png(
                    frame["count"].to_numpy(float), [f"{v:.3g}" for v in frame["low"]], small=True
                )
            elif column in categories:
                series = categories[column]
                image = bars_png(series.to_numpy(float), [str(i) for i in series.index], small=True)
            else:
                continue
            cells.append(
                f"<figure style='display:inline-block;margin:4px'>"
                f"<img src='data:image/png;base64,{image}' alt='distribution of {_escape(column)}'>"
                f"<figcaption>{_escape(column)}</figcaption></figure>"
            )
        return "<div>" + "".join(cells) + "</div>" if cells else ""


class Histogram(_StatisticsFrame):
    """``fed.histogram``'s bins: ``low``, ``high``, ``count`` (NaN where suppressed); it
    draws itself in a notebook, and :meth:`plot` draws it on matplotlib axes."""

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """Bars of the counts on ``ax`` (a new figure's axes by default); suppressed bins
        are left empty. Returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        counts = self["count"].to_numpy(float)
        ax.bar(
            self["low"],
            np.nan_to_num(counts),
            width=self["high"] - self["low"],
            align="edge",
            edgecolor="white",
            **kwargs,
        )
        ax.set_xlabel(str(self.attrs.get("column", "")))
        ax.set_ylabel("rows (pooled)")
        return ax

    def _plots_html(self) -> str:
        image = bars_png(
            self["count"].to_numpy(float), [f"{v:.3g}" for v in self["low"]], small=False
        )
        return (
            f"<img src='data:image/png;base64,{image}' "
            f"alt='histogram of {_escape(str(self.attrs.get('column', '')))}'>"
        )


class Crosstab(_StatisticsFrame):
    """``fed.crosstab``'s counts, rows by the first column's categories and columns by the
    second's; NaN where suppressed."""


def bars_png(counts: np.ndarray, labels: list[str], *, small: bool) -> str:
    """A bar chart of ``counts`` as base64 PNG (hatched where a count was suppressed)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2.4, 1.1) if small else (6, 2.6), dpi=80)
    ax = figure.add_subplot()
    x = np.arange(len(counts))
    shown = np.nan_to_num(counts)
    ax.bar(x, shown, color="#4c78a8", width=0.9)
    blank = np.isnan(counts)
    if blank.any():
        top = float(np.nanmax(counts)) if np.isfinite(counts).any() else 1.0
        ax.bar(x[blank], top * 0.15, color="none", edgecolor="#999", hatch="///", width=0.9)
    if small:
        ax.set_axis_off()
    else:
        step = max(1, len(labels) // 10)
        ax.set_xticks(x[::step], labels[::step], fontsize=8)
        ax.set_ylabel("rows", fontsize=8)
    figure.tight_layout(pad=0.2)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


def _escape(text: str) -> str:
    from .._display import esc

    return esc(text)
