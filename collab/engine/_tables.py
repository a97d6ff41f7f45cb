"""Reading an owner's table where it lives, inspecting it, and keeping it cached."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import CollabError
from ._spark import spark_session

FORMATS = ("parquet", "csv", "json", "orc", "delta")

_cache_lock = threading.Lock()
_cached: dict[tuple[str, str, tuple[str, ...]], CachedTable] = {}


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


def inspect(source: str, fmt: str, options: dict[str, str] | None = None) -> TableFacts:
    from pyspark.sql import functions as F

    df = read(source, fmt, options)
    numeric = {
        f.name
        for f in df.schema.fields
        if f.dataType.simpleString().split("(")[0]
        in ("double", "float", "int", "bigint", "smallint", "tinyint", "decimal", "boolean")
    }
    aggs = [F.count(F.lit(1)).alias("__rows")]
    for name in sorted(numeric):
        col = F.col(f"`{name}`").cast("double")
        aggs.append(
            F.sum(F.when(col.isNotNull() & ~col.isin(0.0, 1.0), 1).otherwise(0)).alias(
                f"nb__{name}"
            )
        )
        aggs.append(F.count(col).alias(f"nn__{name}"))
    row = df.agg(*aggs).collect()[0].asDict()
    binary = frozenset(n for n in numeric if row[f"nb__{n}"] == 0 and row[f"nn__{n}"] > 0)
    return TableFacts(
        types={f.name: f.dataType.simpleString() for f in df.schema.fields},
        nullable={f.name: f.nullable for f in df.schema.fields},
        rows=int(row["__rows"]),
        binary=binary,
    )


@dataclass
class CachedTable:
    """A table's plan columns as doubles, cached by Spark, with its row-cache token."""

    df: Any
    token: str


def cached_table(source: str, fmt: str, columns: tuple[str, ...]) -> CachedTable:
    """The table's ``columns`` cast to double, cached by Spark across rounds.

    The token names this caching of the table: it changes when the table is forgotten and
    read again, so that rows kept for an earlier version are never used.
    """
    from pyspark.sql import functions as F

    key = (source, fmt, columns)
    with _cache_lock:
        entry = _cached.get(key)
        if entry is None:
            base = read(source, fmt)
            df = base.select([F.col(f"`{c}`").cast("double").alias(c) for c in columns]).cache()
            entry = _cached[key] = CachedTable(df, uuid.uuid4().hex)
    return entry


def columns_as_doubles(source: str, fmt: str, columns: tuple[str, ...]) -> Any:
    """The table's ``columns`` cast to double, cached by Spark across rounds."""
    return cached_table(source, fmt, columns).df


def forget(source: str) -> None:
    """Drop what is cached of ``source`` (Spark's cache and the rows kept for rounds)."""
    from ._step import row_cache

    with _cache_lock:
        for key in [k for k in _cached if k[0] == source]:
            entry = _cached.pop(key)
            entry.df.unpersist()
            row_cache().drop(entry.token)
