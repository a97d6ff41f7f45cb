"""Reading an owner's table where it lives, inspecting it, and keeping it cached."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import CollabError
from .._schema import NUMERIC_TYPES, category_text
from ._rows import row_cache
from ._spark import spark_session

FORMATS = ("parquet", "csv", "json", "orc", "delta")

_cache_lock = threading.Lock()
_cached: dict[tuple[Any, ...], CachedTable] = {}


def guess_format(source: str) -> str:
    suffix = Path(source.rstrip("/")).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if (Path(source) / "_delta_log").exists():
        return "delta"
    return "parquet"


def read(source: str, fmt: str, options: dict[str, str] | None = None) -> Any:
    spark = spark_session()
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    for key, value in (options or {}).items():
        reader = reader.option(key, value)
    try:
        return reader.load(source)
    except Exception as exc:
        raise CollabError(
            f"Spark could not read {source!r} as {fmt}: {str(exc).splitlines()[0]}. Check the "
            "path and format (parquet, csv, json, orc, delta)."
        ) from exc


@dataclass(frozen=True)
class TableFacts:
    """What inspection learns: Spark types, nullability, exact rows, 0/1-only columns."""

    types: dict[str, str]
    nullable: dict[str, bool]
    rows: int
    binary: frozenset[str]


# Above this many numeric columns, one Spark aggregation with two expressions per column
# compiles and runs very slowly (191 s for 10,000 columns of 2,000 rows, against about 35 s
# for one pass of the rows through Arrow into numpy, which is used instead).
WIDE_COLUMNS = 200


def inspect(source: str, fmt: str, options: dict[str, str] | None = None) -> TableFacts:
    """Types, nullability, exact row count and 0/1-only numeric columns of a table."""
    df = read(source, fmt, options)
    numeric = sorted(
        f.name for f in df.schema.fields if f.dataType.simpleString().split("(")[0] in NUMERIC_TYPES
    )
    if len(numeric) > WIDE_COLUMNS:
        rows, non_binary, non_null = _counts_through_arrow(df, numeric)
    else:
        rows, non_binary, non_null = _counts_in_spark(df, numeric)
    binary = frozenset(n for n in numeric if non_binary[n] == 0 and non_null[n] > 0)
    return TableFacts(
        types={f.name: f.dataType.simpleString() for f in df.schema.fields},
        nullable={f.name: f.nullable for f in df.schema.fields},
        rows=rows,
        binary=binary,
    )


def _counts_in_spark(df: Any, numeric: list[str]) -> tuple[int, dict[str, int], dict[str, int]]:
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("__rows")]
    for name in numeric:
        col = F.col(f"`{name}`").cast("double")
        aggs.append(
            F.sum(F.when(col.isNotNull() & ~col.isin(0.0, 1.0), 1).otherwise(0)).alias(
                f"nb__{name}"
            )
        )
        aggs.append(F.count(col).alias(f"nn__{name}"))
    row = df.agg(*aggs).collect()[0].asDict()
    return (
        int(row["__rows"]),
        {n: int(row[f"nb__{n}"] or 0) for n in numeric},
        {n: int(row[f"nn__{n}"]) for n in numeric},
    )


def _counts_through_arrow(
    df: Any, numeric: list[str]
) -> tuple[int, dict[str, int], dict[str, int]]:
    """The same counts from one pass of the rows through Arrow (for wide tables)."""
    import numpy as np

    from ._rows import settle_worker

    width = len(numeric)
    selected = as_double_struct(df, numeric)

    def per_partition(batches: Any) -> Any:
        import pyarrow as pa

        settle_worker()
        counts = np.zeros(1 + 2 * width, dtype=np.int64)
        for batch in batches:
            counts[0] += batch.num_rows
            for j, column in enumerate(batch.column(0).flatten()):
                values = column.to_numpy(zero_copy_only=False)
                present = ~np.isnan(values)
                counts[1 + j] += int(np.count_nonzero(present & (values != 0) & (values != 1)))
                counts[1 + width + j] += int(np.count_nonzero(present))
        yield pa.RecordBatch.from_arrays([pa.array([counts.tobytes()], pa.binary())], ["c"])

    total = np.zeros(1 + 2 * width, dtype=np.int64)
    for row in selected.mapInArrow(per_partition, "c binary").collect():
        total += np.frombuffer(row["c"], dtype=np.int64)
    return (
        int(total[0]),
        {n: int(total[1 + j]) for j, n in enumerate(numeric)},
        {n: int(total[1 + width + j]) for j, n in enumerate(numeric)},
    )


def as_double_struct(
    df: Any,
    columns: list[str] | tuple[str, ...],
    encodings: Mapping[str, Sequence[Any]] | None = None,
    labelled: bool = True,
) -> Any:
    """``df`` reduced to one struct column ``r`` holding ``columns`` as doubles.

    A column in ``encodings`` arrives as the index of its value in the published categories
    (``len(categories)`` for a value outside them, null for a missing one), so that every lake
    codes it alike. Without ``labelled``, a last field of ones stands for the label: every
    row counts.

    Built from one SQL expression: one call into the JVM whatever the width. Selecting
    thousands of columns one by one costs a JVM round trip per column (and PySpark's
    ``mapInArrow`` adds one more per input column), which dominated a 10,000-column pass
    (about 45 s against 8 s for the struct).
    """
    types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    encodings = encodings or {}
    fields = []
    for name in columns:
        quoted = "`" + name.replace("`", "``") + "`"
        if name in encodings:
            value = _category_index(quoted, encodings[name])
        elif types.get(name) == "double":
            value = quoted
        else:
            value = f"CAST({quoted} AS DOUBLE)"
        fields.append(f"{value} AS {quoted}")
    if not labelled:
        fields.append("CAST(1.0 AS DOUBLE) AS `__row`")
    return df.selectExpr(f"struct({', '.join(fields)}) AS r")


def _category_index(quoted: str, categories: Sequence[Any]) -> str:
    text = f"CAST({quoted} AS STRING)"
    cases = " ".join(
        "WHEN {} = '{}' THEN {}.0".format(text, category_text(c).replace("'", "''"), i)
        for i, c in enumerate(categories)
    )
    return f"CASE WHEN {quoted} IS NULL THEN NULL {cases} ELSE {len(categories)}.0 END"


@dataclass
class CachedTable:
    """A table's plan columns as doubles (one struct column ``r``), with the token of its
    kept rows.

    Spark caches it only when rounds stream its rows from Spark (``persist``): when the rows
    are kept as numpy arrays between rounds, a second copy in Spark's memory would only
    double a lake's footprint.
    """

    df: Any
    columns: tuple[str, ...]
    token: str
    persisted: bool = False


def cached_table(
    source: str,
    fmt: str,
    columns: tuple[str, ...],
    encodings: Mapping[str, Sequence[Any]] | None = None,
    labelled: bool = True,
) -> CachedTable:
    """The table's ``columns`` as doubles (:func:`as_double_struct`), one entry per table,
    column set and coding.

    The token names this caching of the table: it changes when the table is forgotten and
    read again, so that rows kept for an earlier version are never used.
    """
    coding = tuple(sorted((c, tuple(map(category_text, v))) for c, v in (encodings or {}).items()))
    key = (source, fmt, columns, coding, labelled)
    with _cache_lock:
        entry = _cached.get(key)
        if entry is None:
            base = read(source, fmt)
            df = as_double_struct(base, columns, encodings, labelled)
            read_columns = columns if labelled else (*columns, "__row")
            entry = _cached[key] = CachedTable(df, read_columns, uuid.uuid4().hex)
    return entry


def persist(table: CachedTable) -> None:
    """Ask Spark to cache the table (when its rows are streamed every round)."""
    with _cache_lock:
        if not table.persisted:
            table.df.cache()
            table.persisted = True


def forget(source: str) -> None:
    """Drop what is cached of ``source`` (Spark's cache and the rows kept for rounds)."""
    with _cache_lock:
        for key in [k for k in _cached if k[0] == source]:
            entry = _cached.pop(key)
            if entry.persisted:
                entry.df.unpersist()
            row_cache().drop(entry.token)


def _forget_after_fork() -> None:
    # a forked child starts its own Spark; the parent's DataFrames are not its to use
    global _cache_lock
    _cached.clear()
    _cache_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
