"""One local step of a plan over the table's partitions.

A plan family's arithmetic (its local step, ``collab.plans``) runs vectorised on blocks of
each partition's rows (``_rows.blocks_of``), and only one summed vector per block comes back,
which the driver adds up in a fixed order.

Rows reach Python from the JVM once: the first pass over a table (normally the statistics
phase) is a Spark job that reads each partition's rows as Arrow batches and keeps them as
numpy arrays in shared memory (``_rows``); later passes work on those arrays with one thread
per core of the local Spark master, without a Spark job (``_from_kept``).
A block whose arrays are gone (budget, a restart) is read again in the same call, so a step's
result never depends on what was kept. Where rows cannot be kept (a cluster, or a table larger
than the budget), Spark caches the table and every pass streams it from there; a job's state
(``_job_state``) is then a persisted DataFrame of the table's blocks, and a round of a job that
keeps one is a Spark job over that DataFrame alone (``_with_spark_state``). A stream's kept
rows of plain number columns (local Parquet the lake wrote itself) need no Spark job at all:
pyarrow reads them into the kept arrays as one partition (``_streams.kept_arrays``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._schema import category_text
from ..plans import Standardizer
from . import _job_state, _rows
from ._blas import one_blas_thread
from ._job_state import StateWhere
from ._rows import row_cache
from ._spark import active_settings, spark_session
from ._streams import STREAM, kept_arrays
from ._tables import TABLE_CACHE, CachedTable, as_double_struct, read

Compute = Callable[[np.ndarray, np.ndarray], np.ndarray]
Block = tuple[int, int, int, int, int]  # pid, block index, start, stop, partition rows


def _keeps_rows() -> bool:
    """Rows are kept in shared memory only when Spark's workers run on this machine."""
    master = str((active_settings() or {}).get("master") or "")
    return master.startswith("local") and row_cache().enabled


@dataclass
class StepTimes:
    """Where the last step of a thread spent its time (for benchmarks and profiling)."""

    seconds: float = 0.0  # the whole call
    compute_seconds: float = 0.0  # the plan's arithmetic, summed over blocks
    spark_jobs: int = 0
    kept_blocks: int = 0
    streamed_partitions: int = 0
    state_blocks: int = 0  # blocks served by a job's state in Spark's cache alone


_last = threading.local()


def last_step() -> StepTimes:
    """Timing of the last ``compute_stats``/``compute_update`` call made by this thread."""
    return getattr(_last, "times", StepTimes())


def _timed(compute: Compute, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    vector = compute(X, y)
    return vector, time.perf_counter() - started


class _Job:
    """A step that takes a block's job state (``_job_state``) as its third argument; where
    the state is kept (``None``: built afresh in every round)."""

    def __init__(self, compute: Callable[..., np.ndarray], where: StateWhere | None) -> None:
        self.compute, self.where = compute, where

    def block(self, pid: int, block: int) -> Compute:
        def compute(X: np.ndarray, y: np.ndarray) -> np.ndarray:
            state = _job_state.load_state(self.where, pid, block)
            before = dict(state)
            vector = self.compute(X, y, state)
            _job_state.save_state(self.where, pid, block, before, state)
            return vector

        return compute


def _of_block(compute: Compute | _Job, pid: int, block: int) -> Compute:
    return compute.block(pid, block) if isinstance(compute, _Job) else compute


def _block_row(
    pa: Any,
    pid: int,
    block: int,
    vector: Any,
    seconds: float,
    kept: int,
    state: np.ndarray | None = None,
    with_state: bool = False,
) -> Any:
    arrays = [
        pa.array([pid], pa.int32()),
        pa.array([block], pa.int32()),
        pa.array([None if vector is None else vector.tobytes()], pa.binary()),
        pa.array([seconds], pa.float64()),
        pa.array([kept], pa.int64()),
    ]
    if with_state and state is None:
        arrays.append(pa.array([None], pa.binary()))
    elif with_state:  # the packed state as one value, without copying it again
        offsets = pa.py_buffer(np.array([0, state.nbytes], np.int32))
        arrays.append(pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(state)]))
    return pa.RecordBatch.from_arrays(arrays, names=list(BLOCK_COLUMNS[: len(arrays)]))


