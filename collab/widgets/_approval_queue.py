"""A lake owner's queue of requests: each plan's summary and privacy cost, approve or deny with
a reason. Buttons call ``Request.approve()`` and ``Request.deny(reason)``; the lake checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import _display
from .._display import Report, Section
from .._errors import CollabError
from ._base import Poller, View, fragment_html, message_html, report_html

if TYPE_CHECKING:
    from ..lake import Lake, Request


def budget_after(lake: Lake, request: Request) -> str:
    """What approving ``request`` leaves of the scientist's epsilon budget on its table."""
    dp = getattr(request.plan, "dp", None)
    if dp is None:
        return "unchanged (the plan does not use differential privacy)"
    epsilon = float(dp.epsilon)
    frame = lake.budget(request.scientist)
    row = frame[frame["table"] == request.table]
    if row.empty:
        return f"spends epsilon {epsilon:g}"
    spent = float(row["epsilon spent"].iloc[0])
    limit = row["epsilon limit"].iloc[0]
    if limit is None or limit != limit:
        return f"epsilon {spent + epsilon:g} spent in all; the policy sets no limit"
    left = float(limit) - spent - epsilon
    if left < 0:
        return (
            f"over the limit: {max(float(limit) - spent, 0):g} of {float(limit):g} left, "
            f"the plan asks for {epsilon:g} (approving will fail)"
        )
    return f"epsilon {left:g} of {float(limit):g} left"


class RequestCard(widgets.VBox):
    """One request: its summary, and for a pending one, approve / deny with a reason."""

    def __init__(self, lake: Lake, request: Request, on_decided: Any = None) -> None:
        self.lake = lake
        self.request = request
        self._on_decided = on_decided or (lambda: None)
        self.summary = widgets.HTML(report_html(self.report()))
        self.approve_button = widgets.Button(
            description="Approve", button_style="success", icon="check"
        )
        self.reason = widgets.Text(
            placeholder="reason for denying (the scientist sees it)",
            layout=widgets.Layout(width="360px"),
        )
        self.deny_button = widgets.Button(description="Deny", button_style="danger", icon="times")
        self.message = widgets.HTML()
        self.approve_button.on_click(lambda _: self.approve())
        self.deny_button.on_click(lambda _: self.deny())
        children: list[widgets.Widget] = [self.summary]
        if request.status == "pending":
            children.append(widgets.HBox([self.approve_button, self.reason, self.deny_button]))
        children.append(self.message)
        super().__init__(
            children=children,
            layout=widgets.Layout(
                border="1px solid var(--jp-border-color2, #ddd)", padding="4px", margin="4px 0"
            ),
        )
        self.add_class("collab-request-card")

    def report(self) -> Report:
        pending = self.request.status == "pending"
        budget = budget_after(self.lake, self.request) if pending else ""
        return _display.request_report(self.request.summary(), budget)

    def approve(self) -> None:
        """What the Approve button does."""
        try:
            self.request.approve()
        except CollabError as exc:
            self._not_decided(f"Not approved: {exc}")
            return
        self._decided("approved")

    def deny(self) -> None:
        """What the Deny button does: needs a reason, which the scientist will read."""
        reason = self.reason.value.strip()
        if not reason:
            self.message.value = message_html(
                "Give a reason before denying: the scientist sees it.", "error"
            )
            return
        try:
            self.request.deny(reason)
        except CollabError as exc:
            self._not_decided(f"Not denied: {exc}")
            return
        self._decided("denied")

    def _not_decided(self, message: str) -> None:
        """An attempt that failed; if the request is decided after all (the lake refused it,
        or it was decided elsewhere), its buttons go, as that decision is final."""
        if self.request.status != "pending":
            self.approve_button.disabled = self.deny_button.disabled = True
            self.reason.disabled = True
            self.summary.value = report_html(self.report())
            self._on_decided()
        self.message.value = message_html(message, "error")

    def _decided(self, what: str) -> None:
        self.approve_button.disabled = self.deny_button.disabled = self.reason.disabled = True
        self.summary.value = report_html(self.report())
        self.message.value = message_html(f"Request {self.request.id[:8]} {what}.", "ok")
        self._on_decided()


class ApprovalQueue(View):
    """Requests to one lake, newest first, pending ones with Approve and Deny buttons.

    Parameters
    ----------
    lake
        The owner's :class:`collab.Lake`.
    poll
        Seconds between looks for new requests in the background; ``None`` only refreshes
        when asked (the Refresh button or :meth:`refresh`).
    """

    css_class = "collab-approval-queue"

    def __init__(self, lake: Lake, *, poll: float | None = 2.0) -> None:
        self.lake = lake
        self.header = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.list = widgets.VBox()
        self.cards: list[RequestCard] = []
        self._seen: tuple[tuple[str, str], ...] = ()
        super().__init__([widgets.HBox([self.header, self.refresh_button]), self.list])
        self.refresh()
        self._poller = Poller(self._poll, poll, f"collab-queue-{lake.name}") if poll else None

    @property
    def requests(self) -> list[Request]:
        return [card.request for card in self.cards]

    @property
    def pending(self) -> list[RequestCard]:
        return [card for card in self.cards if card.request.status == "pending"]

    def refresh(self) -> None:
        """Read the lake's requests again and redraw the cards."""
        requests = self.lake.all_requests()
        self._seen = tuple((r.id, r.status) for r in requests)
        self.cards = [RequestCard(self.lake, r, self._update_header) for r in requests]
        self.list.children = self.cards
        self._update_header()

    def _update_header(self) -> None:
        pending = sum(1 for card in self.cards if card.request.status == "pending")
        self.header.value = fragment_html(
            f'<div class="collab-header"><span class="collab-kind">Requests to</span> '
            f'<span class="collab-title">{_display.esc(self.lake.name)}</span> '
            f'<span class="collab-badge collab-{"waiting" if pending else "ok"}">'
            f"{pending} pending</span></div>"
        )

    def _poll(self) -> bool:
        if self.lake._stop.is_set():
            return False
        seen = tuple((r.id, r.status) for r in self.lake.all_requests())
        if seen != self._seen:
            self.refresh()
        return True

    def close(self) -> None:
        if self._poller is not None:
            self._poller.stop()
        super().close()

    def snapshot(self) -> Report:
        sections = []
        for card in self.cards:
            report = card.report()
            status = report.status[0] if isinstance(report.status, tuple) else report.status
            rows = (("status", (status, status)), *report.sections[0].rows)
            sections.append(Section(f"Request {report.title}", rows))
        pending = len(self.pending)
        return Report(
            "Requests to",
            self.lake.name,
            (f"{pending} pending", "waiting" if pending else "ok"),
            f"{len(self.cards)} request{'s' if len(self.cards) != 1 else ''}",
            None,
            tuple(sections),
        )
