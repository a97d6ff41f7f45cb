"""Streams: folders new files land in, admitted file by file through Spark Structured Streaming.

A stream's files are found by a Structured Streaming query over its folder (Spark's file
source, listing paths only, ``maxFilesPerTrigger`` at a time); each micro-batch's files are
checked one by one against the stream's schema in ``foreachBatch`` and a file that fits is
written whole to the stream's kept rows (one Parquet file per landed file, moved into place
once written; a local Parquet file whose footer, read with pyarrow, gives the stream's very
columns and types is copied as it is, after the copy is read to its end, with no Spark job;
an update's kept rows are read likewise, :func:`kept_arrays`). A file that does not fit, or
cannot be read to its end, is set aside: none of its rows are kept. The query's checkpoint
makes every landed file count once across a stop and a restart; a micro-batch replayed after
a crash writes the same kept files again, under the same names.

A Delta table's new versions are admitted by the same path, file by file (``_delta.py``).

Jobs read a stream's kept rows as a table whose source names the last batch admitted
(:func:`stream_source`): the rows that have arrived, the same rows for every read of that
source.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import CollabError
from ._parquet import nanosecond_timestamps
from ._spark import spark_message, spark_session

STREAM = "stream"  # the format of a stream's kept rows, whose source is stream:<folder>#<batch>
STREAM_PREFIX = "stream:"
STREAM_FORMATS = ("parquet", "csv", "json", "delta")
SCHEMA_FILE = "schema.parquet"  # no rows: the kept rows' schema before any file lands
POLL_SECONDS = 0.2  # how often a stream's folder is listed for new files
FILES_PER_BATCH = 100  # maxFilesPerTrigger
# Spark's file source skips a file older than its newest by 7 days; a file copied in with its
# old modification time is new to the stream all the same
KEEP_LOOKING = "36500d"

# the file source's own columns (only ``path`` is read: a file's bytes are never loaded here)
_LISTING = "path STRING, modificationTime TIMESTAMP, length BIGINT, content BINARY"

# integer and floating types, narrowest first: a file's column may be wider in the stream
_WIDENING = ("tinyint", "smallint", "int", "bigint", "float", "double")


def stream_source(kept: str | Path, batch: int) -> str:
    """The source of a stream's kept rows up to ``batch`` (``-1``: none yet)."""
    return f"{STREAM_PREFIX}{kept}#{batch}"


def stream_range_source(kept: str | Path, after: int, batch: int) -> str:
    """The source of a stream's kept rows of the batches after ``after`` up to ``batch``: the
    rows one update of a followed job reads."""
    return f"{STREAM_PREFIX}{kept}#{after}{RANGE}{batch}"


RANGE = ".."  # between the batch a range starts after and its last


def stream_range(source: str) -> tuple[str, int, int]:
    """The kept folder, the batch a stream's source starts after (``-1``: from the first) and
    the last batch it names."""
    kept, _, batches = source.removeprefix(STREAM_PREFIX).rpartition("#")
    after, _, batch = batches.rpartition(RANGE)
    return kept, int(after or -1), int(batch)


def stream_batch(source: str) -> tuple[str, int]:
    """The kept folder and the last batch a stream's source names."""
    kept, _, batch = stream_range(source)
    return kept, batch


def _kept_name(batch: int, index: int) -> str:
    return f"b{batch:010d}-{index:05d}.parquet"


def kept_files(kept: str | Path, batch: int, after: int = -1) -> list[str]:
    """The kept files of batches after ``after`` up to ``batch``, in the order they were
    admitted, after the schema file."""
    folder = Path(kept)
    files = [str(folder / SCHEMA_FILE)]
    for path in sorted(folder.glob("b*.parquet")):
        if after < int(path.name[1:11]) <= batch:
            files.append(str(path))
    return files


def read_kept(spark: Any, source: str) -> Any:
    """A stream's kept rows up to the batch its ``source`` names, as a DataFrame."""
    kept, after, batch = stream_range(source)
    return spark.read.parquet(*kept_files(kept, batch, after))