BLOCK_COLUMNS = ("pid", "block", "vec", "seconds", "kept", "state")
BLOCK_SCHEMA = "pid int, block int, vec binary, seconds double, kept long"
STATE_SCHEMA = BLOCK_SCHEMA + ", state binary"  # one row per block: its labels and job state


def _state_row(
    pa: Any, pid: int, block: int, compute: Callable[..., np.ndarray], X: Any, y: np.ndarray,
    state: dict[str, np.ndarray],
) -> Any:  # fmt: skip
    """A block's row of the state DataFrame: ``compute(X, y, state)`` and the state it
    leaves (``kept``: the bytes of the family's entries); no vector and no state when the
    family asked for feature rows that were not read (``_job_state.NeedsRows``)."""
    started = time.perf_counter()
    try:
        with one_blas_thread():  # as on kept rows: the same sums, whichever path
            vector = compute(X, y, state)
    except _job_state.NeedsRows:
        return _block_row(pa, pid, block, None, 0.0, 0, None, True)
    seconds = time.perf_counter() - started
    held = sum(int(a.nbytes) for a in state.values())
    return _block_row(pa, pid, block, vector, seconds, held, _job_state.pack(state, y), True)


def _vectors(rows: list[Any]) -> list[tuple[int, int, np.ndarray | None, float, int]]:
    return [
        (
            r["pid"],
            r["block"],
            None if r["vec"] is None else np.frombuffer(r["vec"], dtype=np.float64),
            r["seconds"],
            r["kept"],
        )
        for r in rows
    ]


# --- the two kinds of Spark job ------------------------------------------------------------------


def _stream(
    table: CachedTable,
    compute: Compute | _Job,
    standardizer: Standardizer | None,
    where: _rows.Where | None,
    wanted: frozenset[tuple[int, int]] | None,
) -> list[tuple[int, int, np.ndarray | None, float, int]]:
    """Stream every partition from Spark's cache, keep its rows at ``where`` (when given) and
    compute on the ``wanted`` blocks (all when ``None``).

    Returns one row per computed block, ``(pid, block, vector, seconds, bytes kept)``, and one
    per partition, ``(pid, -1, None, labelled rows, bytes kept)``.
    """
    return _vectors(_streamed(table, compute, standardizer, where, wanted).collect())


def _streamed(
    table: CachedTable,
    compute: Compute | _Job | Callable[..., np.ndarray],
    standardizer: Standardizer | None,
    where: _rows.Where | None,
    wanted: frozenset[tuple[int, int]] | None,
    with_state: bool = False,
) -> Any:
    """The DataFrame of :func:`_stream`'s rows; ``with_state``: each block's step also takes
    an empty job state, and its row carries the labels and state it leaves (``state``, of
    :data:`STATE_SCHEMA`), the first DataFrame of a job's state in Spark's cache."""
    width = len(table.columns)

    def per_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa
        from pyspark import TaskContext

        _rows.settle_worker()
        pid = TaskContext.get().partitionId()
        X, y = _rows.rows_from_batches(batches, width)
        kept = _rows.save_rows(where, pid, X, y) if where is not None else 0
        yield _block_row(pa, pid, -1, None, float(len(y)), kept, None, with_state)
        for block, (start, stop) in enumerate(_rows.blocks_of(len(y))):
            if wanted is not None and (pid, block) not in wanted:
                continue
            Xb, yb = X[start:stop], y[start:stop]
            z_kept = 0
            if standardizer is not None:
                Xb, z_kept = _rows.standardised(
                    where or _rows.Where("", ""), pid, block, Xb, standardizer, where is not None
                )
            if with_state:
                yield _state_row(pa, pid, block, compute, Xb, yb, {})
                continue
            with one_blas_thread():  # as on kept rows: the same sums, whichever path
                vector, seconds = _timed(_of_block(compute, pid, block), Xb, yb)  # type: ignore[arg-type]
            yield _block_row(pa, pid, block, vector, seconds, z_kept)
        _rows.settle_worker()

    return table.df.mapInArrow(per_partition, STATE_SCHEMA if with_state else BLOCK_SCHEMA)


