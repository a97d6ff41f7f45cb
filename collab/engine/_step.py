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
than the budget), Spark caches the table and every pass streams it from there. A stream's kept
rows of plain number columns (local Parquet the lake wrote itself) need no Spark job at all:
pyarrow reads them into the kept arrays as one partition (``_streams.kept_arrays``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._schema import category_text
from ..plans import Standardizer
from . import _job_state, _rows
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


def _block_row(pa: Any, pid: int, block: int, vector: Any, seconds: float, kept: int) -> Any:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([pid], pa.int32()),
            pa.array([block], pa.int32()),
            pa.array([None if vector is None else vector.tobytes()], pa.binary()),
            pa.array([seconds], pa.float64()),
            pa.array([kept], pa.int64()),
        ],
        names=["pid", "block", "vec", "seconds", "kept"],
    )


BLOCK_SCHEMA = "pid int, block int, vec binary, seconds double, kept long"


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
    width = len(table.columns)

    def per_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa
        from pyspark import TaskContext

        _rows.settle_worker()
        pid = TaskContext.get().partitionId()
        X, y = _rows.rows_from_batches(batches, width)
        kept = _rows.save_rows(where, pid, X, y) if where is not None else 0
        yield _block_row(pa, pid, -1, None, float(len(y)), kept)
        for block, (start, stop) in enumerate(_rows.blocks_of(len(y))):
            if wanted is not None and (pid, block) not in wanted:
                continue
            Xb, yb = X[start:stop], y[start:stop]
            z_kept = 0
            if standardizer is not None:
                Xb, z_kept = _rows.standardised(
                    where or _rows.Where("", ""), pid, block, Xb, standardizer, where is not None
                )
            vector, seconds = _timed(_of_block(compute, pid, block), Xb, yb)
            yield _block_row(pa, pid, block, vector, seconds, z_kept)
        _rows.settle_worker()

    return _vectors(table.df.mapInArrow(per_partition, BLOCK_SCHEMA).collect())


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
    on by threads of this process instead (numpy releases the GIL in its array loops).
    """
    from concurrent.futures import ThreadPoolExecutor

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

    groups = _balanced(blocks, tasks)
    if len(groups) == 1:
        return per_group(groups[0])
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        return [r for part in pool.map(per_group, groups) for r in part]


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
        """Remove ``job``'s state (the job ended)."""
        _job_state.drop_job_state(job)


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
