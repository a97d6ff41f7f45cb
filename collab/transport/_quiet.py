"""Quieting PySyft, and one place where its calls become collab's errors.

PySyft prints banners and progress bars, displays widgets in a notebook and logs freely:
:func:`quiet` hides what one thread's PySyft calls print or display, :func:`call` runs one
PySyft call quietly and translates its generic failures into a :class:`LakeError`, and
:func:`divert_library_output` sends PySyft's and Spark's own output to a file when collab runs
from the command line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
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


def divert_library_output(path: Path) -> Path:
    """Write PySyft's log records and everything the Spark JVM prints to ``path``, so the
    terminal shows only collab's own lines.

    The JVM writes to this process's file descriptor 2 (which it inherits when Spark starts),
    so descriptor 2 is pointed at the file, and ``sys.stderr`` keeps a copy of the terminal for
    collab's progress and errors. Call it before the first lake starts.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    log = open(path, "w", buffering=1, encoding="utf-8")  # open while the process runs
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.dup(2)
    os.dup2(log.fileno(), 2)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="replace")
    logging.basicConfig(
        handlers=[logging.StreamHandler(log)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.WARNING,
        force=True,
    )
    return path
