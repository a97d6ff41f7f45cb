"""Folders collab makes when the caller names none.

Each is named ``collab-<kind>-<pid>-...`` after the process that made it, and is removed when
its owner closes, or at the latest when that process exits; a folder whose process was killed
is removed by the next process that makes one of its kind. So repeated notebooks, demos and
test runs leave nothing behind in the machine's temporary folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_made: dict[Path, int] = {}  # folder -> the pid that made it


def scratch_folder(kind: str, name: str = "", base: str | None = None) -> Path:
    """A new folder in ``base`` (the temporary folder, ``TMPDIR``, by default), removed by
    :func:`remove_scratch` or when this process exits."""
    base = base or tempfile.gettempdir()
    remove_orphans(base, kind)
    prefix = f"collab-{kind}-{os.getpid()}-{name + '-' if name else ''}"
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base)).resolve()
    _made[folder] = os.getpid()
    return folder


def remove_scratch(folder: Path) -> None:
    """Remove a folder :func:`scratch_folder` made (it may be gone already)."""
    _made.pop(folder, None)
    shutil.rmtree(folder, ignore_errors=True)


def remove_orphans(base: str, kind: str) -> None:
    """Remove the ``kind`` folders in ``base`` of processes that no longer run."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for entry in names:
        parts = entry.split("-")
        if len(parts) < 4 or parts[:2] != ["collab", kind] or not parts[2].isdigit():
            continue
        if not process_runs(int(parts[2])):
            shutil.rmtree(os.path.join(base, entry), ignore_errors=True)


def process_runs(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (killed, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@atexit.register
def _remove_left_scratch() -> None:
    # a forked child that exits normally must not remove its parent's folders
    for folder, owner in list(_made.items()):
        if owner == os.getpid():
            remove_scratch(folder)
