"""Where PySyft's and Spark's own output goes when collab runs from the command line."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


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
