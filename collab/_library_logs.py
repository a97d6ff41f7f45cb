"""Where PySyft's and Spark's own output goes: a file, so a terminal or a notebook shows only
collab's own lines (progress, results, refusals)."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any, TextIO

DEFAULT_PATH = Path(tempfile.gettempdir()) / "collab-library.log"
_COLLAB_DIR = str(Path(__file__).resolve().parent)
_LIBRARY_DIRS = ("site-packages", "dist-packages")
_lock = threading.Lock()


class _Diverted:
    """What :func:`quiet_library_logs` changed in this process, so a second call only moves
    the file."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.log: TextIO | None = None
        self.handler: logging.Handler | None = None
        self.fds: tuple[int, ...] = ()
        self.show_warning: Any = None


_state = _Diverted()


def _writes_to(stream: Any, fd: int) -> bool:
    """Whether Python's ``stream`` writes to file descriptor ``fd`` itself (a script's
    ``sys.stderr``) rather than somewhere else (a Jupyter kernel's streams go to the
    notebook over ZeroMQ)."""
    try:
        return stream.fileno() == fd
    except (AttributeError, OSError, ValueError):
        return False


def _from_a_library(filename: str) -> bool:
    path = str(Path(filename).resolve()) if filename else ""
    if path.startswith(_COLLAB_DIR):
        return False
    return any(f"{os.sep}{folder}{os.sep}" in path for folder in _LIBRARY_DIRS)


def quiet_library_logs(path: str | Path | None = None) -> Path:
    """Send PySyft's and Spark's own logs and notices to a file and return its path.

    After the call, what PySyft logs (its signing-key notice, server warnings), what the Spark
    JVM prints (``Setting default log level``, ``WARN NativeCodeLoader`` ...) and the Python
    warnings raised inside installed libraries go to ``path`` (default: ``collab-library.log``
    in the temporary folder), while collab's own output (progress bars, dashboards, results,
    refusals) still shows in the terminal or the notebook. Use it instead of ``%%capture``,
    which hides collab's progress as well::

        collab.quiet_library_logs()

    Call it before the first lake starts (the JVM keeps the output it was started with). It
    works in a script (the terminal keeps collab's lines) and in a Jupyter kernel (the JVM's
    output, which the kernel would copy into the cell, goes to the file). Calling it again
    returns the same path; a different ``path`` moves the output there.
    """
    target = Path(path) if path is not None else DEFAULT_PATH
    with _lock:
        if _state.path is not None and target.resolve() == _state.path.resolve():
            return _state.path
        target.parent.mkdir(parents=True, exist_ok=True)
        log = open(target, "w", buffering=1, encoding="utf-8")  # open while the process runs
        sys.stdout.flush()
        sys.stderr.flush()
        if _state.log is None:
            _state.fds = _divert_descriptors(log)
        else:
            for fd in _state.fds:
                os.dup2(log.fileno(), fd)
        _log_to(log)
        _warn_to(log)
        if _state.log is not None:
            _state.log.close()
        _state.path, _state.log = target, log
        return target


def _divert_descriptors(log: TextIO) -> tuple[int, ...]:
    """Point descriptor 2 (and 1 where Python's stdout does not use it) at ``log``.

    The JVM writes to the descriptors it inherits when Spark starts. In a script, Python's
    ``sys.stderr`` writes to descriptor 2 as well, so it keeps a copy of the terminal for
    collab's progress and errors; in a Jupyter kernel Python's streams do not use the
    descriptors (the kernel forwards them to the notebook), so both go to the file.
    """
    fds = []
    for fd, name in ((2, "stderr"), (1, "stdout")):
        stream = getattr(sys, name)
        if _writes_to(stream, fd):
            if fd == 1:
                continue  # a script's print() output stays where it was
            keep = os.dup(fd)
            setattr(
                sys, name, os.fdopen(keep, "w", buffering=1, encoding="utf-8", errors="replace")
            )
        os.dup2(log.fileno(), fd)
        fds.append(fd)
    return tuple(fds)


def _log_to(log: TextIO) -> None:
    """Log records (PySyft's, uvicorn's, py4j's) go to ``log`` rather than the terminal."""
    root = logging.getLogger()
    if _state.handler is not None:
        root.removeHandler(_state.handler)
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for existing in list(root.handlers):  # a default handler writing to the screen
        if isinstance(existing, logging.StreamHandler) and getattr(existing, "stream", None) in (
            sys.stderr,
            sys.__stderr__,
            sys.stdout,
            sys.__stdout__,
        ):
            root.removeHandler(existing)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    _state.handler = handler


def _warn_to(log: TextIO) -> None:
    """Python warnings raised inside installed libraries go to ``log``; collab's own and the
    user's still show."""
    if _state.show_warning is None:
        _state.show_warning = warnings.showwarning
    show = _state.show_warning

    def show_warning(
        message: Any,
        category: Any,
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        if file is None and _from_a_library(filename):
            file = _state.log
        show(message, category, filename, lineno, file, line)

    warnings.showwarning = show_warning