def kept_arrays(
    source: str,
    columns: tuple[str, ...],
    encodings: dict[str, Any],
    labelled: bool,
) -> Callable[[], tuple[Any, Any]] | None:
    """How to read a stream's kept rows of ``source`` without Spark: a function returning the
    labelled rows (features ``X``, label ``y``) exactly as a Spark pass over the table reads
    them (``_tables.as_double_struct``, then ``_rows.rows_from_batches``), or ``None`` when a
    column is not plainly a number (only Spark reads those alike).

    The kept files are local Parquet the lake wrote itself, in the stream's very columns:
    pyarrow reads an update's few new rows in milliseconds, where Spark adds a job to infer
    their schema and a Python task to hand them over."""
    import pyarrow.parquet as pq
    import pyarrow.types as pt

    kept, after, batch = stream_range(source)
    if "://" in str(kept):
        return None
    files = kept_files(kept, batch, after)
    schema = pq.read_schema(files[0])
    for name in columns:
        if name not in schema.names:
            return None
        kind = schema.field(name).type
        numbers = pt.is_integer(kind) or pt.is_floating(kind)
        if not (numbers or (pt.is_boolean(kind) and name not in encodings)):
            return None
        values = encodings.get(name, ())
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            return None  # categories compared as text
    return lambda: _read_arrays(files, columns, encodings, labelled)


def _read_arrays(
    files: list[str], columns: tuple[str, ...], encodings: dict[str, Any], labelled: bool
) -> tuple[Any, Any]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables = [pq.read_table(f, columns=list(columns)) for f in files]
    n = sum(t.num_rows for t in tables)
    data = np.empty((n, len(columns) + (0 if labelled else 1)), dtype=np.float64)
    for j, name in enumerate(columns):
        chunks = [c for t in tables for c in t.column(name).chunks]
        values = np.concatenate(
            [pc.cast(c, pa.float64()).to_numpy(zero_copy_only=False) for c in chunks] or [[]]
        )
        if name in encodings:  # the index of the value's category, as _category_index
            categories = [float(v) for v in encodings[name]]
            coded = np.full(n, float(len(categories)))
            for i in reversed(range(len(categories))):  # the first match wins
                coded[values == categories[i]] = i
            coded[np.isnan(values)] = np.nan
            values = coded
        data[:, j] = values
    if not labelled:
        data[:, -1] = 1.0
    keep = ~np.isnan(data[:, -1])
    return np.ascontiguousarray(data[keep, :-1]), data[keep, -1].copy()


def same_stream(a: str, b: str) -> bool:
    """Whether two sources are versions of one stream's kept rows."""
    if not (a.startswith(STREAM_PREFIX) and b.startswith(STREAM_PREFIX)):
        return False
    return stream_batch(a)[0] == stream_batch(b)[0]


# --- the stream's schema ------------------------------------------------------------------------


def _file_reader(spark: Any, fmt: str) -> Any:
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true")
    return reader


def landing_schema(path: str, fmt: str, schema: Any = None) -> Any:
    """The stream's schema (a Spark ``StructType``): ``schema`` (a ``StructType`` or a DDL
    string such as ``"age INT, grade STRING"``), or read from the files present (a Delta
    table's: ``_delta.delta_stream_schema``)."""
    from pyspark.sql.types import StructType

    spark = spark_session()
    if schema is not None:
        if isinstance(schema, StructType):
            return schema
        if not isinstance(schema, str):
            raise TypeError(
                f"schema must be a DDL string such as 'age INT, grade STRING' or a pyspark "
                f"StructType, not {schema!r}"
            )
        try:
            return StructType.fromDDL(schema)
        except Exception as exc:
            raise CollabError(
                f"schema {schema!r} is not a column list Spark reads ({spark_message(exc)}); "
                "write it as 'age INT, grade STRING'"
            ) from exc
    files = [p for p in Path(path).iterdir() if not p.name.startswith(("_", "."))]
    if not files:
        raise CollabError(
            f"the folder {path!r} holds no file yet, so the stream's columns are unknown: give "
            "them with schema='age INT, grade STRING' (or a pyspark StructType)"
        )
    reader = _file_reader(spark, fmt)
    if fmt == "csv":
        reader = reader.option("inferSchema", "true")
    try:
        frame = reader.load(path)
        return (nanosecond_timestamps(frame, path) if fmt == "parquet" else frame).schema
    except Exception as exc:
        raise CollabError(
            f"Spark could not read the files in {path!r} as {fmt}: {spark_message(exc)}; give "
            "the stream's columns with schema='age INT, grade STRING'"
        ) from exc


