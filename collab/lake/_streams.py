"""Streams an owner hosts (folders new files land in) and models scored in place.

A stream is published like a table (its schema and policy; scientists see it marked as a
stream); its rows are the files admitted so far, which a Structured Streaming query in the
owner's process keeps (:mod:`collab.engine._streams`). ``lake.score`` applies a collab model
to a table or stream with Spark and writes the predictions to the owner's storage.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Unpack

import pandas as pd

from .._args import names
from .._errors import CollabError
from .._publication import Publication, Settings
from .._schema import coarse_rows
from ..plans import Classifier, Model, load_model
from ._hosting import Hosting
from ._records import OWNER


def job_source(state: Any, job_id: str, record: dict[str, Any]) -> str:
    """Where job ``job_id`` reads a table's rows: for a stream, the rows that had arrived
    when the job first read it (every round of a job reads the same rows), else the
    table's source."""
    if not record.get("stream"):
        return str(record["source"])
    key = f"stream-rows:{job_id}:{record['schema']['name']}"
    pinned = state.setting(key)
    if pinned is None:
        pinned = str(record["source"])
        state.set_setting(key, pinned)
    return str(pinned)


def model_hash(model: Model) -> str:
    """The SHA-256 of the model's saved document (what ``model.save`` writes)."""
    document = json.dumps(model.to_document(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(document.encode()).hexdigest()


class Scoring:
    """A model scoring a table or stream in the owner's lake (from :meth:`Streams.score`).

    ``rows`` is what has been written to ``into``; on a stream it grows as rows land, until
    :meth:`stop`. Scoring the same stream into the same ``into`` again carries on where it
    stopped (its checkpoint sits beside ``into``): every row is written once.
    """

    def __init__(self, lake: str, table: str, into: str, query: Any, rows: int = 0) -> None:
        self.lake, self.table, self.into = lake, table, into
        self._query = query
        self._rows = rows

    @property
    def streaming(self) -> bool:
        return self._query is not None

    @property
    def running(self) -> bool:
        return self._query is not None and self._query.running

    @property
    def rows(self) -> int:
        """The rows scored and written so far."""
        from ..engine._scoring import written_rows

        return written_rows(self.into) if self._query is not None else self._rows

    def wait(self, rows: int | None = None, timeout: float | None = None) -> int:
        """Wait until ``rows`` rows are written (``None``: every row landed so far); the rows
        written. Raises :class:`TimeoutError` when ``timeout`` seconds pass first."""
        from ..engine._scoring import wait_for_rows

        if self._query is None:
            return self._rows
        if rows is None:
            self._query.process_available()
            return self.rows
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise ValueError(f"rows must be a whole number of rows, not {rows!r}")
        where = f"lake {self.lake!r}: scoring {self.table!r}"
        query = self._query

        def count() -> int:
            have = self.rows
            if have < rows and not query.running:
                why = query.error()
                raise CollabError(
                    f"{where}: scoring has stopped at {have} rows"
                    + (f": {why}" if why else "; score again into the same path to carry on")
                )
            return have

        return wait_for_rows(count, rows, timeout, where)

    @property
    def error(self) -> str | None:
        """Why scoring a stream stopped, when it failed."""
        return None if self._query is None else self._query.error()

    def stop(self) -> None:
        """Stop scoring (a stream); score again into the same ``into`` to carry on."""
        if self._query is not None:
            self._query.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "done" if self._query is None else "stopped"
        return f"<Scoring {self.table!r} into {self.into!r} ({state}, {self.rows} rows)>"


class Streams(Hosting):
    """The owner's streams and scoring (part of :class:`collab.Lake`)."""

    _stop: threading.Event
    _runs_streams: bool
    _queries: dict[str, Any]
    _scorings: list[Scoring]

    def add_stream(
        self,
        name: str,
        path: str | Path,
        *,
        format: str = "parquet",
        schema: Any = None,
        **settings: Unpack[Settings],
    ) -> Any:
        """Host a stream: a folder new files land in, each read whole once it appears.

        Spark Structured Streaming watches the folder; each new file is checked against the
        stream's columns and its rows join the stream's, or, when it does not fit (other
        columns, a value of another type, an unreadable file), it is set aside whole and
        reported in :meth:`stream_status` and the audit log, and the stream goes on.
        Scientists see the stream like a table, marked as a stream; what they compute on it
        reads the rows that have arrived.

        Parameters
        ----------
        name
            The stream's name as scientists see it.
        path
            The folder files land in. Write each file under a name starting with ``.`` or
            ``_`` and rename it when complete, so that it appears whole. For ``delta``, the
            Delta table's folder.
        format
            ``parquet``, ``csv`` (with a header line) or ``json`` (one object a line); or
            ``delta`` for a Delta table read as a stream: each new version's appended files
            are taken as landed files are, a version that removes or rewrites rows (DELETE,
            UPDATE, MERGE, an overwrite) is set aside and the versions after it are taken.
        schema
            The stream's columns, as ``"age INT, grade STRING"`` or a pyspark
            ``StructType``; read from the files present (or the Delta table's schema) when
            not given.
        description, private_columns, column_descriptions, bounds, categories, policy
            As for :meth:`add_table`.

        Returns
        -------
        TableSchema
            What scientists will see.
        """
        from .. import engine

        self._check_new_name(name, "stream")
        label = f"lake {self.name!r}: stream {name!r}"
        if not isinstance(format, str) or format.lower() not in engine.STREAM_FORMATS:
            raise CollabError(
                f"{label}: format must be one of {', '.join(engine.STREAM_FORMATS)}, not {format!r}"
            )
        fmt = format.lower()
        folder = Path(path)
        if not folder.is_dir():
            raise CollabError(
                f"{label}: no folder at {str(path)!r}; a stream reads the files that land in "
                "a folder (create it first)"
            )
        publication = Publication.checked(label, settings)
        self._spark()
        try:
            if fmt == "delta":
                struct = engine.delta_stream_schema(str(folder.resolve()), schema)
            else:
                struct = engine.landing_schema(str(folder.resolve()), fmt, schema)
        except CollabError as exc:
            raise CollabError(f"{label}: {exc}") from exc
        except TypeError as exc:
            raise TypeError(f"{label}: {exc}") from exc
        home = self._stream_home(name)
        from ..engine._streams import write_schema_file

        write_schema_file(home / "rows", struct)
        where = {
            "source": engine.stream_source(home / "rows", -1),
            "format": engine.STREAM,
            "stream": {
                "path": str(folder.resolve()),
                "format": fmt,
                "schema": struct.json(),
            },
        }
        published = self._publish(
            "stream", name, where, publication, self._binary_present(folder, fmt, struct)
        )
        self._start_stream(name)
        return published

    @staticmethod
    def _binary_present(folder: Path, fmt: str, struct: Any) -> frozenset[str]:
        """The columns holding only 0 and 1 in the files present (a yes/no label), read as
        the stream will read them; none when the folder is empty or a file does not fit
        (publish a label's ``categories`` then)."""
        from .. import engine

        if fmt != "delta" and not any(not p.name.startswith(("_", ".")) for p in folder.iterdir()):
            return frozenset()
        try:
            reader = engine.spark_session().read.schema(struct).option("mode", "FAILFAST")
            if fmt == "delta":  # the table's current version
                files = engine.delta_files(str(folder))
                return engine.binary_columns(reader.parquet(*files)) if files else frozenset()
            if fmt == "csv":
                reader = reader.option("header", "true")
            return engine.binary_columns(reader.format(fmt).load(str(folder)))
        except Exception:
            return frozenset()

    def _stream_home(self, name: str) -> Path:
        return self.data_dir / "streams" / name

    @property
    def streams(self) -> list[str]:
        """The streams this lake hosts (among :attr:`tables`)."""
        return [t for t in self.tables if (self._state.table(t) or {}).get("stream")]

    # the queries ----------------------------------------------------------------------------
    def _start_streams(self) -> None:
        for name in self.streams:
            try:
                self._start_stream(name)
            except Exception as exc:  # one stream that cannot start leaves the others
                self._state.log("lake", "stream not started", table=name, error=str(exc)[:400])

    def _start_stream(self, name: str) -> None:
        from pyspark.sql.types import StructType

        from ..engine import DeltaStreamQuery, StreamQuery

        record = self._record(name)
        stream = record["stream"]
        self._spark()
        home = self._stream_home(name)
        kind = DeltaStreamQuery if stream["format"] == "delta" else StreamQuery
        query = kind(
            name,
            stream["path"],
            stream["format"],
            StructType.fromJson(json.loads(stream["schema"])),
            home / "rows",
            home / "checkpoint",
            lambda batch, landed: self._landed(name, batch, landed),
        )
        query.start()
        self._queries[name] = query
        self._state.log("lake", "stream started", table=name, path=stream["path"])

    def _stop_streams(self) -> None:
        for scoring in list(self._scorings):
            scoring.stop()
        for query in list(self._queries.values()):
            query.stop()
        self._queries.clear()

    def _landed(self, name: str, batch: int, landed: list[Any]) -> None:
        """Record a micro-batch's files (called by the stream's query before it commits)."""
        from ..engine._streams import stream_batch, stream_source

        key = f"stream:{name}"
        status = self._state.setting(key) or {"files": {}}
        now = time.time()
        for item in landed:
            status["files"][item.file] = {
                "batch": item.batch,
                "taken": item.taken,
                "rows": item.rows,
                "reason": item.reason,
                "at": now,
            }
        self._state.set_setting(key, status)
        with self._lock:
            record = self._record(name)
            kept, last = stream_batch(record["source"])
            taken = [f for f in status["files"].values() if f["taken"]]
            record["source"] = stream_source(kept, max(last, batch))
            record["rows"] = sum(f["rows"] for f in taken)
            record["schema"] = {**record["schema"], "rows_at_least": coarse_rows(record["rows"])}
            self._state.put_table(name, record)
        took = [item for item in landed if item.taken]
        if took:
            self._state.log(
                "lake",
                "stream files taken",
                table=name,
                batch=batch,
                files=len(took),
                rows=sum(item.rows for item in took),
            )
        for item in landed:
            if not item.taken:
                self._state.log(
                    "lake", "stream file set aside", table=name, file=item.file, reason=item.reason
                )

    def stream_status(self, name: str, *, wait: bool = False) -> dict[str, Any]:
        """What stream ``name`` has taken and set aside: ``running`` (its query, in the
        process that serves the lake), ``files_taken``,
        ``rows_taken``, ``files_set_aside`` and ``files``, a DataFrame of every landed file
        (``file``, ``taken``, ``rows``, ``reason`` it was set aside, ``batch``). With
        ``wait``, first admit every file landed so far."""
        record = self._record(name)
        if not record.get("stream"):
            raise CollabError(
                f"lake {self.name!r}: {name!r} is a table, not a stream; its streams are: "
                f"{', '.join(self.streams) or 'none'}"
            )
        query = self._queries.get(name)
        if wait and query is not None:
            query.process_available()
        files = (self._state.setting(f"stream:{name}") or {"files": {}})["files"]
        frame = pd.DataFrame(
            [
                {
                    "file": file,
                    "taken": entry["taken"],
                    "rows": entry["rows"],
                    "reason": entry["reason"],
                    "batch": entry["batch"],
                }
                for file, entry in files.items()
            ],
            columns=["file", "taken", "rows", "reason", "batch"],
        )
        taken = frame[frame["taken"].astype(bool)]
        return {
            "stream": name,
            "path": record["stream"]["path"],
            # None on a handle attached to a lake another process serves (which runs it)
            "running": bool(query is not None and query.running) if self._runs_streams else None,
            "error": None if query is None else query.error(),
            "files_taken": len(taken),
            "rows_taken": int(taken["rows"].sum()) if len(taken) else 0,
            "files_set_aside": len(frame) - len(taken),
            "files": frame,
        }

    def followed(self, job: str) -> pd.DataFrame:
        """The updates of followed job ``job`` (its id) on this lake, from its records: per
        update, the stream's batches it read (``after``, exclusive, to ``upto``), its new
        ``rows``, the newest file's arrival (``landed``) and when the rows were pinned
        (``at``). Every taken row of the stream falls in one update's range."""
        from ._follow import book_key

        approval = self._state.approval(job)
        if approval is None:
            raise CollabError(f"lake {self.name!r} has no job {job!r}")
        book = self._state.setting(book_key(job, approval.table)) or {"updates": {}}
        columns = ["update", "after", "upto", "train_after", "rows", "landed", "at"]
        return pd.DataFrame(
            [
                {"update": int(k), **v}
                for k, v in sorted(book["updates"].items(), key=lambda i: int(i[0]))
            ],
            columns=columns,
        )

    # scoring --------------------------------------------------------------------------------
    def score(
        self,
        model: Model | str | Path,
        table: str,
        *,
        into: str | Path,
        keep: Iterable[str] = (),
    ) -> Scoring:
        """Apply a collab model to a table or stream of this lake with Spark and write, to
        ``into`` (a Parquet folder in the owner's storage), the ``keep`` columns, the
        ``prediction`` and, for a classifier, ``probability_<class>`` of each class.

        On a stream it goes on scoring rows as they land, until ``stop()``; scoring the same
        stream into the same ``into`` again carries on from its checkpoint (``into`` +
        ``.checkpoint``), so that every row is written once. Each start is audited with the
        model's hash.

        Parameters
        ----------
        model
            A trained collab model, or the path of the JSON file ``model.save`` wrote (a
            pickle is never read).
        table
            A table, view or stream this lake hosts.
        into
            Where the scored rows are written (replaced, for a table).
        keep
            Columns of the table to write beside the prediction (an identifier, say).
        """
        from .. import engine
        from ..engine import _scoring

        label = f"lake {self.name!r}: scoring {table!r}"
        if isinstance(model, str | Path):
            model = load_model(model)
        if not isinstance(model, Model):
            raise TypeError(
                f"{label}: give a trained collab model or the path of its saved JSON file "
                f"(model.save('model.json')), not {type(model).__name__}"
            )
        record = self._record(table)
        columns = self.schema(table).column_names
        try:
            kept = names(keep, "keep")
        except TypeError as exc:
            raise TypeError(f"{label}: {exc}") from exc
        inputs = [str(c) for c in model.feature_names_in_]
        for column in (*inputs, *kept):
            if column not in columns:
                role = "the model reads" if column in inputs else "keep names"
                raise CollabError(
                    f"{label}: {role} column {column!r}, which table {table!r} does not have; "
                    f"its columns are {', '.join(columns)}"
                )
        classes = model.classes_ if isinstance(model, Classifier) else None
        outputs = [_scoring.PREDICTION]
        if classes is not None:
            outputs += [_scoring.probability_column(c) for c in classes]
        clash = [c for c in kept if c in outputs]
        if clash:
            raise CollabError(
                f"{label}: keep names {clash[0]!r}, a column the scores are written to; "
                "rename it in a view first"
            )
        if not isinstance(into, str | Path) or not str(into).strip():
            raise TypeError(f"{label}: into must be the path of a folder to write, not {into!r}")
        target = str(Path(into).resolve())
        if any(s.into == target and s.running for s in self._scorings):
            raise CollabError(f"{label}: a scoring into {target!r} is running; stop it first")
        self._spark()
        settings = {
            "document": model.to_document(learned_only=True),
            "keep": kept,
            "inputs": inputs,
            "classes": classes,
        }
        digest = model_hash(model)
        streaming = bool(record.get("stream"))
        self._state.log(
            OWNER,
            "scoring started",
            table=table,
            into=target,
            model=model.family,
            model_hash=digest,
            keep=list(kept),
            stream=streaming,
        )
        if streaming:
            from pyspark.sql.types import StructType

            folder = str(self._stream_home(table) / "rows")
            schema = StructType.fromJson(json.loads(record["stream"]["schema"]))
            query = _scoring.ScoreQuery(folder, schema, target, **settings)
            scoring = Scoring(self.name, table, target, query)
            self._scorings.append(scoring)
            return scoring
        frame = engine.read(record["source"], record["format"], view=record.get("view"))
        rows = _scoring.score_table(frame, target, **settings)
        self._state.log(OWNER, "scoring done", table=table, into=target, rows=rows)
        return Scoring(self.name, table, target, None, rows)
