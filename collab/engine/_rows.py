"""Each partition's rows kept as numpy arrays between rounds, where every Python worker finds them.

Moving a partition's rows from the JVM into Python costs about 25 numpy passes over them, so
the first pass over a table (normally the statistics phase) also writes each partition's
labelled rows as ``.npy`` files into a private directory in shared memory (``/dev/shm``),
from whichever Spark Python worker ran the partition. Later passes map those files instead of
receiving the rows again; which worker wrote a file, or a worker being recycled, does not
matter. A block whose file is gone is read from the table again.

Files live under ``<root>/<token>/`` where the token changes whenever the table is cached
anew, so stale rows are never read. The driver keeps the total under a byte budget (least
recently used tables are dropped first) and removes everything when the process exits.
Standardised copies of the rows (``z-<key>/``) are kept for the latest two standardisations of
each table, since a job's standardisation is fixed for all its rounds.

The arithmetic runs on *blocks*: a partition's rows cut into consecutive slices of at most
:data:`BLOCK_ROWS` rows (:func:`blocks_of`, a function of the partition's size only), so that a
large partition still keeps every core busy and a step's result does not depend on which path
(kept or streamed) served it.

Only functions and plain data in this module are shipped to the workers.
"""

from __future__ import annotations

import atexit
import errno
import mmap
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._scratch import remove_scratch, scratch_folder

# --- worker side ------------------------------------------------------------------------------


def settle_worker() -> None:
    """Make a Python worker's per-task overhead small (cheap and idempotent; every task calls it).

    Two costs dominate a short Spark task here, and neither is the task's own work:

    - Before each task Spark's worker calls ``importlib.invalidate_caches()``, which on Python
      3.11 re-reads the whole directory of every zip archive on the import path (Spark puts its
      zipped ``pyspark`` and ``py4j`` there): about 80 ms a task. An archive's directory is now
      re-read only when the archive changed on disk.
    - The JVM writes a task's input to the worker's socket in several small writes; with the
      worker's kernel delaying its acknowledgements (up to 40 ms on Linux), each round trip
      stalls. The worker's socket is asked to acknowledge at once (``TCP_QUICKACK``, which
      Linux resets by itself, hence every task).
    """
    _reread_changed_archives_only()
    _ack_promptly()


def _reread_changed_archives_only() -> None:
    import zipimport

    if getattr(zipimport.zipimporter, "_collab_settled", False):
        return
    reread = zipimport.zipimporter.invalidate_caches

    def invalidate_caches(self: Any) -> None:
        try:
            stat = os.stat(self.archive)
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp is not None and getattr(self, "_collab_stamp", None) == stamp:
            return
        reread(self)
        self._collab_stamp = stamp

    zipimport.zipimporter.invalidate_caches = invalidate_caches  # type: ignore[method-assign]
    zipimport.zipimporter._collab_settled = True  # type: ignore[attr-defined]


_worker_sockets: list[int] | None = None


def _ack_promptly() -> None:
    global _worker_sockets
    import socket

    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is None or not os.path.isdir("/proc/self/fd"):
        return
    if _worker_sockets is None:
        found = []
        for name in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                    found.append(int(name))
            except OSError:
                continue
        _worker_sockets = found
    for fd in _worker_sockets:
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
                sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:
            pass
        finally:
            sock.close()


@dataclass(frozen=True)
class Where:
    """Where a table's partition files are, as shipped to tasks (plain data)."""

    root: str
    token: str
    z_key: str | None = None

    def path(self, pid: int, part: str, block: int = 0) -> str:
        if part == "Z":
            return os.path.join(self.root, self.token, f"z-{self.z_key}", f"{pid}.{block}.npy")
        return os.path.join(self.root, self.token, f"{pid}.{part}.npy")


BLOCK_ROWS = 1 << 17