def write_schema_file(kept: str | Path, schema: Any) -> None:
    """Start the kept rows: an empty Parquet file with the stream's schema."""
    folder = Path(kept)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SCHEMA_FILE
    if target.exists():
        return
    spark = spark_session()
    _write_one(spark.createDataFrame([], schema), folder.parent / "staging" / "schema", target)


def _write_one(frame: Any, staging: Path, target: Path) -> int:
    """Write ``frame`` as one Parquet file at ``target`` (moved there once whole); its rows."""
    import pyarrow.parquet as pq

    shutil.rmtree(staging, ignore_errors=True)
    frame.coalesce(1).write.mode("overwrite").parquet(str(staging))
    parts = sorted(staging.glob("part-*.parquet"))
    if len(parts) != 1:
        raise CollabError(f"expected one written file in {staging}, found {len(parts)}")
    rows = int(pq.read_metadata(parts[0]).num_rows)
    os.replace(parts[0], target)
    shutil.rmtree(staging, ignore_errors=True)
    return rows


def _copy_one(source: str, staging: Path, target: Path) -> int:
    """Keep a Parquet file that holds the stream's columns as they are: its bytes copied, the
    copy read to its end (a file that cannot be is set aside whole), then moved to ``target``;
    its rows. No Spark job: the copy is what Spark would have written."""
    import pyarrow.parquet as pq

    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    copy = staging / "part-00000.parquet"
    shutil.copyfile(source, copy)
    rows = int(pq.read_table(copy).num_rows)
    os.replace(copy, target)
    shutil.rmtree(staging, ignore_errors=True)
    return rows


# --- admitting one file -------------------------------------------------------------------------


def _misfit(found: Any, schema: Any) -> str | None:
    """Why a file's columns (``found``, a StructType) do not fit the stream's ``schema``."""
    have = {f.name: f.dataType.simpleString() for f in found.fields}
    want = {f.name: f.dataType.simpleString() for f in schema.fields}
    reason = _names_misfit(list(have), list(want))
    if reason:
        return reason
    for column, kind in want.items():
        got = have[column]
        if got == kind or got == "void":
            continue
        if got in _WIDENING and kind in _WIDENING and _WIDENING.index(got) <= _WIDENING.index(kind):
            continue
        return f"column {column!r} holds {got} values; the stream's {column!r} holds {kind}"
    return None


def _fitted(spark: Any, path: str, fmt: str, schema: Any) -> tuple[Any, str | None, bool]:
    """The file's rows in the stream's columns and types, or why it does not fit; and whether
    the file holds them as they are (a Parquet file of the stream's very columns and types,
    in its order), so that its bytes can be kept."""
    from pyspark.sql.functions import col
    from pyspark.sql.types import StructType

    if fmt == "parquet":
        local = path.removeprefix("file:") if path.startswith("file:/") else path
        read = spark.read.parquet(path)
        frame = nanosecond_timestamps(read, local)
        reason = _misfit(frame.schema, schema)
        if reason:
            return None, reason, False
        as_is = frame is read and _columns(frame.schema) == _columns(schema)
        cast = frame.select(*(col(f"`{f.name}`").cast(f.dataType) for f in schema.fields))
        return cast, None, as_is
    # CSV and JSON: the same column names, then the rows read with the stream's own types,
    # failing on the first value that does not fit (the whole file is then set aside)
    found = [str(c) for c in _file_reader(spark, fmt).load(path).columns]
    reason = _names_misfit(found, [f.name for f in schema.fields])
    if reason:
        return None, reason, False
    by_name = {f.name: f for f in schema.fields}
    in_file_order = StructType([by_name[c] for c in found])
    frame = _file_reader(spark, fmt).schema(in_file_order).option("mode", "FAILFAST").load(path)
    return frame.select(*(col(f"`{f.name}`") for f in schema.fields)), None, False


# Arrow types that Spark reads from Parquet as these types, and no others
_ARROW_AS_SPARK = {
    "bool": "boolean",
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "float": "float",
    "double": "double",
    "string": "string",
    "large_string": "string",
}


def _parquet_as_is(local: str, schema: Any) -> bool:
    """Whether a local Parquet file's footer gives the stream's very columns and types, in
    its order (so that its bytes can be kept, once read to their end): read with pyarrow, in
    a millisecond, where Spark would run a job to infer the file's schema. ``False`` leaves
    the file to Spark's reading (a misfit, a wider type, an unreadable footer)."""
    import pyarrow.parquet as pq

    try:
        found = pq.read_schema(local)
    except Exception:
        return False
    columns = [(f.name, _ARROW_AS_SPARK.get(str(f.type), "")) for f in found]
    return columns == _columns(schema)


