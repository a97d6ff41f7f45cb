"""Parquet as pandas writes it: nanosecond timestamps, which Spark reads as longs, read back
as timestamps (for a table and for a stream's files alike)."""

from __future__ import annotations

from typing import Any

from ._spark import quoted


def _nanosecond_columns(source: str) -> dict[str, bool]:
    """Per column of a Parquet file or folder stored as nanosecond timestamps (as pandas
    writes datetimes), whether it holds instants (a time zone) rather than wall-clock times;
    empty where pyarrow cannot read the footer (a store only Spark is configured for)."""
    try:
        import pyarrow as pa
        import pyarrow.dataset as ds

        schema = ds.dataset(source, format="parquet").schema
    except Exception:
        return {}
    return {
        field.name: field.type.tz is not None
        for field in schema
        if pa.types.is_timestamp(field.type) and field.type.unit == "ns"
    }


def nanosecond_timestamps(frame: Any, source: str) -> Any:
    """``frame`` with the nanosecond timestamp columns Spark read as longs (its setting
    ``spark.sql.legacy.parquet.nanosAsLong``) cast back to timestamps, to the microsecond:
    ``timestamp`` for instants, ``timestamp_ntz`` for wall-clock times (as Spark reads
    microsecond ones)."""
    types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    longs = [name for name, kind in types.items() if kind == "bigint"]
    if not longs:
        return frame
    nanos = {c: zoned for c, zoned in _nanosecond_columns(source).items() if c in longs}
    if not nanos:
        return frame
    columns = []
    for name in types:
        column = quoted(name)
        if name not in nanos:
            columns.append(column)
            continue
        instant = f"timestamp_micros({column} DIV 1000)"
        if not nanos[name]:  # the same wall-clock time, whatever the session's time zone
            instant = (
                f"convert_timezone(current_timezone(), 'UTC', CAST({instant} AS TIMESTAMP_NTZ))"
            )
        columns.append(f"{instant} AS {column}")
    return frame.selectExpr(*columns)
