"""A job's state on a lake: what a family keeps per block of rows between the job's rounds.

A family that reuses work from round to round (:attr:`collab.plans.LakeStep.keeps_job_state`:
boosted trees keep each row's bin codes, running score and node) receives, with each block of
rows, a dict of named arrays that it reads and updates. The dict of every block is kept beside
the block's kept rows (``_rows``), as ``.npy`` files in shared memory under
``<root>/<token>/job-<job>/<pid>.<block>/``, so any thread or Spark Python worker finds it;
its bytes count in the same budget as the rows, and it goes with them (a table dropped from
the budget, the process gone).

The state is only ever a cache: a family rebuilds whatever is missing or stale from the block's
rows and the round's request, to the same values, so a lake that restarted, or whose state was
dropped, gives the very answer it would have given. Where rows are not kept (a Spark cluster,
a table over the budget) a block's state is built afresh in every round and not kept.

It is dropped when the job ends (its last round, its evaluation) or is denied; nothing of it
leaves the lake.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _rows

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def job_folder(job: str) -> str:
    """The folder name of ``job``'s state under a table's kept rows."""
    return f"job-{job}"


@dataclass(frozen=True)
class StateWhere:
    """Where a job's per-block state lives, as shipped to tasks (plain data)."""

    root: str
    token: str
    job: str

    @property
    def folder(self) -> str:
        return os.path.join(self.root, self.token, job_folder(self.job))

    def block(self, pid: int, block: int) -> str:
        return os.path.join(self.folder, f"{pid}.{block}")


def load_state(where: StateWhere | None, pid: int, block: int) -> dict[str, np.ndarray]:
    """A block's kept state (read-only arrays mapped from shared memory); empty when none."""
    if where is None:
        return {}
    folder = where.block(pid, block)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}
    state: dict[str, np.ndarray] = {}
    for name in names:
        if not name.endswith(".npy"):
            continue
        array = _rows._load(os.path.join(folder, name))
        if array is None:  # half gone: the family rebuilds from nothing
            return {}
        state[name[: -len(".npy")]] = array
    return state


def save_state(
    where: StateWhere | None, pid: int, block: int, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Keep what the family changed in a block's state (entries replaced, added or removed)."""
    if where is None:
        return
    folder = where.block(pid, block)
    for name in before.keys() - after.keys():
        path = os.path.join(folder, f"{name}.npy")
        try:
            os.remove(path)
        except OSError:
            pass
        _rows._forget(path)
    for name, array in after.items():
        if before.get(name) is array:
            continue
        if not _NAME.match(name) or not isinstance(array, np.ndarray):
            raise TypeError(f"job state entry {name!r} must be a named numpy array")
        if not (array.flags.c_contiguous or array.flags.f_contiguous):
            array = np.ascontiguousarray(array)
        # kept in its own order: a family reading columns keeps them column by column
        written = _rows._save(os.path.join(folder, f"{name}.npy"), array)
        if not written and array.nbytes:  # an empty array writes no bytes, and is kept
            shutil.rmtree(folder, ignore_errors=True)  # no room: rebuilt next round
            _rows._forget(folder)
            return


def state_bytes(where: StateWhere) -> int:
    """The bytes a job's state of one table holds in shared memory."""
    total = 0
    for dirpath, _, files in os.walk(where.folder):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total


def drop_job_state(job: str) -> None:
    """Remove every block's state of ``job`` in this process's kept rows (the job ended or
    was denied)."""
    _rows.row_cache().drop_job(job)