def blocks_of(rows: int) -> list[tuple[int, int]]:
    """A partition's blocks: ``(start, stop)`` of consecutive, nearly equal slices."""
    k = max(1, -(-rows // BLOCK_ROWS))
    return [(i * rows // k, (i + 1) * rows // k) for i in range(k)]


def rows_from_batches(batches: Iterator[Any], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Labelled rows of a partition's Arrow batches: features ``X`` (C order) and label ``y``.

    Each batch holds one struct column of ``width`` doubles, the label last
    (``_tables.as_double_struct``). A row whose label is missing is left out here, as the
    plan's arithmetic would leave it out (``collab.plans._steps.labelled``).
    """
    kept = [b for b in batches if b.num_rows]
    n = sum(b.num_rows for b in kept)
    data = np.empty((n, width), dtype=np.float64)
    offset = 0
    for batch in kept:
        m = batch.num_rows
        for j, column in enumerate(batch.column(0).flatten()):
            data[offset : offset + m, j] = column.to_numpy(zero_copy_only=False)
        offset += m
    y = data[:, -1].copy()
    keep = ~np.isnan(y)
    if keep.all():
        return np.ascontiguousarray(data[:, :-1]), y
    return np.ascontiguousarray(data[keep, :-1]), y[keep]


# Why a file may not be written, none of them a fault: out of space, or its folder removed
# meanwhile (a table or a job's state dropped while a step still wrote to it). A folder
# removed between ``makedirs``' ``mkdir`` and its check that the folder exists shows as
# EEXIST; a file where the folder should be, as ENOTDIR (or EEXIST from ``makedirs``).
_NOT_KEPT = (errno.ENOSPC, errno.EDQUOT, errno.ENOENT, errno.EEXIST, errno.ENOTDIR)


def _save(path: str, array: np.ndarray) -> int:
    """Write ``array`` to ``path`` atomically (as ``np.save`` writes it); the bytes written
    (0 when it could not)."""
    folder = os.path.dirname(path)
    _forget(path)  # the file it replaces is freed once its last reader lets go
    tmp = None
    try:
        try:  # the folder is there already in all but a block's first write
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        except FileNotFoundError:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.lib.format.write_array(fh, array, allow_pickle=False)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:  # a part written before space ran out
            try:
                os.remove(tmp)
            except OSError:
                pass
        if exc.errno not in _NOT_KEPT:
            raise
        return 0
    return int(array.nbytes)


# Files this process has mapped, by path: the file's identity when mapped (inode, change time,
# size) and the read-only array. A block's rows and job state are read every round; a file
# is written only by replacing it (``_save``: a new inode), so a path whose identity is
# unchanged maps the very bytes already mapped, and ``np.load`` (open, header parse, mmap)
# runs once per file rather than once per round. A mapping holds its file's pages in shared
# memory even once the file is replaced or removed: every removal of kept files in this
# process forgets the mappings under it (``_forget``), and so does a forked child.
_mapped: dict[str, tuple[tuple[int, int, int], np.ndarray]] = {}
_mapped_lock = threading.Lock()


def _load(path: str) -> np.ndarray | None:
    """The array kept at ``path``, read-only and mapped from shared memory; ``None`` when
    the file is gone or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        _forget(path)
        return None
    try:
        st = os.fstat(fd)
        identity = (st.st_ino, st.st_ctime_ns, st.st_size)
        with _mapped_lock:
            hit = _mapped.get(path)
        if hit is not None and hit[0] == identity:
            return hit[1]
        array = _mapping(fd)
    except (OSError, ValueError):
        _forget(path)
        return None
    finally:
        os.close(fd)
    with _mapped_lock:
        _mapped[path] = (identity, array)
    return array


def _mapping(fd: int) -> np.ndarray:
    """The ``.npy`` file open at ``fd`` as a read-only array over a mapping of it (what
    ``np.load(mmap_mode="r")`` gives, without its ``memmap`` and its second open of the
    file: a state's file is mapped afresh every round it changes)."""
    fmt = np.lib.format
    with os.fdopen(os.dup(fd), "rb") as fh:
        version = fmt.read_magic(fh)
        header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = header(fh)
        offset = fh.tell()
    if dtype.hasobject:
        raise ValueError("a kept array holds numbers only")
    count = int(np.prod(shape, dtype=np.int64))
    if count == 0:
        empty = np.zeros(shape, dtype=dtype, order="F" if fortran else "C")
        empty.flags.writeable = False
        return empty
    mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    if offset + count * dtype.itemsize > len(mapped):
        raise ValueError("a kept array's file is cut short")
    return np.ndarray(shape, dtype, buffer=mapped, offset=offset, order="F" if fortran else "C")


def _forget(path: str) -> None:
    """Drop this process's mappings of ``path`` and of every file under it."""
    prefix = path.rstrip(os.sep) + os.sep
    with _mapped_lock:
        for name in [n for n in _mapped if n == path or n.startswith(prefix)]:
            del _mapped[name]


def save_rows(where: Where, pid: int, X: np.ndarray, y: np.ndarray) -> int:
    """Keep a partition's rows; ``y`` goes last so that a present ``y`` means complete rows."""
    written = _save(where.path(pid, "X"), X)
    return written + _save(where.path(pid, "y"), y) if written or not X.size else 0


def load_rows(where: Where, pid: int) -> tuple[np.ndarray, np.ndarray] | None:
    y = _load(where.path(pid, "y"))
    X = _load(where.path(pid, "X")) if y is not None else None
    if X is None or y is None or X.shape[0] != y.shape[0]:
        return None
    return X, y


def standardised(
    where: Where, pid: int, block: int, X: np.ndarray, standardizer: Any, write: bool
) -> tuple[np.ndarray, int]:
    """A block's ``standardizer.transform(X)`` from its file, or computed (and kept when
    ``write``); with the bytes written."""
    if where.z_key is not None:
        Z = _load(where.path(pid, "Z", block))
        if Z is not None and Z.shape[0] == X.shape[0]:
            return Z, 0
    Z = standardizer.transform(X)
    written = _save(where.path(pid, "Z", block), Z) if write and where.z_key is not None else 0
    return Z, written


class Prepared:
    """Stands in for the job's ``Standardizer`` when the rows were standardised already.

    The transform is ``Standardizer.transform``, run once per partition and job; the plan's
    arithmetic then receives the standardised rows unchanged.
    """

    def transform(self, X: np.ndarray) -> np.ndarray:
        return X


def standardizer_key(standardizer: Any) -> str:
    from ..plans._stats import preprocessing_key

    return preprocessing_key(standardizer)


# --- driver side ------------------------------------------------------------------------------


@dataclass
class TableRows:
    """The driver's record of one cached table's partition files."""

    token: str
    partitions: tuple[tuple[int, int], ...] = ()  # (pid, labelled rows)
    raw_bytes: int = 0
    z_bytes: OrderedDict[str, int] = field(default_factory=OrderedDict)
    job_bytes: dict[str, int] = field(default_factory=dict)  # jobs' state (``_job_state``)
    filled: bool = False
    too_big: bool = False

    @property
    def nbytes(self) -> int:
        return self.raw_bytes + sum(self.z_bytes.values()) + sum(self.job_bytes.values())


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not Linux
        return 8 << 30


class RowCache:
    """All partition files of this process's tables, within ``max_bytes``."""

    Z_SETS_PER_TABLE = 2

    def __init__(
        self, max_bytes: int | None = None, root: str | None = None, keep_job_state: bool = True
    ) -> None:
        self.max_bytes = _physical_memory() // 4 if max_bytes is None else int(max_bytes)
        self.keep_job_state = keep_job_state  # else a job's state is rebuilt every round
        self._root = root
        self._owner = os.getpid()  # a forked child must never remove its parent's files
        self._lock = threading.RLock()
        self._tables: OrderedDict[str, TableRows] = OrderedDict()
        self._ended_jobs: set[tuple[str | None, str]] = set()  # (token or every table, job)
        self._job_used: dict[tuple[str, str], float] = {}

    @property
    def root(self) -> str:
        with self._lock:
            if self._root is None:
                shm = "/dev/shm"
                base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
                # the owner's pid in the name: a process killed without its exit handlers
                # leaves its folder, and the next process to keep rows removes it
                self._root = str(scratch_folder("rows", base=base))
                self._owner = os.getpid()
            return self._root

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def table(self, token: str) -> TableRows:
        with self._lock:
            entry = self._tables.get(token)
            if entry is None:
                entry = self._tables[token] = TableRows(token)
            self._tables.move_to_end(token)
            return entry

    def where(self, token: str, z_key: str | None = None) -> Where:
        return Where(self.root, token, z_key)

    def use_z(self, token: str, z_key: str) -> None:
        """Make ``z_key`` the table's current standardisation, dropping the oldest beyond two."""
        with self._lock:
            entry = self.table(token)
            if z_key in entry.z_bytes:
                entry.z_bytes.move_to_end(z_key)
                return
            entry.z_bytes[z_key] = 0
            while len(entry.z_bytes) > self.Z_SETS_PER_TABLE:
                old, _ = entry.z_bytes.popitem(last=False)
                self._remove(os.path.join(self.root, token, f"z-{old}"))

    def filled(self, token: str, partitions: tuple[tuple[int, int], ...], raw_bytes: int) -> None:
        with self._lock:
            entry = self.table(token)
            entry.partitions = tuple(sorted(partitions))
            entry.raw_bytes = raw_bytes
            entry.filled = True
            self._fit(token)

    def add_z(self, token: str, z_key: str, nbytes: int) -> None:
        with self._lock:
            entry = self._tables.get(token)
            if entry is None or z_key not in entry.z_bytes:
                # written for a table or standardisation dropped meanwhile
                self._remove(os.path.join(self.root, token, f"z-{z_key}"))
                return
            entry.z_bytes[z_key] += nbytes
            self._fit(token)

    JOB_STATE_IDLE_SECONDS = 900.0  # a job's state unused this long is dropped (a job that
    # failed elsewhere sends this lake no end; its state is only ever a cache)

    def job_state(self, token: str, job: str, nbytes: int) -> None:
        """Count ``nbytes`` of ``job``'s state beside the table's rows (within the budget);
        remove it if the job ended meanwhile, and drop other jobs' states left idle."""
        with self._lock:
            entry = self._tables.get(token)
            ended = {(None, job), (token, job)} & self._ended_jobs
            if entry is None or not entry.filled or ended:
                self._remove(os.path.join(self.root, token, f"job-{job}"))
                return
            entry.job_bytes[job] = nbytes
            now = time.monotonic()
            self._job_used[(token, job)] = now
            for (t, j), used in list(self._job_used.items()):
                if now - used > self.JOB_STATE_IDLE_SECONDS:
                    self._drop_job_state(t, j)
            self._fit(token)

    def drop_job(self, job: str, token: str | None = None) -> None:
        """Remove ``job``'s state beside the rows of table ``token``, or of every table (the
        job ended: a step still running for it removes what it wrote).

        A lake drops the state of its own table: lakes of one process (a demo) run the same
        job on their own tables, and one lake's last round must not remove the state another
        lake is still computing that round with."""
        with self._lock:
            self._ended_jobs.add((token, job))
            for t in list(self._tables) if token is None else [token]:
                self._drop_job_state(t, job)

    def _drop_job_state(self, token: str, job: str) -> None:
        self._job_used.pop((token, job), None)
        entry = self._tables.get(token)
        if entry is not None:
            entry.job_bytes.pop(job, None)
        if self._root is not None and os.getpid() == self._owner:
            self._remove(os.path.join(self._root, token, f"job-{job}"))

    def missed(self, token: str) -> None:
        """Some files were gone: the next pass refills them."""
        with self._lock:
            entry = self._tables.get(token)
            if entry is not None:
                entry.filled = False

    def _fit(self, current: str) -> None:
        total = sum(e.nbytes for e in self._tables.values())
        for token in [t for t in self._tables if t != current]:
            if total <= self.max_bytes:
                break
            total -= self._tables[token].nbytes
            self.drop(token)
        entry = self._tables.get(current)
        if entry is not None and total > self.max_bytes:
            self._remove(os.path.join(self.root, current))
            entry.raw_bytes, entry.z_bytes, entry.filled = 0, OrderedDict(), False
            entry.job_bytes = {}
            entry.too_big = True

    def drop(self, token: str) -> None:
        with self._lock:
            self._tables.pop(token, None)
            if self._root is not None and os.getpid() == self._owner:
                self._remove(os.path.join(self._root, token))

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()
            if self._root is not None and os.getpid() == self._owner:
                remove_scratch(Path(self._root))
                _forget(self._root)
            self._root = None

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._tables.values())

    @staticmethod
    def _remove(path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)
        _forget(path)


ROW_CACHE_CONF = "spark.collab.rowCacheBytes"
JOB_STATE_CONF = "spark.collab.keepJobState"
_row_cache: RowCache | None = None
_row_cache_lock = threading.Lock()


def row_cache() -> RowCache:
    """This process's kept rows; the budget is Spark setting ``spark.collab.rowCacheBytes``
    (a quarter of the machine's memory by default; ``0`` turns keeping rows off), and
    ``spark.collab.keepJobState=false`` keeps no job's state, beside them or in Spark's cache
    (``_job_state``)."""
    global _row_cache
    from ._spark import active_settings

    with _row_cache_lock:
        if _row_cache is None:
            settings = active_settings() or {}
            conf = settings.get("conf") or {}
            value = conf.get(ROW_CACHE_CONF)
            keep = str(conf.get(JOB_STATE_CONF, "true")).lower() != "false"
            _row_cache = RowCache(None if value is None else int(value), keep_job_state=keep)
            atexit.register(_row_cache.clear)
        return _row_cache


def _forget_after_fork() -> None:
    # the parent's kept rows belong to the parent's Spark workers
    global _row_cache, _row_cache_lock, _mapped_lock
    _row_cache = None
    _row_cache_lock = threading.Lock()
    _mapped_lock = threading.Lock()
    _mapped.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
