"""Scoring in place: a collab model applied by Spark to a lake's table or stream.

The model travels to Spark's workers as its JSON document (:meth:`Model.to_document`) and is
rebuilt there; its predictions are written with the columns the owner keeps. A stream is
scored by a Structured Streaming query over its kept rows into Spark's file sink, whose
checkpoint (beside the output) makes every row scored once across a stop and a restart.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._spark import spark_session
from ._streams import KEEP_LOOKING, POLL_SECONDS

PREDICTION = "prediction"


def probability_column(value: Any) -> str:
    return f"probability_{value}"


def _prediction_type(classes: np.ndarray | None) -> str:
    if classes is None:
        return "double"
    kind = classes.dtype.kind
    return {"i": "bigint", "u": "bigint", "f": "double", "b": "boolean"}.get(kind, "string")


def scored_schema(frame_schema: Any, keep: Sequence[str], classes: np.ndarray | None) -> str:
    """The DDL of the written rows: the kept columns, the prediction, the probabilities."""
    types = {f.name: f.dataType.simpleString() for f in frame_schema.fields}
    columns = [f"`{c}` {types[c]}" for c in keep]
    columns.append(f"`{PREDICTION}` {_prediction_type(classes)}")
    if classes is not None:
        columns += [f"`{probability_column(c)}` double" for c in classes]
    return ", ".join(columns)


def scored(
    frame: Any,
    document: Mapping[str, Any],
    keep: Sequence[str],
    inputs: Sequence[str],
    classes: np.ndarray | None,
) -> Any:
    """``frame`` (batch or streaming) scored by the model ``document`` describes."""
    keep = list(keep)
    wanted = list(dict.fromkeys([*keep, *inputs]))
    schema = scored_schema(frame.schema, keep, classes)
    kind = _prediction_type(classes)
    document = dict(document)

    def predict(batches: Any) -> Any:
        import pandas as pd

        from ..plans._model import model_from_document

        model = model_from_document(document)
        for batch in batches:
            out = pd.DataFrame({c: batch[c] for c in keep})
            if classes is None:
                out[PREDICTION] = np.asarray(model.predict(batch), dtype=float)
            else:
                proba = model.predict_proba(batch) if len(batch) else np.zeros((0, len(classes)))
                chosen = classes[np.argmax(proba, axis=1)] if len(batch) else classes[:0]
                out[PREDICTION] = chosen.astype(str) if kind == "string" else chosen
                for j, value in enumerate(classes):
                    out[probability_column(value)] = proba[:, j].astype(float)
            yield out

    return frame.select(*(f"`{c}`" for c in wanted)).mapInPandas(predict, schema)


def score_table(frame: Any, into: str, **model: Any) -> int:
    """Score a table's rows once into ``into`` (Parquet, replaced); the rows written."""
    scored(frame, **model).write.mode("overwrite").parquet(into)
    return written_rows(into)


def written_rows(into: str) -> int:
    """The rows committed at ``into`` (what Spark's file sink has committed, for a stream)."""
    if not Path(into).exists():
        return 0
    try:
        return int(spark_session().read.parquet(into).count())
    except Exception:
        return 0


def checkpoint_beside(into: str) -> str:
    path = Path(into)
    return str(path.with_name(path.name + ".checkpoint"))


class ScoreQuery:
    """The streaming query scoring a stream's kept rows as they land."""

    def __init__(self, kept: str, schema: Any, into: str, **model: Any) -> None:
        self.into = into
        spark = spark_session()
        source = (
            spark.readStream.schema(schema)
            .option("pathGlobFilter", "*.parquet")
            .option("maxFileAge", KEEP_LOOKING)
            .parquet(kept)
        )
        self._query = (
            scored(source, **model)
            .writeStream.format("parquet")
            .option("path", into)
            .option("checkpointLocation", checkpoint_beside(into))
            .outputMode("append")
            .trigger(processingTime=f"{POLL_SECONDS} seconds")
            .start()
        )

    @property
    def running(self) -> bool:
        return bool(self._query.isActive)

    def error(self) -> str | None:
        failure = self._query.exception()
        if failure is None:
            return None
        from ._spark import spark_message

        return spark_message(failure)

    def process_available(self) -> None:
        if self._query.isActive:
            try:
                self._query.processAllAvailable()
            except Exception:  # the query stopped: error() says why
                pass

    def stop(self) -> None:
        try:
            self._query.stop()
        except Exception:
            pass


def wait_for_rows(count: Any, rows: int, timeout: float | None, what: str) -> int:
    """Poll ``count()`` until it reaches ``rows``; :class:`TimeoutError` after ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        have = count()
        if have >= rows:
            return have
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {have} rows scored of the {rows} awaited in {timeout} s")
        time.sleep(min(POLL_SECONDS / 2, 0.5))


__all__ = [
    "PREDICTION",
    "ScoreQuery",
    "checkpoint_beside",
    "probability_column",
    "score_table",
    "scored",
    "wait_for_rows",
    "written_rows",
]
