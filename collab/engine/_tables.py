"""Reading an owner's table where it lives, inspecting it, and keeping it cached.

A hosted table's record names where its rows come from (``source``, ``fmt``): a file or folder
Spark reads (Parquet, CSV, JSON, ORC, Delta), a catalog table (``catalog:db.table``), or an
owner's view (``view:<name>:<digest>``), whose definition (its SQL and the hosted tables it
reads) travels beside it. :func:`read` turns any of them into a DataFrame.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import CollabError
from .._publication import Publication
from .._schema import NUMERIC_TYPES, category_text
from ._job_state import spark_states
from ._parquet import nanosecond_timestamps
from ._rows import row_cache
from ._spark import quoted as _quoted
from ._spark import spark_message, spark_session
from ._streams import STREAM, read_kept, same_stream

FORMATS = ("parquet", "csv", "json", "orc", "delta")
CATALOG = "catalog"  # the format of a catalog table, whose source is ``catalog:db.table``
VIEW = "view"  # the format of an owner's view, whose source is ``view:<name>:<digest>``
CATALOG_PREFIX = "catalog:"

# What reading a Delta folder needs (Delta's jars are not part of Spark; they come from Maven).
DELTA_SETUP = (
    "Spark reads Delta only with Delta Lake's jars: start the lake with "
    "spark_conf={'spark.jars.packages': 'io.delta:delta-spark_2.13:4.0.0'} (in lake.toml: "
    '[spark.conf] "spark.jars.packages" = "io.delta:delta-spark_2.13:4.0.0"), or put '
    "delta-spark_2.13-4.0.0.jar and delta-storage-4.0.0.jar in spark.jars (Delta 4.0 goes with "
    "Spark 4.0). Or host the table as Parquet."
)

# Suffixes Spark reads through (compression) to the format's own suffix: data.csv.gz is CSV.
COMPRESSION_SUFFIXES = ("gz", "bz2", "zst", "lz4", "snappy", "deflate", "xz")


def guess_format(source: str) -> str:
    """The format of ``source`` from its suffix (under any compression suffix); a folder
    without one is Parquet, or Delta when it holds a ``_delta_log``.

    Raises
    ------
    CollabError
        For a suffix Spark has no reader for (an Excel or Feather file, say), naming the
        formats it reads, rather than reading it as Parquet.
    """
    if source.startswith(CATALOG_PREFIX):
        return CATALOG
    path = Path(source.rstrip("/"))
    if (Path(source) / "_delta_log").exists():
        return "delta"
    suffixes = [s.lower().lstrip(".") for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    if suffix in FORMATS:
        return suffix
    if suffix == "jsonl" or suffix == "ndjson":
        return "json"
    if suffix and not Path(source).is_dir() and not suffix.isdigit():
        raise CollabError(
            f"{path.name!r} ends in .{suffix}, a format collab does not read; save the table "
            f"as {', '.join(FORMATS)} (pandas: df.to_parquet(...)), or name its format with "
            "format='parquet' (or csv, json, orc, delta) if the suffix is misleading"
        )
    return "parquet"


def read(
    source: str,
    fmt: str,
    options: dict[str, str] | None = None,
    *,
    view: Mapping[str, Any] | None = None,
) -> Any:
    """A hosted table's rows as a Spark DataFrame, from its record's ``source`` and ``fmt``.

    Parameters
    ----------
    source, fmt
        A path or URL and one of :data:`FORMATS`; ``catalog:db.table`` and ``catalog``; or a
        view's source (:func:`view_source`) and ``view``.
    options
        Reader options (files only).
    view
        A view's definition (:func:`define_view`); needed when ``fmt`` is ``view``.
    """
    spark = spark_session()
    if fmt == STREAM:
        return read_kept(spark, source)
    if fmt == VIEW:
        if view is None:
            raise CollabError(f"{source!r} is a view, and its definition was not given")
        return _view_frame(spark, view)
    return _load(spark, source, fmt, options)


def _load(spark: Any, source: str, fmt: str, options: dict[str, str] | None = None) -> Any:
    try:
        if fmt == CATALOG:
            return spark.table(source.removeprefix(CATALOG_PREFIX))
        reader = spark.read.format(fmt)
        if fmt == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true")
        for key, value in (options or {}).items():
            reader = reader.option(key, value)
        frame = reader.load(source)
        return nanosecond_timestamps(frame, source) if fmt == "parquet" else frame
    except Exception as exc:
        message = spark_message(exc)
        if fmt == "delta" and "DATA_SOURCE_NOT_FOUND" in message:
            raise CollabError(f"cannot read the Delta table at {source!r}. {DELTA_SETUP}") from exc
        what = "the catalog table" if fmt == CATALOG else "the table at"
        raise CollabError(
            f"Spark could not read {what} {source.removeprefix(CATALOG_PREFIX)!r} as {fmt}: "
            f"{message}. Check the path and format (parquet, csv, json, orc, delta, or "
            "catalog:db.table)."
        ) from exc


# --- views -------------------------------------------------------------------------------------


def view_source(name: str, view: Mapping[str, Any]) -> str:
    """A view's source: its name and a digest of its definition (the SQL and the sources of
    the tables it reads), so that two views never share cached rows."""
    digest = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
    return f"{VIEW}:{name}:{digest}"


def _wrapped(sql: str) -> str:
    # inside a subquery only a query parses: a statement (DROP, INSERT, ...) never runs
    return f"SELECT * FROM (\n{sql}\n) AS collab_view"


def _unwrapped(message: str) -> str:
    """Spark's message about a view's SQL as if it had run alone: positions counted in the
    owner's SQL (not in :func:`_wrapped`'s), no mention of the wrapping subquery."""

    def line(match: re.Match[str]) -> str:
        return match.group(0).replace(match.group(1), str(max(int(match.group(1)) - 1, 1)), 1)

    message = re.sub(r"\bline (\d+)", line, message)
    message = re.sub(r";?\s*'?(?:Project|SubqueryAlias)\b.*$", "", message)
    return message.replace("collab_view", "the view").rstrip(" ;")


def _isolated(spark: Any, where: str) -> Any:
    """A session of its own for one view: its tables' names are the lake's, so lakes that
    share this process's Spark must not see each other's."""
    try:
        return spark.newSession()
    except Exception as exc:
        raise CollabError(
            f"{where}: views need a Spark session that can open sessions of its own, which "
            "Spark Connect (sc://) does not; use a local, standalone or Kubernetes master"
        ) from exc


def _register(session: Any, entry: Mapping[str, Any]) -> None:
    if "sql" in entry:
        frame = session.sql(_wrapped(entry["sql"]))
    else:
        frame = _load(session, entry["source"], entry["format"])
    frame.createOrReplaceTempView(_quoted(entry["name"]))


def _view_frame(spark: Any, view: Mapping[str, Any]) -> Any:
    session = _isolated(spark, "this view")
    try:
        for entry in view["tables"]:
            _register(session, entry)
        return session.sql(_wrapped(view["sql"]))
    except CollabError:
        raise
    except Exception as exc:
        raise CollabError(f"Spark could not run a view's SQL: {spark_message(exc)}") from exc


def _seq(value: Any) -> list[Any]:
    return [value.apply(i) for i in range(value.size())]


def _named_tables(plan: Any) -> list[list[str]]:
    """The tables a parsed query names (each name's parts), not counting its own CTEs."""
    names: list[list[str]] = []
    ctes: set[str] = set()
    pending = [plan]
    while pending:
        node = pending.pop()
        kind = node.getClass().getSimpleName()
        if kind == "UnresolvedRelation":
            names.append([str(p) for p in _seq(node.multipartIdentifier())])
        elif kind == "UnresolvedWith":
            for pair in _seq(node.cteRelations()):
                ctes.add(str(pair._1()).lower())
                pending.append(pair._2())
        pending += _seq(node.children()) + _seq(node.subqueries())
    named = []
    for parts in names:
        if (len(parts) > 1 or parts[0].lower() not in ctes) and parts not in named:
            named.append(parts)
    return named


def define_view(
    sql: str, hosted: Callable[[str], Mapping[str, Any] | None], *, where: str
) -> dict[str, Any]:
    """A view's definition: its SQL, and every hosted table it reads, those it needs first.

    Parameters
    ----------
    sql
        One Spark SQL query over the lake's tables, named as the lake hosts them.
    hosted
        The record of a hosted table by name (``source``, ``format`` and, for a view,
        ``view``), ``None`` for a name the lake does not host.
    where
        What error messages name (the lake and the view).

    Returns
    -------
    dict
        ``{"sql": ..., "tables": [{"name", "source", "format"} or {"name", "sql"}, ...]}``.
    """
    sql = sql.strip() if isinstance(sql, str) else ""
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    if not sql:
        raise CollabError(f"{where}: give its SQL, one query (SELECT ... FROM <table> ...)")
    session = _isolated(spark_session(), where)

    def refused(exc: BaseException) -> CollabError:
        return CollabError(
            f"{where}: Spark cannot run its SQL: {_unwrapped(spark_message(exc))}. Give one "
            "Spark SQL query over this lake's tables."
        )

    parser = session._jsparkSession.sessionState().sqlParser()
    try:
        parser.parsePlan(sql)  # alone first: a syntax error points into the owner's SQL
        parsed = parser.parsePlan(_wrapped(sql))
    except Exception as exc:
        raise refused(exc) from exc
    tables: list[dict[str, Any]] = []
    for parts in _named_tables(parsed):
        name = ".".join(parts)
        record = hosted(name) if len(parts) == 1 else None  # db.table is not the lake's
        if record is None:
            raise CollabError(
                f"{where}: its SQL reads {name!r}, which this lake does not host. Name the "
                "lake's own tables (add the table first with add_table)."
            )
        needed = [{"name": name, "source": record["source"], "format": record["format"]}]
        if record["format"] == VIEW:
            needed = [*record["view"]["tables"], {"name": name, "sql": record["view"]["sql"]}]
        for entry in needed:
            if not any(t["name"] == entry["name"] for t in tables):
                _register(session, entry)
                tables.append(dict(entry))
    try:  # each name it reads is one of the lake's tables (a view of this session)
        session.sql(_wrapped(sql))
    except Exception as exc:
        raise refused(exc) from exc
    return {"sql": sql, "tables": tables}


def view_lineage(view: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The columns of a view (:func:`define_view`) that pass a hosted table's column through
    unchanged (selected, renamed, filtered, joined or grouped by, not computed), each with
    that table's name and column: those keep what the table publishes about them.

    Read from Spark's analysed plan of the view: a column whose expression id leads back,
    through projections that only select or rename, to a column of one of the hosted tables
    it reads (a union passes a column through only when every branch takes the same one).
    """
    frame = _view_frame(spark_session(), view)
    plan = frame._jdf.queryExecution().analyzed()
    hosted = {entry["name"] for entry in view["tables"]}

    def expression_id(attribute: Any) -> int:
        return int(attribute.exprId().id())

    def sources(node: Any) -> dict[int, tuple[str, str]]:
        kind = node.getClass().getSimpleName()
        if kind == "View":
            table = str(node.desc().identifier().table())
            if table not in hosted:
                return {}
            return {expression_id(a): (table, str(a.name())) for a in _seq(node.output())}
        children = _seq(node.children())
        found: dict[int, tuple[str, str]] = {}
        branches = [sources(child) for child in children]
        for branch in branches:
            found.update(branch)
        if kind in ("Project", "Aggregate"):
            listed = node.projectList() if kind == "Project" else node.aggregateExpressions()
            for item in _seq(listed):
                item_kind = item.getClass().getSimpleName()
                if item_kind == "Alias" and item.child().getClass().getSimpleName() == (
                    "AttributeReference"
                ):
                    origin = found.get(expression_id(item.child()))
                    if origin is not None:
                        found[expression_id(item)] = origin
        elif kind == "Union":
            outputs = [_seq(child.output()) for child in children]
            for i, attribute in enumerate(_seq(node.output())):
                origins = {
                    branch.get(expression_id(output[i]))
                    for branch, output in zip(branches, outputs, strict=True)
                }
                if len(origins) != 1 or None in origins:
                    found.pop(expression_id(attribute), None)
        return found

    found = sources(plan)
    lineage = {}
    for attribute in _seq(plan.output()):
        origin = found.get(expression_id(attribute))
        if origin is not None:
            lineage[str(attribute.name())] = origin
    return lineage


@dataclass(frozen=True)
class TableFacts:
    """What inspection learns: Spark types, nullability, exact rows, 0/1-only columns, and
    per column given categories, the rows holding a value outside them."""

    types: dict[str, str]
    nullable: dict[str, bool]
    rows: int
    binary: frozenset[str]
    unmatched: dict[str, int] = field(default_factory=dict)


# Above this many numeric columns, one Spark aggregation with two expressions per column
# compiles and runs very slowly (191 s for 10,000 columns of 2,000 rows, against about 35 s
# for one pass of the rows through Arrow into numpy, which is used instead).
WIDE_COLUMNS = 200


def inspect(
    source: str,
    fmt: str,
    options: dict[str, str] | None = None,
    *,
    view: Mapping[str, Any] | None = None,
    publication: Publication | None = None,
) -> TableFacts:
    """Types, nullability, exact row count and 0/1-only numeric columns of a table (read as
    :func:`read` does), and for each column the owner's ``publication`` gives categories for
    that the table has, the rows whose value is present but not one of them (in the same
    Spark aggregation)."""
    categories = {} if publication is None else publication.categories
    df = read(source, fmt, options, view=view)
    types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    numeric = sorted(n for n, t in types.items() if t.split("(")[0] in NUMERIC_TYPES)
    outside = {
        f"uc__{c}": _outside_sql(c, values, types[c].split("(")[0] in NUMERIC_TYPES)
        for c, values in categories.items()
        if c in types
    }
    if len(numeric) > WIDE_COLUMNS:
        rows, non_binary, non_null = _counts_through_arrow(df, numeric)
        unmatched = {}
        if outside:  # few columns: one aggregation of their own
            unmatched = df.selectExpr(*(f"{e} AS {_quoted(k)}" for k, e in outside.items()))
            unmatched = unmatched.collect()[0].asDict()
    else:
        rows, non_binary, non_null, unmatched = _counts_in_spark(df, numeric, outside)
    binary = _zero_one(numeric, non_binary, non_null)
    return TableFacts(
        types=types,
        nullable={f.name: f.nullable for f in df.schema.fields},
        rows=rows,
        binary=binary,
        unmatched={k.removeprefix("uc__"): int(v or 0) for k, v in unmatched.items()},
    )


def _zero_one(
    numeric: list[str], non_binary: dict[str, int], non_null: dict[str, int]
) -> frozenset[str]:
    return frozenset(n for n in numeric if non_binary[n] == 0 and non_null[n] > 0)


def binary_columns(df: Any) -> frozenset[str]:
    """The numeric columns of ``df`` that hold only 0 and 1 (and hold a value), as
    :func:`inspect` finds them."""
    types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    numeric = sorted(n for n, t in types.items() if t.split("(")[0] in NUMERIC_TYPES)
    _, non_binary, non_null, _ = _counts_in_spark(df, numeric)
    return _zero_one(numeric, non_binary, non_null)


def _outside_sql(column: str, categories: Sequence[Any], numeric: bool) -> str:
    """SQL counting rows whose ``column`` holds a value outside ``categories``: the rows the
    plans' coding (:func:`_category_index`) reads as "other"."""
    index = _category_index(_quoted(column), categories, numeric)
    return f"SUM(CASE WHEN {index} = {len(categories)}.0 THEN 1 ELSE 0 END)"


def _counts_in_spark(
    df: Any, numeric: list[str], extra: Mapping[str, str] | None = None
) -> tuple[int, dict[str, int], dict[str, int], dict[str, int]]:
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
    aggs += [F.expr(sql).alias(key) for key, sql in (extra or {}).items()]
    row = df.agg(*aggs).collect()[0].asDict()
    return (
        int(row["__rows"]),
        {n: int(row[f"nb__{n}"] or 0) for n in numeric},
        {n: int(row[f"nn__{n}"]) for n in numeric},
        {key: int(row[key] or 0) for key in extra or {}},
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
            numeric = (types.get(name) or "").split("(")[0] in NUMERIC_TYPES
            value = _category_index(quoted, encodings[name], numeric)
        elif types.get(name) == "double":
            value = quoted
        else:
            value = f"CAST({quoted} AS DOUBLE)"
        fields.append(f"{value} AS {quoted}")
    if not labelled:
        fields.append("CAST(1.0 AS DOUBLE) AS `__row`")
    return df.selectExpr(f"struct({', '.join(fields)}) AS r")


def _category_index(quoted: str, categories: Sequence[Any], numeric: bool = False) -> str:
    """SQL for a value's index in ``categories`` (``len(categories)`` for another value, null
    for a missing one): numbers compare as numbers in a numeric column (``1`` is ``1.0``, NaN
    is missing), anything else as text (as ``_schema.category_codes`` does in pandas)."""
    text = f"CAST({quoted} AS STRING)"
    number = f"CAST({quoted} AS DOUBLE)"
    cases = []
    for i, value in enumerate(categories):
        if numeric and isinstance(value, int | float) and not isinstance(value, bool):
            cases.append(f"WHEN {number} = CAST('{float(value)!r}' AS DOUBLE) THEN {i}.0")
        else:
            literal = category_text(value).replace("\\", "\\\\").replace("'", "\\'")
            cases.append(f"WHEN {text} = '{literal}' THEN {i}.0")
    missing = f"{quoted} IS NULL" + (f" OR isnan({number})" if numeric else "")
    return f"CASE WHEN {missing} THEN NULL {' '.join(cases)} ELSE {len(categories)}.0 END"


@dataclass
class CachedTable:
    """A table's plan columns as doubles (one struct column ``r``), with the token of its
    kept rows.

    Spark caches it only when rounds stream its rows from Spark (``persist``): when the rows
    are kept as numpy arrays between rounds, a second copy in Spark's memory would only
    double a lake's footprint.
    """

    make: Callable[[], Any]  # the DataFrame, made on first use
    columns: tuple[str, ...]
    token: str
    persisted: bool = False
    fill: Callable[[], tuple[Any, Any]] | None = None  # the rows without Spark, if it can
    _df: Any = None

    @property
    def df(self) -> Any:
        if self._df is None:
            self._df = self.make()
        return self._df


class TableCache:
    """The process's :class:`CachedTable` entries: one per table, column set and coding.

    One per process, as the SparkSession their DataFrames belong to (``_spark``): lakes of
    one process that host the same source share its entries (the same rows), and a forked
    child starts with none (its Spark is its own).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[tuple[Any, ...], CachedTable] = {}

    def table(
        self,
        key: tuple[Any, ...],
        columns: tuple[str, ...],
        frame: Callable[[], Any],
        fill: Callable[[], Callable[[], tuple[Any, Any]] | None] | None = None,
    ) -> CachedTable:
        """The entry for ``key`` (its source first), made with ``frame()`` (the DataFrame of
        ``columns``) if there is none, at once unless ``fill()`` gives a way to read its rows
        without Spark. A new entry has a new token: rows kept for an earlier entry of the
        same table are never used."""
        with self._lock:
            entry = self._tables.get(key)
            if entry is None:
                # a stream's newer rows replace what is kept of its earlier ones
                for stale in [k for k in self._tables if same_stream(k[0], key[0])]:
                    self._drop(self._tables.pop(stale))
                without_spark = fill() if fill is not None else None
                entry = CachedTable(frame, columns, uuid.uuid4().hex, fill=without_spark)
                if without_spark is None:
                    _ = entry.df  # a source Spark cannot read is named here
                self._tables[key] = entry
            return entry

    def persist(self, table: CachedTable) -> None:
        """Ask Spark to cache the table (when its rows are streamed every round)."""
        with self._lock:
            if not table.persisted:
                table.df.cache()
                table.persisted = True

    def forget(self, source: str) -> None:
        """Drop what is cached of ``source`` (Spark's cache and the rows kept for rounds)."""
        with self._lock:
            for key in [k for k in self._tables if k[0] == source]:
                self._drop(self._tables.pop(key))

    @staticmethod
    def _drop(entry: CachedTable) -> None:
        if entry.persisted:
            entry.df.unpersist()
        row_cache().drop(entry.token)
        spark_states().drop_table(entry.token)  # jobs' states made from its rows

    def forget_after_fork(self) -> None:
        # a forked child starts its own Spark; the parent's DataFrames are not its to use
        self._tables.clear()
        self._lock = threading.Lock()


TABLE_CACHE = TableCache()
os.register_at_fork(after_in_child=TABLE_CACHE.forget_after_fork)