def _columns(schema: Any) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


def _names_misfit(have: list[str], want: list[str]) -> str | None:
    """Why a file's column names do not fit the stream's."""
    missing = [c for c in want if c not in have]
    extra = [c for c in have if c not in want]
    if not (missing or extra):
        return None
    parts = []
    if missing:
        parts.append(f"lacks column(s) {', '.join(missing)}")
    if extra:
        parts.append(f"has column(s) the stream does not: {', '.join(extra)}")
    return "the file " + " and ".join(parts)


@dataclass(frozen=True)
class Landed:
    """What became of one landed file: taken (its rows kept) or set aside (and why)."""

    file: str
    batch: int
    taken: bool
    rows: int = 0
    reason: str = ""


def admit_file(
    spark: Any, path: str, fmt: str, schema: Any, kept: Path, batch: int, index: int
) -> Landed:
    """Check one landed file against the stream's schema and keep its rows whole, or set it
    aside (its rows none of the kept rows)."""
    shown = path.removeprefix("file:") if path.startswith("file:/") else path
    try:
        staging = kept.parent / "staging" / f"{batch}-{index}"
        target = kept / _kept_name(batch, index)
        local = path.startswith("file:/")
        if fmt == "parquet" and local and _parquet_as_is(shown, schema):  # no Spark job
            return Landed(shown, batch, True, rows=_copy_one(shown, staging, target))
        frame, reason, as_is = _fitted(spark, path, fmt, schema)
        if reason is not None:
            return Landed(shown, batch, False, reason=reason)
        if as_is and local:
            rows = _copy_one(shown, staging, target)
        else:
            rows = _write_one(frame, staging, target)
        return Landed(shown, batch, True, rows=rows)
    except Exception as exc:
        shutil.rmtree(kept.parent / "staging" / f"{batch}-{index}", ignore_errors=True)
        return Landed(shown, batch, False, reason=f"unreadable: {spark_message(exc)}")


# --- the streaming query ------------------------------------------------------------------------


class StreamQuery:
    """The Structured Streaming query that admits a stream's landed files.

    ``landed(batch, [Landed, ...])`` is called after each micro-batch's files are kept or
    set aside, before Spark commits the batch to the checkpoint.
    """

    def __init__(
        self,
        name: str,
        path: str,
        fmt: str,
        schema: Any,
        kept: Path,
        checkpoint: Path,
        landed: Callable[[int, list[Landed]], None],
    ) -> None:
        self.name, self.path, self.fmt, self.schema = name, path, fmt, schema
        self.kept, self.checkpoint = kept, checkpoint
        self._landed = landed
        self._query: Any = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        query = self._query
        return query is not None and bool(query.isActive)

    def error(self) -> str | None:
        """Why the query stopped, if it failed."""
        query = self._query
        if query is None:
            return None
        failure = query.exception()
        if failure is None:
            return None
        return spark_message(failure)

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            spark = spark_session()
            write_schema_file(self.kept, self.schema)
            source = (
                spark.readStream.format("binaryFile")
                .schema(_LISTING)
                .option("maxFilesPerTrigger", str(FILES_PER_BATCH))
                .option("maxFileAge", KEEP_LOOKING)
                .load(self.path)
                .select("path")
            )
            self._query = (
                source.writeStream.queryName(f"collab_stream_{self.name}_{id(self)}")
                .foreachBatch(self._files_batch)
                .option("checkpointLocation", str(self.checkpoint))
                .trigger(processingTime=f"{POLL_SECONDS} seconds")
                .start()
            )

    def _files_batch(self, frame: Any, batch: int) -> None:
        spark = frame.sparkSession
        files = sorted(row[0] for row in frame.collect())
        outcomes = [
            admit_file(spark, path, self.fmt, self.schema, self.kept, batch, i)
            for i, path in enumerate(files)
        ]
        self._landed(batch, outcomes)

    def process_available(self) -> None:
        """Return once every file landed so far has been admitted or set aside."""
        query = self._query
        if query is not None and query.isActive:
            try:
                query.processAllAvailable()
            except Exception:  # the query stopped: error() says why
                pass

    def stop(self) -> None:
        with self._lock:
            query, self._query = self._query, None
        if query is not None:
            try:
                query.stop()
            except Exception:
                pass
