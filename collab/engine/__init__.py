"""Where a lake computes: Spark jobs over the owner's tables (never imported by scientists)."""

from ._spark import check_java, spark_session
from ._step import TableRows, table_rows
from ._tables import TableFacts, guess_format, inspect

__all__ = [
    "TableFacts",
    "TableRows",
    "check_java",
    "guess_format",
    "inspect",
    "spark_session",
    "table_rows",
]
