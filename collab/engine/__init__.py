"""Where a lake computes: Spark jobs over the owner's tables (never imported by scientists)."""

from ._spark import check_java, spark_session
from ._step import compute_dp_sums, compute_stats, compute_update
from ._tables import TableFacts, guess_format, inspect

__all__ = [
    "TableFacts",
    "check_java",
    "compute_dp_sums",
    "compute_stats",
    "compute_update",
    "guess_format",
    "inspect",
    "spark_session",
]
