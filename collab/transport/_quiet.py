"""Quieting PySyft, and one place where its calls become collab's errors.

PySyft prints banners and progress bars, displays widgets in a notebook and logs freely:
:func:`quiet` hides what one thread's PySyft calls print or display, :func:`call` runs one
PySyft call quietly and translates its generic failures into a :class:`LakeError`.
(Sending the libraries' own output to a file is :func:`collab.quiet_library_logs`.)
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .._errors import CollabError, LakeError

T = TypeVar("T")

_thread = threading.local()


def load_syft() -> Any:
    """The ``syft`` module, its own loggers turned down to critical errors."""
    import syft

    for name in ("syft", "syft.server", "syft.server.server", "uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return syft


class _ThreadQuietStream:
    """Passes writes through, except from a thread inside :func:`quiet`."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        if getattr(_thread, "quiet", False):
            return len(text)
        return self._target.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def _quiet_notebook_displays() -> None:
    """In a notebook, drop what PySyft displays (``IPython.display.display``) from a thread
    inside :func:`quiet`, as its prints are dropped."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    publisher = getattr(shell, "display_pub", None)
    if publisher is None or getattr(publisher, "_collab_quiet", False):
        return
    publish = publisher.publish

    def quiet_publish(*args: Any, **kwargs: Any) -> Any:
        if getattr(_thread, "quiet", False):
            return None
        return publish(*args, **kwargs)

    publisher.publish = quiet_publish
    publisher._collab_quiet = True


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Hide PySyft's banners, progress bars and notebook displays made by this thread (other
    threads' output, such as a job's progress, still shows)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _ThreadQuietStream):
            setattr(sys, name, _ThreadQuietStream(stream))
    _quiet_notebook_displays()
    previous = getattr(_thread, "quiet", False)
    _thread.quiet = True
    try:
        yield
    finally:
        _thread.quiet = previous


def call(
    lake: str,
    what: str,
    fn: Callable[[], T],
    *,
    quiet_output: bool = True,
    lock: contextlib.AbstractContextManager[Any] | None = None,
) -> T:
    """``fn()``, a call into PySyft on lake ``lake``'s behalf, holding ``lock`` if given and
    (with ``quiet_output``) inside :func:`quiet`. A collab error passes through; any other
    failure, or a ``SyftError`` answer, becomes a :class:`LakeError` saying ``what`` failed."""
    hold = lock if lock is not None else contextlib.nullcontext()
    hush = quiet() if quiet_output else contextlib.nullcontext()
    try:
        with hold, hush:
            result = fn()
    except CollabError:
        raise
    except Exception as exc:
        raise LakeError(lake, f"{what} failed: {exc}") from exc
    sy = load_syft()
    if isinstance(result, sy.SyftError):
        raise LakeError(lake, f"{what} failed: {result.message}")
    return result