def _updated(frame: Any, compute: Callable[..., np.ndarray]) -> Any:
    """The next DataFrame of a job's state in Spark's cache: each block's step over the
    labels and state of ``frame``'s row (its feature rows are not read,
    ``_job_state.RowsElsewhere``), and the state it leaves."""

    def per_batch(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        _rows.settle_worker()
        for batch in batches:
            pids, blocks, states = (batch.column(i) for i in range(3))
            for i in range(batch.num_rows):
                block = blocks[i].as_py()
                if block < 0 or not states[i].is_valid:
                    continue
                state, y = _job_state.unpack(states[i].as_buffer())
                rows = _job_state.RowsElsewhere(len(y))
                yield _state_row(pa, pids[i].as_py(), block, compute, rows, y, state)
        _rows.settle_worker()

    return frame.select("pid", "block", "state").mapInArrow(per_batch, STATE_SCHEMA)


def _with_spark_state(
    table: CachedTable,
    compute: Callable[..., np.ndarray],
    standardizer: Standardizer | None,
    job: str,
    times: StepTimes,
) -> list[tuple[int, int, np.ndarray | None, float, int]]:
    """A job's step where rows are not kept, its state in Spark's cache (``_job_state``).

    One Spark job a round: over the job's state DataFrame when one is held, else over the
    table (a first round, a lake that restarted, a state lost with an executor, a family
    that asked for the rows). Its
    DataFrame is cached before the action that collects the blocks' vectors
    (``_job_state.cached``), so that action also materialises the next round's state; the
    previous state is unpersisted after. A DataFrame in which the family kept nothing is not
    held.
    """
    states = _job_state.spark_states()
    columns = BLOCK_COLUMNS[:-1]
    held = states.frame(job, table.token)
    if held is not None:
        frame = _job_state.cached(_updated(held, compute))
        try:
            results: list[tuple[int, int, np.ndarray | None, float, int]] | None
            results = _vectors(frame.select(*columns).collect())
        except Exception:  # the state is lost (its executor gone): made again from the rows
            results = None
        times.spark_jobs += 1
        if results is not None and all(vector is not None for _, _, vector, _, _ in results):
            states.keep(job, table.token, frame, from_rows=False)
            times.state_blocks = len(results)
            return results
        _job_state.release([frame])
        states.forget(job, table.token)  # or the family asked for the rows: read them again
    frame = _streamed(table, compute, standardizer, None, None, with_state=True)
    frame = _job_state.cached(frame)
    results = _vectors(frame.select(*columns).collect())
    times.spark_jobs += 1
    times.streamed_partitions = sum(1 for _, block, _, _, _ in results if block < 0)
    if any(kept for _, block, _, _, kept in results if block >= 0):
        states.keep(job, table.token, frame, from_rows=True)
    else:
        _job_state.release([frame])
    return results


def _from_kept(
    blocks: list[Block],
    compute: Compute | _Job,
    standardizer: Standardizer | None,
    where: _rows.Where,
    tasks: int,
    arrays: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[int, int, np.ndarray | None, float, int]]:
    """``blocks`` computed from the kept rows by ``tasks`` threads of this process (or from
    ``arrays``, the rows of partition 0 as read); a block whose rows are gone comes back with
    no vector.

    The kept rows are in this machine's shared memory already (rows are kept only when
    Spark's workers run on this machine): a Spark job here would add about 100 ms of job and
    Python-task set-up to some 50 ms of arithmetic for 1M x 20 rows, so the blocks are worked
    on by threads of this process instead (numpy releases the GIL in its array loops), with
    BLAS on one thread meanwhile (``_blas``): the calling thread works on the first group, the
    process's step threads (:func:`_step_pool`, shared by every lake of the process) on the
    others.
    """

    def per_group(group: list[Block]) -> list[tuple[int, int, np.ndarray | None, float, int]]:
        out: list[tuple[int, int, np.ndarray | None, float, int]] = []
        for pid, block, start, stop, n in group:
            rows = arrays if arrays is not None and pid == 0 else _rows.load_rows(where, pid)
            if rows is None or rows[1].shape[0] != n:
                out.append((pid, block, None, 0.0, 0))
                continue
            X, y = rows[0][start:stop], rows[1][start:stop]
            z_kept = 0
            if standardizer is not None:
                X, z_kept = _rows.standardised(where, pid, block, X, standardizer, True)
            vector, seconds = _timed(_of_block(compute, pid, block), X, y)
            out.append((pid, block, vector, seconds, z_kept))
        return out

    with _steps_at_once() as steps:
        # the process's cores are shared by the steps running at once (lakes of this process
        # answer side by side): more groups than a step's share only trade the GIL back and
        # forth; the blocks and their sum's order do not depend on the grouping
        groups = _balanced(blocks, max(1, tasks // steps))
        return _grouped(per_group, groups, tasks)


def _grouped(
    per_group: Callable[[list[Block]], list[tuple[int, int, np.ndarray | None, float, int]]],
    groups: list[list[Block]],
    tasks: int,
) -> list[tuple[int, int, np.ndarray | None, float, int]]:
    """``per_group`` of every group: the first on the calling thread, the others on the
    process's step threads."""
    with one_blas_thread():  # the threads (and other lakes' steps) are the parallelism
        if len(groups) == 1:
            return per_group(groups[0])
        others = [_step_pool(tasks).submit(per_group, group) for group in groups[1:]]
        try:
            first = per_group(groups[0])
        finally:  # no group outlives the step (nor its BLAS setting), even when one failed
            wait(others)
        return [r for part in [first, *(f.result() for f in others)] for r in part]


_running_steps = 0  # steps of this process computing from kept rows right now
_running_lock = threading.Lock()


@contextmanager
def _steps_at_once() -> Iterator[int]:
    """Count this step among the process's running steps; yields how many run now."""
    global _running_steps
    with _running_lock:
        _running_steps += 1
        now = _running_steps
    try:
        yield now
    finally:
        with _running_lock:
            _running_steps -= 1


_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (process id, threads, the pool)
_pool_lock = threading.Lock()


def _step_pool(tasks: int) -> ThreadPoolExecutor:
    """The step threads of this process, shared by every lake in it: a round of ten
    in-process lakes started and joined two threads per lake per call before, and twenty
    step threads then took turns at two cores. A step's groups never wait on the pool
    themselves, so a lake's call cannot wait on another's."""
    global _pool
    with _pool_lock:
        known = _pool
        if known is None or known[0] != os.getpid() or known[1] < tasks:
            if known is not None and known[0] == os.getpid():
                known[2].shutdown(wait=False)  # its queued groups still run
            known = (os.getpid(), tasks, ThreadPoolExecutor(tasks, "collab-step"))
            _pool = known
        return known[2]


def _balanced(blocks: list[Block], tasks: int) -> list[list[Block]]:
    """Blocks dealt to at most ``tasks`` groups, largest first onto the lightest group."""
    groups: list[list[Block]] = [[] for _ in range(max(1, min(tasks, len(blocks))))]
    load = [0] * len(groups)
    for block in sorted(blocks, key=lambda b: b[3] - b[2], reverse=True):
        i = load.index(min(load))
        groups[i].append(block)
        load[i] += block[3] - block[2]
    return groups


_parallel: tuple[Any, int] | None = None  # the SparkContext last asked, and its answer


def _parallelism() -> int:
    """The session's default parallelism, asked of its JVM once per SparkContext (a py4j
    round trip in every round otherwise)."""
    global _parallel
    try:
        context = spark_session().sparkContext
        known = _parallel
        if known is not None and known[0] is context:
            return known[1]
        tasks = max(1, int(context.defaultParallelism))
    except Exception:  # Spark Connect has no SparkContext
        return 2
    _parallel = (context, tasks)
    return tasks


def _over_partitions(
    table: CachedTable,
    compute: Compute,
    size: int,
    standardizer: Standardizer | None = None,
    job: str | None = None,
) -> np.ndarray:
    """The sum of ``compute(rows)`` over the table's blocks, in (partition, block) order.

    The blocks and the order of the sum are the same whichever path serves a block, so the
    result does not depend on what was kept.

    With ``standardizer``, ``compute`` receives standardised features (transformed once per
    block and standardisation, then kept beside the rows). With ``job``, ``compute`` also
    receives each block's state of that job (``_job_state``), kept beside the rows when they
    are kept.
    """
    started = time.perf_counter()
    times = StepTimes()
    parts: dict[tuple[int, int], np.ndarray] = {}
    cache = row_cache()
    entry = cache.table(table.token) if _keeps_rows() else None
    z_key = None
    if entry is not None and standardizer is not None and not entry.too_big:
        z_key = _rows.standardizer_key(standardizer)
        cache.use_z(table.token, z_key)
    where = cache.where(table.token, z_key) if entry is not None else None
    state_where = None
    if job is not None and entry is not None and not entry.too_big and cache.keep_job_state:
        state_where = StateWhere(where.root, table.token, job)  # type: ignore[union-attr]
    job_compute: Compute | _Job = compute

    def take(results: list[tuple[int, int, np.ndarray | None, float, int]]) -> None:
        for pid, block, vector, seconds, kept in results:
            if block < 0 or vector is None:
                continue
            parts[(pid, block)] = vector
            times.compute_seconds += seconds
            if kept and z_key is not None:
                cache.add_z(table.token, z_key, kept)

    if job is not None:
        job_compute = _Job(compute, state_where)
    if entry is not None and where is not None and table.fill is not None:
        # read without Spark: kept as one partition (held as read while it cannot be)
        arrays = _fill(table, entry, where)
        n = entry.partitions[0][1] if arrays is None else len(arrays[1])
        blocks = [(0, i, start, stop, n) for i, (start, stop) in enumerate(_rows.blocks_of(n))]
        take(_from_kept(blocks, job_compute, standardizer, where, _parallelism(), arrays))
        rest = [b for b in blocks if (b[0], b[1]) not in parts]
        if rest:  # gone meanwhile: read again
            cache.missed(table.token)
            arrays = _fill(table, entry, where)
            take(_from_kept(rest, job_compute, standardizer, where, _parallelism(), arrays))
        times.kept_blocks = len(parts)
        _count_state(state_where)
        return _finish(parts, size, started, times)
    wanted: frozenset[tuple[int, int]] | None = None
    if entry is not None and where is not None and entry.filled:
        blocks = [
            (pid, i, start, stop, n)
            for pid, n in entry.partitions
            for i, (start, stop) in enumerate(_rows.blocks_of(n))
        ]
        take(_from_kept(blocks, job_compute, standardizer, where, _parallelism()))
        times.kept_blocks = len(parts)
        missing = frozenset((b[0], b[1]) for b in blocks) - set(parts)
        if not missing:
            _count_state(state_where)
            return _finish(parts, size, started, times)
        cache.missed(table.token)
        wanted = missing
    write = where if entry is not None and not entry.too_big else None
    if write is None:  # every round will stream: let Spark keep the rows instead
        TABLE_CACHE.persist(table)
        if job is not None and cache.keep_job_state:  # and the job's state
            take(_with_spark_state(table, compute, standardizer, job, times))
            return _finish(parts, size, started, times)
    if job is not None:  # the state is kept only beside kept rows
        job_compute = _Job(compute, state_where if write is not None else None)
    streamed = _stream(table, job_compute, standardizer, write, wanted)
    times.spark_jobs += 1
    take(streamed)
    partitions = tuple((pid, int(rows)) for pid, block, _, rows, _ in streamed if block < 0)
    times.streamed_partitions = len(partitions)
    if write is not None:
        kept = sum(k for _, block, _, _, k in streamed if block < 0)
        cache.filled(table.token, partitions, kept)
        _count_state(state_where)
    return _finish(parts, size, started, times)


def _fill(
    table: CachedTable, entry: _rows.TableRows, where: _rows.Where
) -> tuple[np.ndarray, np.ndarray] | None:
    """Read the rows of a table that needs no Spark (``table.fill``) and keep them as one
    partition, unless they are kept already (then ``None``); the rows read."""
    assert table.fill is not None
    if entry.filled:
        return None
    X, y = table.fill()
    if not entry.too_big:
        kept = _rows.save_rows(where, 0, X, y)
        if kept or not len(y):
            row_cache().filled(table.token, ((0, len(y)),), kept)
    return X, y


def _count_state(where: StateWhere | None) -> None:
    if where is not None:
        row_cache().job_state(where.token, where.job, _job_state.state_bytes(where))


def _finish(
    parts: dict[tuple[int, int], np.ndarray], size: int, started: float, times: StepTimes
) -> np.ndarray:
    total = np.zeros(size)
    for key in sorted(parts):
        total = total + parts[key]
    times.seconds = time.perf_counter() - started
    _last.times = times
    return total


# --- the steps -----------------------------------------------------------------------------------


class TableRows:
    """A table's plan columns as the round handler computes over them (``collab.protocol``):
    Spark reads the table where it lives; rounds reuse the rows kept by the first pass."""

    def __init__(self, table: CachedTable) -> None:
        self._table = table

    @property
    def token(self) -> str:
        """The token of this caching of the table, which names its kept rows (``_rows``)."""
        return self._table.token

    def total(
        self,
        compute: Callable[..., np.ndarray],
        size: int,
        standardizer: Standardizer | None,
        job: str | None = None,
    ) -> np.ndarray:
        """The sum of ``compute(X, y)`` over the table's blocks of labelled rows; with
        ``standardizer``, ``X`` arrives standardised (transformed once per block and kept);
        with ``job``, ``compute(X, y, state)`` takes each block's state of that job."""
        if standardizer is None and job is None:
            return _over_partitions(self._table, compute, size)
        return _over_partitions(self._table, compute, size, standardizer, job)

    def drop_job(self, job: str) -> None:
        """Remove ``job``'s state beside this table's rows (the job ended on this lake)."""
        _job_state.drop_job_state(job, self.token)


def table_rows(
    source: str,
    fmt: str,
    columns: Sequence[str],
    encodings: Mapping[str, Sequence[Any]] | None = None,
    labelled: bool = True,
    *,
    view: Mapping[str, Any] | None = None,
) -> TableRows:
    """A table's ``columns`` (the label last, unless not ``labelled``) as a plan's step reads
    them; columns in ``encodings`` as indices of their published categories. A table record's
    ``source`` and ``format`` say where the rows are; a view's record adds its ``view``.

    Read as doubles (:func:`as_double_struct`) once per table, column set and coding in this
    process (:data:`TABLE_CACHE`); a view's ``source`` names its definition (``view_source``).
    """
    columns = tuple(columns)
    coding = tuple(sorted((c, tuple(map(category_text, v))) for c, v in (encodings or {}).items()))

    def frame() -> Any:
        return as_double_struct(read(source, fmt, view=view), columns, encodings, labelled)

    def fill() -> Callable[[], tuple[np.ndarray, np.ndarray]] | None:
        if fmt != STREAM or not _keeps_rows():
            return None
        return kept_arrays(source, columns, dict(encodings or {}), labelled)

    key = (source, fmt, columns, coding, labelled)
    read_columns = columns if labelled else (*columns, "__row")
    return TableRows(TABLE_CACHE.table(key, read_columns, frame, fill))
