"""What every collab widget shares: its CSS, messages, a snapshot for viewers without widgets,
and a background poller that follows a model object without blocking the kernel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .. import _display
from .._display import Report


def message_html(message: str, kind: str = "info") -> str:
    """A short message (``info``, ``ok`` or ``error``) with the collab stylesheet."""
    if not message:
        return ""
    kind = kind if kind in ("info", "ok", "error") else "info"
    return (
        f'{_display.style()}<div class="collab-repr collab-widget">'
        f'<div class="collab-message collab-{kind}">{_display.esc(message)}</div></div>'
    )


def report_html(report: Report) -> str:
    """A report inside a widget: live frontends always have the stylesheet, so no fallback."""
    return _display.html(report, fallback=False)


def fragment_html(body: str) -> str:
    """Already escaped HTML ``body`` with the stylesheet, inside the collab wrapper."""
    return f'{_display.style()}<div class="collab-repr collab-widget">{body}</div>'


class View(widgets.VBox):
    """Base of the collab widgets: a box of standard ipywidgets over one model object.

    Views hold no logic: they read the model object's state and call its methods. In
    viewers without a live kernel (GitHub, nbviewer) a widget shows :meth:`snapshot`, the
    state it had when it was displayed.
    """

    css_class = "collab-widget"

    def __init__(self, children: list[widgets.Widget], **kwargs: Any) -> None:
        super().__init__(children=children, **kwargs)
        self.add_class("collab-widget")
        self.add_class(self.css_class)

    def snapshot(self) -> Report:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return _display.text(self.snapshot())

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs)
        report = self.snapshot()
        data["text/plain"] = _display.text(report)
        data["text/html"] = _display.html(report)
        return data

    def _ipython_display_(self) -> None:
        """Display with a display id, so :meth:`_update_display` can replace the stored
        fallback (what a viewer without a kernel shows) with a later state."""
        from IPython.display import display

        self._display_handle = display(self._repr_mimebundle_(), raw=True, display_id=True)

    def _update_display(self) -> None:
        """Replace what was displayed by the state now (a live widget view is unchanged; its
        text and HTML fallbacks, stored in the notebook, show this state)."""
        handle = getattr(self, "_display_handle", None)
        if handle is not None:
            handle.update(self._repr_mimebundle_(), raw=True)


class Poller:
    """Calls ``step`` every ``interval`` seconds in a daemon thread until it returns ``False``
    or :meth:`stop` is called; the kernel stays free meanwhile."""

    def __init__(self, step: Callable[[], bool], interval: float, name: str) -> None:
        self._step = step
        self._interval = interval
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._step():
                    return
            except BaseException as exc:  # shown by the view; never kill the kernel
                self.error = exc
                return
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the poller to end; whether it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
