"""One local step of a plan as a Spark job over the table's partitions.

Each partition's rows pass from the JVM to Python once per step as Arrow batches; the
plan's arithmetic (``collab.plans._steps``) runs vectorised on them inside the task, and
only one summed vector per partition comes back to the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..plans import LogisticRegression
from ..plans._steps import Standardizer, local_update, table_stats
from ._tables import columns_as_doubles


def _over_partitions(
    df: Any, compute: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    def per_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import numpy as np
        import pyarrow as pa
        from pyspark import TaskContext

        blocks = [
            np.column_stack(
                [b.column(i).to_numpy(zero_copy_only=False) for i in range(b.num_columns)]
            ).astype(np.float64)
            for b in batches
            if b.num_rows
        ]
        if blocks:
            data = np.vstack(blocks)
            vector = compute(data[:, :-1], data[:, -1])
        else:
            vector = None
        if vector is not None:
            pid = TaskContext.get().partitionId()
            yield pa.RecordBatch.from_arrays(
                [pa.array([pid], pa.int32()), pa.array([vector.tobytes()], pa.binary())],
                names=["pid", "vec"],
            )

    rows = df.mapInArrow(per_partition, "pid int, vec binary").collect()
    parts = sorted((r["pid"], np.frombuffer(r["vec"], dtype=np.float64)) for r in rows)
    if not parts:
        return np.zeros(0)
    return np.sum([v for _, v in parts], axis=0)


def compute_stats(source: str, fmt: str, plan: LogisticRegression) -> np.ndarray:
    """Summed standardisation statistics of the plan's columns over the table."""
    df = columns_as_doubles(source, fmt, plan.columns)
    out = _over_partitions(df, table_stats)
    return out if out.size else table_stats(np.zeros((0, len(plan.features))), np.zeros(0))


def compute_update(
    source: str,
    fmt: str,
    plan: LogisticRegression,
    weights: np.ndarray,
    standardizer: Standardizer,
) -> np.ndarray:
    """The lake's summed round update (see :func:`collab.plans._steps.local_update`)."""
    df = columns_as_doubles(source, fmt, plan.columns)

    def compute(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return local_update(X, y, weights, standardizer, plan)

    out = _over_partitions(df, compute)
    return out if out.size else np.zeros(len(plan.features) + 4)
