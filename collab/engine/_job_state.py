"""A job's state on a lake: what a family keeps per block of rows between the job's rounds.

A family that reuses work from round to round (:attr:`collab.plans.LakeStep.keeps_job_state`:
boosted trees keep each row's bin codes, running score and node) receives, with each block of
rows, a dict of named arrays that it reads and updates. It is kept in one of two places:

- Beside the block's kept rows (``_rows``), as ``.npy`` files in shared memory under
  ``<root>/<token>/job-<job>/<pid>.<block>/``, so any thread or Spark Python worker finds it;
  its bytes count in the same budget as the rows, and it goes with them (a table dropped from
  the budget, the process gone).
- Where rows are not kept (a Spark cluster, a table over the budget,
  ``spark.collab.rowCacheBytes=0``): in Spark's cache, as a DataFrame of one row per block
  holding the block's labels and state (:func:`pack`), persisted in the executors' memory
  (spilled to their disks, a local checkpoint: :func:`cached`) for the life of the job
  (:class:`SparkStates`). A round's step is
  then one Spark job over that DataFrame alone: it hands each block's state to the family and
  writes the updated state into the next round's DataFrame, which the same job materialises
  (the previous one is unpersisted after). The block's feature rows are not read: a family
  whose state holds what it needs (trees: the bin codes) never asks for them, and one that
  does (a first round, a stale state) makes the round read the table again and start a new
  state DataFrame (:class:`RowsElsewhere`).

The state is only ever a cache: a family rebuilds whatever is missing or stale from the block's
rows and the round's request, to the same values, so a lake that restarted, or whose state was
dropped, gives the very answer it would have given. With ``spark.collab.keepJobState=false``
a block's state is built afresh in every round and kept nowhere.

It is dropped, from both places, when the job ends on the lake (its last round, its
evaluation: beside that lake's table only, as other lakes of the process may still be
computing the round) or is denied; nothing of it leaves the lake. A step still writing a
state removed meanwhile keeps nothing of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Mapping
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
        old = before.get(name)
        if old is array or _unchanged(old, array):
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


_COMPARED = 1 << 16  # bytes: a smaller entry equal to the kept one is not written again


def _unchanged(old: Any, new: Any) -> bool:
    """Whether ``new`` is a small array equal to the kept ``old`` (a digest or a count a
    round sets again to the same value): its file stays as it is."""
    return (
        isinstance(old, np.ndarray)
        and isinstance(new, np.ndarray)
        and new.nbytes <= _COMPARED
        and old.dtype == new.dtype
        and old.shape == new.shape
        and bool(np.array_equal(old, new))
    )


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


def drop_job_state(job: str, token: str | None = None) -> None:
    """Remove every block's state of ``job`` beside the kept rows and in Spark's cache, of
    table ``token`` or of every table of this process (the job ended or was denied)."""
    _rows.row_cache().drop_job(job, token)
    spark_states().drop_job(job, token)


# --- the state in Spark's cache (rows not kept) ---------------------------------------------------

_LABELS = ".y"  # the block's labels, beside the family's entries (never a family's name)


def pack(state: Mapping[str, Any], y: np.ndarray) -> np.ndarray:
    """A block's labels ``y`` and ``state`` as one buffer (a row of the state DataFrame): a
    JSON list of entries (name, dtype, shape, memory order, offset, bytes), then each array's
    bytes at an offset a multiple of 8."""
    layout, arrays, offset = [], [], 0
    for name, array in [(_LABELS, np.asarray(y)), *sorted(state.items())]:
        if name != _LABELS and (not _NAME.match(name) or not isinstance(array, np.ndarray)):
            raise TypeError(f"job state entry {name!r} must be a named numpy array")
        if array.dtype.hasobject:
            raise TypeError(f"job state entry {name!r} must hold numbers, not objects")
        fortran = bool(array.flags.f_contiguous and not array.flags.c_contiguous)
        flat = np.ascontiguousarray(array.T if fortran else array)
        layout.append([name, array.dtype.str, list(array.shape), fortran, offset, flat.nbytes])
        arrays.append(flat)
        offset += -(-flat.nbytes // 8) * 8
    header = json.dumps(layout).encode()
    start = 8 + -(-len(header) // 8) * 8
    out = np.zeros(start + offset, dtype=np.uint8)
    out[:8] = np.frombuffer(np.array([len(header)], dtype="<u8").tobytes(), dtype=np.uint8)
    out[8 : 8 + len(header)] = np.frombuffer(header, dtype=np.uint8)
    for (_, _, _, _, at, nbytes), flat in zip(layout, arrays, strict=True):
        out[start + at : start + at + nbytes] = flat.reshape(-1).view(np.uint8)
    return out


def unpack(buffer: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The state and labels of :func:`pack`'s buffer (views of it, read-only when it is)."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    if data.ctypes.data % 8:  # a value inside an Arrow column: aligned for the views
        data = data.copy()
    size = int(data[:8].copy().view("<u8")[0])
    start = 8 + -(-size // 8) * 8
    state: dict[str, np.ndarray] = {}
    for name, dtype, shape, fortran, at, nbytes in json.loads(bytes(data[8 : 8 + size])):
        flat = data[start + at : start + at + nbytes].view(np.dtype(dtype))
        state[name] = flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)
    return state, state.pop(_LABELS)


class NeedsRows(Exception):
    """A family used a block's feature rows in a round that read only the job's state."""


class RowsElsewhere:
    """Stands in for a block's feature rows in a round that reads only the job's state
    (:class:`SparkStates`): it can be cut to some of its rows (as the handler leaves out
    held-out rows) and counted; any use of its values raises :class:`NeedsRows`, and the
    round reads the table's rows instead."""

    def __init__(self, rows: int) -> None:
        self._count = rows

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> RowsElsewhere:
        if isinstance(index, tuple):
            raise NeedsRows
        try:
            cut = np.empty((self._count, 0))[index]
        except (IndexError, TypeError, ValueError) as exc:
            raise NeedsRows from exc
        if cut.ndim != 2:
            raise NeedsRows
        return RowsElsewhere(cut.shape[0])

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NeedsRows

    def __array_ufunc__(self, *args: Any, **kwargs: Any) -> Any:
        raise NeedsRows

    def __array_function__(self, *args: Any, **kwargs: Any) -> Any:
        raise NeedsRows

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise NeedsRows


