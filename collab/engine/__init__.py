"""Where a lake computes: Spark jobs over the owner's tables (never imported by scientists)."""

from ._job_state import drop_job_state
from ._spark import check_java, spark_session
from ._step import TableRows, table_rows
from ._tables import (
    CATALOG,
    CATALOG_PREFIX,
    FORMATS,
    VIEW,
    TableFacts,
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
    "VIEW",
    "TableFacts",
    "TableRows",
    "check_java",
    "define_view",
    "drop_job_state",
    "guess_format",
    "inspect",
    "read",
    "spark_session",
    "table_rows",
    "view_lineage",
    "view_source",
]
