"""Follow a standing job over streams: its status, its updates so far against the cap, the
model tested on each update's new rows before training on them beside its training metric
after (drift marked), and the last updates, refreshed from a background thread."""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import _display
from .._display import Report
from ._base import Poller, View, fragment_html, report_html
from ._dashboard import POLL_SECONDS

if TYPE_CHECKING:
    from ..scientist import FollowJob


def updates_png(rows: Sequence[Mapping[str, Any]], metric: str) -> bytes:
    """``before_<metric>`` (the current model on an update's new rows, before training on
    them) and ``<metric>`` after training, per update, with drift marked, as a PNG
    (matplotlib without pyplot: safe from a background thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 2.6), dpi=96, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    updates = [int(r["update"]) for r in rows]

    def values(key: str) -> list[float]:
        return [float("nan") if r.get(key) is None else float(r[key]) for r in rows]

    axes.plot(updates, values(f"before_{metric}"), "o-", label="on the new rows, before")
    axes.plot(updates, values(metric), "s--", label="after training")
    drifted = [r for r in rows if r.get("drift")]
    for r in drifted:
        axes.axvline(int(r["update"]), color="tab:red", alpha=0.5)
    if drifted:
        axes.plot([], [], color="tab:red", alpha=0.5, label="drift")
    axes.set_xlabel("update", fontsize=8)
    axes.set_ylabel(metric, fontsize=8)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class FollowDashboard(View):
    """A :class:`collab.FollowJob`, live: its status and why it ended, a progress bar over
    its updates (to ``max_updates``), a plot of the plan's ``primary_metric`` on each
    update's new rows before training and after, drift marked, and its last updates.

    The dashboard reads the job every ``poll`` seconds in a daemon thread until the job
    ends; drift warnings stay for the notebook's own reads of ``job.updates``.
    """

    css_class = "collab-follow-dashboard"

    def __init__(self, job: FollowJob, *, poll: float = POLL_SECONDS) -> None:
        self.job = job
        cap = job.terms.get("max_updates")
        self.header = widgets.HTML()
        self.progress = widgets.IntProgress(
            value=0,
            min=0,
            max=max(int(cap or 1), 1),
            description="Updates",
            bar_style="info",
            layout=widgets.Layout(width="420px"),
        )
        self.count = widgets.Label()
        self.curves = widgets.Image(format="png", layout=widgets.Layout(max_width="640px"))
        self.curves.layout.display = "none"
        self.table = widgets.HTML()
        self._drawn = -1
        self._refreshing = threading.Lock()
        super().__init__(
            [self.header, widgets.HBox([self.progress, self.count]), self.curves, self.table]
        )
        self.refresh()
        self._poller = Poller(self._step, poll, f"collab-follow-dashboard-{job.job_id[:8]}")

    @property
    def finished(self) -> bool:
        return self.job.done

    def _step(self) -> bool:
        done = self.job.done  # read before the refresh: the last refresh sees the end
        self.refresh()
        if done:
            self._update_display()
        return not done

    def refresh(self) -> None:
        """Read the job once and update what changed."""
        with self._refreshing:
            report = _display.follow_report(self.job)
            rows = self.job.history
            self.header.value = report_html(
                Report(report.kind, report.title, report.status, report.summary)
            )
            self.progress.value = min(len(rows), self.progress.max)
            status = self.job.status
            self.progress.bar_style = {"done": "success", "failed": "danger"}.get(status, "info")
            self.count.value = f"{len(rows)} / {self.job.terms.get('max_updates')} updates"
            if rows and len(rows) != self._drawn:
                metric = str(getattr(self.job.plan, "primary_metric", "loss"))
                self.curves.value = updates_png(rows, metric)
                self.curves.layout.display = None
                self._drawn = len(rows)
            self.table.value = (
                fragment_html(_display.section_html(report.sections[-1])) if rows else ""
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ended and the dashboard showed it; whether it did."""
        return self._poller.join(timeout)

    def close(self) -> None:
        self._poller.stop()
        super().close()

    def snapshot(self) -> Report:
        return _display.follow_report(self.job)