class SparkStates:
    """This process's jobs' states in Spark's cache: per job and table (the token of its
    caching), one persisted DataFrame of the table's blocks (``_step._updated``).

    A job's DataFrame is unpersisted when the job ends or is denied (:meth:`drop_job`), when
    its table is dropped from Spark's cache (:meth:`drop_table`), when a newer round's
    replaces it, and when it was not used for ``RowCache.JOB_STATE_IDLE_SECONDS`` (a job that
    failed elsewhere sends this lake no end)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: dict[tuple[str, str], Any] = {}
        self._used: dict[tuple[str, str], float] = {}
        self._ended: set[tuple[str | None, str]] = set()  # (token or every table, job)
        self._rounds: dict[tuple[str, str], list[int]] = {}

    def frame(self, job: str, token: str) -> Any | None:
        """The DataFrame of ``job``'s state over table ``token``, if one is held."""
        with self._lock:
            return self._frames.get((job, token))

    def keep(self, job: str, token: str, frame: Any, from_rows: bool) -> None:
        """Hold ``frame`` (persisted, and materialised by the round that made it, which
        read the table's rows or only the state) as the state of ``job`` over table
        ``token``, unpersisting the one it replaces; unpersist it at once if the job ended
        meanwhile."""
        key, now = (job, token), time.monotonic()
        with self._lock:
            self._rounds.setdefault(key, [0, 0])[0 if from_rows else 1] += 1
            gone = [self._frames.pop(key, None)]
            if {(None, job), (token, job)} & self._ended:
                gone.append(frame)
            else:
                self._frames[key], self._used[key] = frame, now
            idle = _rows.RowCache.JOB_STATE_IDLE_SECONDS
            for old in [k for k, used in self._used.items() if now - used > idle]:
                gone.append(self._pop(old))
        release(gone)

    def forget(self, job: str, token: str) -> None:
        """Unpersist ``job``'s state over table ``token`` (it is rebuilt from the rows)."""
        with self._lock:
            gone = [self._pop((job, token))]
        release(gone)

    def drop_job(self, job: str, token: str | None = None) -> None:
        """Unpersist ``job``'s state over table ``token``, or every table (the job ended, or
        was denied): a round still running for it unpersists what it made (:meth:`keep`)."""
        with self._lock:
            self._ended.add((token, job))
            gone = [
                self._pop(k)
                for k in list(self._frames)
                if k[0] == job and (token is None or k[1] == token)
            ]
        release(gone)

    def drop_table(self, token: str) -> None:
        """Unpersist every job's state over table ``token`` (its caching was dropped)."""
        with self._lock:
            gone = [self._pop(k) for k in list(self._frames) if k[1] == token]
        release(gone)

    def rounds(self, job: str) -> dict[str, tuple[int, int]]:
        """Per table token: how many of ``job``'s rounds made its state from the table's
        rows, and how many from the state alone."""
        with self._lock:
            return {t: (r[0], r[1]) for (j, t), r in self._rounds.items() if j == job}

    def jobs(self) -> list[tuple[str, str]]:
        """The (job, table token) pairs whose state is held."""
        with self._lock:
            return sorted(self._frames)

    def _pop(self, key: tuple[str, str]) -> Any | None:
        self._used.pop(key, None)
        return self._frames.pop(key, None)


def cached(frame: Any) -> Any:
    """``frame`` to be kept in the executors' memory (spilled to their disks) by the first
    action over it, as a local checkpoint: each round's state DataFrame is computed from the
    previous one, and a plain ``persist`` would keep that whole chain of rounds in every
    task's lineage (deserialising a task overflows the stack after some 35 rounds)."""
    from pyspark import StorageLevel

    return frame.localCheckpoint(eager=False, storageLevel=StorageLevel.MEMORY_AND_DISK)


def cached_rdd(frame: Any) -> Any | None:
    """The JVM RDD that holds :func:`cached`'s rows (``None`` where there is no JVM handle,
    as with Spark Connect, whose server releases it with the DataFrame)."""
    try:
        return frame._jdf.queryExecution().logical().rdd()
    except AttributeError:
        return None


def release(frames: list[Any]) -> None:
    """Unpersist the rows of :func:`cached` DataFrames."""
    for frame in frames:
        rdd = None if frame is None else cached_rdd(frame)
        if rdd is None:
            continue
        try:
            rdd.unpersist(False)
        except Exception:  # the session stopped: its cache went with it
            pass


_spark_states = SparkStates()


def spark_states() -> SparkStates:
    """This process's jobs' states held in Spark's cache."""
    return _spark_states


def _forget_after_fork() -> None:
    # a forked child starts its own Spark; the parent's DataFrames are not its to unpersist
    global _spark_states
    _spark_states = SparkStates()


os.register_at_fork(after_in_child=_forget_after_fork)
