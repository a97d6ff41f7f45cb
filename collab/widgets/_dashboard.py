"""Follow a training job: each lake's state, a progress bar over rounds, and curves of the loss
and of the plan's primary metric (accuracy for a classifier, R² for a regression, ...),
refreshed from a background thread so the kernel stays free while the job runs."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import _display
from .._display import Report
from ._base import Poller, View, fragment_html, report_html

if TYPE_CHECKING:
    from ..scientist import Job

POLL_SECONDS = 0.5


def curves_png(history: list[dict[str, Any]], rounds: int, metric: str = "accuracy") -> bytes:
    """The loss and the plan's primary ``metric`` (accuracy, R², ...) per round, side by
    side, on the training rows and (where the plan validates) the lakes' held-out rows, as a
    PNG (matplotlib, no pyplot: safe to draw from a background thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 2.6), dpi=96, layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, metric_axes = figure.subplots(1, 2)
    x = [r["round"] for r in history]

    def values(key: str) -> list[float]:
        return [float("nan") if r.get(key) is None else float(r[key]) for r in history]

    # the same model on the lakes' held-out rows, where the plan validates (log loss is the
    # held-out counterpart of a classifier's training loss)
    for axes, key, held_out, colour, title in (
        (loss_axes, "loss", "val_log_loss", "tab:blue", "loss"),
        (metric_axes, metric, f"val_{metric}", "tab:green", metric),
    ):
        axes.plot(x, values(key), marker="o", markersize=3, color=colour, label="training")
        validated = values(held_out)
        if any(v == v for v in validated):  # not all NaN
            axes.plot(
                x,
                validated,
                marker="s",
                markersize=3,
                linestyle="--",
                color="tab:orange",
                label="held-out rows",
            )
            axes.legend(fontsize=8)
        axes.set_title(title, fontsize=10)
        axes.set_xlabel("round", fontsize=9)
        axes.set_xlim(0.5, max(rounds, 1) + 0.5)
        axes.tick_params(labelsize=8)
        axes.grid(alpha=0.3)
    if metric == "accuracy":
        metric_axes.set_ylim(0.0, 1.02)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class TrainingDashboard(View):
    """Each lake's state (waiting for approval, approved, running, done, failed), a progress
    bar over rounds and live curves of the loss and of the plan's ``primary_metric`` for a
    :class:`collab.Job`; when it is done, the last round's values of every metric the plan's
    history records.

    The dashboard reads the job every ``poll`` seconds in a daemon thread and stops when the
    job ends; the job itself trains in its own thread, so cells keep running meanwhile.
    """

    css_class = "collab-training-dashboard"

    def __init__(self, job: Job, *, poll: float = POLL_SECONDS) -> None:
        self.job = job
        self.header = widgets.HTML()
        self.lakes = widgets.HTML()
        self.progress = widgets.IntProgress(
            value=0,
            min=0,
            max=max(job.plan.total_rounds, 1),
            description="Rounds",
            bar_style="info",
            layout=widgets.Layout(width="420px"),
        )
        self.rounds = widgets.Label()
        self.curves = widgets.Image(format="png", layout=widgets.Layout(max_width="800px"))
        self.curves.layout.display = "none"
        self.footer = widgets.HTML()
        self._drawn = -1
        self._last: dict[str, Any] | None = None
        # the poller and the job's end both refresh: one at a time, each reading the job anew
        self._refreshing = threading.Lock()
        super().__init__(
            [
                self.header,
                self.lakes,
                widgets.HBox([self.progress, self.rounds]),
                self.curves,
                self.footer,
            ]
        )
        self.refresh()
        self._poller = Poller(self._step, poll, f"collab-dashboard-{job.job_id[:8]}")
        # the stored fallback shows how the job ended before job.result() returns, while
        # the cell that waits for it still runs
        job.on_end(lambda _: self._show_end())

    @property
    def state(self) -> dict[str, Any]:
        """What the dashboard shows now: the job's payload (status, lakes, rounds, history)."""
        assert self._last is not None
        return self._last

    @property
    def finished(self) -> bool:
        return self._last is not None and self._last["status"] in ("done", "failed")

    def _step(self) -> bool:
        self.refresh()
        if self.finished:  # the stored fallback shows how the job ended, not how it began
            self._update_display()
        return not self.finished

    def _show_end(self) -> None:
        self.refresh()
        self._update_display()

    def refresh(self) -> None:
        """Read the job once and update what changed."""
        with self._refreshing:
            self._refresh()

    def _refresh(self) -> None:
        payload = _display.job_payload(self.job)
        previous, self._last = self._last, payload
        report = _display.job_report(payload)
        header = Report(report.kind, report.title, report.status, report.summary)
        self.header.value = report_html(header)
        if previous is None or previous["lakes"] != payload["lakes"]:
            self.lakes.value = fragment_html(_display.section_html(report.sections[0]))
        self.progress.value = payload["rounds_done"]
        self.rounds.value = f"{payload['rounds_done']} / {payload['rounds_total']} rounds"
        status = payload["status"]
        self.progress.bar_style = {"done": "success", "failed": "danger"}.get(status, "info")
        history = payload["history"]
        if history and len(history) != self._drawn:
            metric = str(payload["plan"].get("primary_metric") or "loss")
            self.curves.value = curves_png(history, payload["rounds_total"], metric)
            self.curves.layout.display = None
            self._drawn = len(history)
        self.footer.value = self._footer(payload)

    @staticmethod
    def _footer(payload: dict[str, Any]) -> str:
        status = payload["status"]
        if status == "done":
            last = payload["history"][-1] if payload["history"] else None
            metrics = payload["plan"].get("metrics") or ["loss"]
            tail = (
                ""
                if last is None
                else "; last round: "
                + ", ".join(f"{m} {_display.fmt(last.get(m))}" for m in metrics)
            )
            text = (
                f"Finished: {payload['rounds_done']} rounds{tail}. job.result() returns the model."
            )
            kind = "ok"
        elif status == "failed":
            text, kind = f"Failed: {payload['error']}", "error"
        elif status == "waiting":
            text, kind = "Waiting for every lake's owner to approve the plan.", "info"
        else:
            text, kind = "Training: each round every lake runs a local step on its rows.", "info"
        return fragment_html(
            f'<div class="collab-message collab-{kind}">{_display.esc(text)}</div>'
        )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ended and the dashboard showed it; whether it did."""
        return self._poller.join(timeout)

    def close(self) -> None:
        self._poller.stop()
        super().close()

    def snapshot(self) -> Report:
        report = _display.job_report(self._last or _display.job_payload(self.job))
        return Report(
            "Training",
            report.title,
            report.status,
            report.summary,
            report.progress,
            report.sections,
        )
