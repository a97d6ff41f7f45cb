"""Where a lake computes: Spark jobs over the owner's tables (never imported by scientists)."""

from ._delta import DeltaStreamQuery, delta_files, delta_stream_schema
from ._job_state import drop_job_state
from ._spark import check_java, spark_session
from ._step import TableRows, table_rows
from ._streams import (
    STREAM,
    STREAM_FORMATS,
    Landed,
    StreamQuery,
    landing_schema,
    stream_source,
)
from ._tables import (
    CATALOG,
    CATALOG_PREFIX,
    FORMATS,
    VIEW,
    TableFacts,
    binary_columns,
    define_view,
    guess_format,
    inspect,
    read,
    view_lineage,
    view_source,
)

__all__ = [
    "CATALOG",
    "CATALOG_PREFIX",
    "FORMATS",
    "STREAM",
    "STREAM_FORMATS",
    "VIEW",
    "DeltaStreamQuery",
    "Landed",
    "StreamQuery",
    "TableFacts",
    "TableRows",
    "binary_columns",
    "check_java",
    "define_view",
    "delta_files",
    "delta_stream_schema",
    "drop_job_state",
    "guess_format",
    "inspect",
    "landing_schema",
    "read",
    "spark_session",
    "stream_source",
    "table_rows",
    "view_lineage",
    "view_source",
]
