"""A Delta table read as a stream, with delta-rs (the ``deltalake`` package): no JVM library.

A poller (a thread, every ``POLL_SECONDS``, as a Structured Streaming trigger would) reads the
table's log: at the first start, the data files of the table's current version; after that,
each new version's log entry (``_delta_log/<version>.json``), in order. A version's appended
Parquet files go through the file streams' own admission (:func:`._streams.admit_file`): a
file that does not fit the stream's schema (a version written with ``schema_mode="merge"``
adding a column, say) is set aside whole, with the reason. A version that removes rows
(DELETE, UPDATE, MERGE, an overwrite: a ``remove`` action that changes data) is not a stream
of new rows: it is set aside whole, its rewritten files none of the kept rows, and the later
appended versions are taken (as Spark's Delta source does with ``skipChangeCommits``). A
version that only rearranges files (OPTIMIZE: ``dataChange`` false) adds no rows.

A version's number is its batch: its kept files are named after it, so that a version
admitted again after a crash rewrites the same kept files. The last version admitted is
written to a marker beside the stream's checkpoint after its kept files and its record, so
that a restart neither skips nor repeats a version.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .._errors import CollabError
from ._spark import spark_session
from ._streams import (
    POLL_SECONDS,
    Landed,
    StreamQuery,
    admit_file,
    landing_schema,
    write_schema_file,
)

LOG = "_delta_log"
_ENTRY = re.compile(r"\d{20}\.json")  # a version's log entry (not a compacted range)
MARKER = "delta-version.json"  # in the stream's checkpoint folder: the last version admitted


def is_delta_table(path: str | Path) -> bool:
    return (Path(path) / LOG).is_dir()


def _table(path: str, version: int | None = None) -> Any:
    from deltalake import DeltaTable

    return DeltaTable(path) if version is None else DeltaTable(path, version=version)


def delta_schema(path: str) -> Any:
    """The Delta table's columns as a Spark ``StructType`` (Delta writes its schema in
    Spark's own JSON form)."""
    from pyspark.sql.types import StructType

    try:
        return StructType.fromJson(json.loads(_table(path).schema().to_json()))
    except Exception as exc:
        raise CollabError(
            f"could not read the schema of the Delta table at {path!r} ({exc}); give the "
            "stream's columns with schema='age INT, grade STRING'"
        ) from exc


def delta_stream_schema(path: str, schema: Any = None) -> Any:
    """A Delta stream's schema: ``schema`` (as :func:`._streams.landing_schema` reads it) or
    the table's own."""
    if not is_delta_table(path):
        raise CollabError(
            f"the folder {path!r} is not a Delta table (it has no {LOG} folder): host a "
            "folder of Parquet, CSV or JSON files with format='parquet', 'csv' or 'json'"
        )
    partitions = list(_table(path).metadata().partition_columns)
    if partitions:  # their values live in the log, not in the data files a stream keeps
        raise CollabError(
            f"the Delta table at {path!r} is partitioned (by {', '.join(partitions)}); a "
            "stream reads an unpartitioned Delta table"
        )
    return delta_schema(path) if schema is None else landing_schema(path, "delta", schema)


def delta_files(path: str) -> list[str]:
    """The data files of the table's current version."""
    return [_data_file(path, str(f)) for f in _table(path).file_uris()]


@dataclass(frozen=True)
class Version:
    """One version of a Delta table, from its log entry."""

    number: int
    files: tuple[str, ...]  # the data files it appends, in the log's order
    removes: bool  # whether it removes rows (a remove action that changes data)


def log_version(path: str, number: int) -> Version | None:
    """Version ``number`` from its log entry, or ``None`` when the entry is not there."""
    entry = Path(path) / LOG / f"{number:020d}.json"
    try:
        text = entry.read_text()
    except FileNotFoundError:
        return None
    files: list[str] = []
    removes = False
    for line in text.splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
        if "add" in action and action["add"].get("dataChange", True):
            files.append(_data_file(path, action["add"]["path"]))
        elif "remove" in action and action["remove"].get("dataChange", True):
            removes = True
    return Version(number, tuple(files), removes)


def _data_file(table: str, relative: str) -> str:
    name = unquote(relative)  # the log holds URL-encoded paths relative to the table
    if name.startswith("file:"):
        return name.removeprefix("file://") if name.startswith("file:///") else name[5:]
    return name if name.startswith("/") else str(Path(table) / name)


def latest_version(path: str) -> int:
    """The table's newest version in its log (``-1``: none)."""
    entries = (p.name for p in (Path(path) / LOG).glob("*.json"))
    return max((int(n[:20]) for n in entries if _ENTRY.fullmatch(n)), default=-1)


def read_marker(checkpoint: Path) -> int:
    try:
        return int(json.loads((checkpoint / MARKER).read_text())["version"])
    except FileNotFoundError:
        return -1


def _write_marker(checkpoint: Path, version: int) -> None:
    checkpoint.mkdir(parents=True, exist_ok=True)
    staging = checkpoint / f".{MARKER}"
    staging.write_text(json.dumps({"version": version}))
    os.replace(staging, checkpoint / MARKER)


class DeltaPoller:
    """Admits a Delta table's new versions; shaped like a Structured Streaming query
    (``isActive``, ``exception()``, ``processAllAvailable()``, ``stop()``).

    ``landed(version, [Landed, ...])`` is called after each version's files are kept or set
    aside, before the version is marked admitted.
    """

    def __init__(
        self,
        name: str,
        path: str,
        schema: Any,
        kept: Path,
        checkpoint: Path,
        landed: Callable[[int, list[Landed]], None],
    ) -> None:
        self.path, self.schema, self.kept, self.checkpoint = path, schema, kept, checkpoint
        self._landed = landed
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"collab-delta-{name}", daemon=True)

    def start(self) -> DeltaPoller:
        self._thread.start()
        return self

    @property
    def isActive(self) -> bool:  # named as Spark's StreamingQuery's
        return self._thread.is_alive() and not self._stopping.is_set()

    def exception(self) -> BaseException | None:
        return self._failure

    def processAllAvailable(self) -> None:  # named as Spark's StreamingQuery's
        if self.isActive:
            self._poll_safely()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set() and self._poll_safely():
            self._stopping.wait(POLL_SECONDS)

    def _poll_safely(self) -> bool:
        """One poll; ``False`` (and the poller stopped, its failure kept) when it failed."""
        try:
            with self._lock:
                self._poll()
            return True
        except Exception as exc:
            self._failure = exc
            self._stopping.set()
            return False

    def _poll(self) -> None:
        done = read_marker(self.checkpoint)
        if done < 0:  # the first start: the table as it is, its files in a set order
            table = _table(self.path)
            current = int(table.version())
            if current < 0:
                return
            self._admit(current, sorted(_data_file(self.path, str(f)) for f in table.file_uris()))
            return
        for number in range(done + 1, latest_version(self.path) + 1):
            if self._stopping.is_set():
                return
            version = log_version(self.path, number)
            label = f"{self.path} version {number}"
            if version is None:
                reason = f"version {number}'s log entry is gone; its rows were not read"
                self._record(number, [Landed(label, number, False, reason=reason)])
            elif version.removes:
                reason = f"version {number} removes rows: a stream takes appended rows only"
                self._record(number, [Landed(label, number, False, reason=reason)])
            else:
                self._admit(number, list(version.files))

    def _admit(self, number: int, files: list[str]) -> None:
        spark = spark_session()
        outcomes = [
            admit_file(spark, f"file:{f}", "parquet", self.schema, self.kept, number, i)
            for i, f in enumerate(files)
        ]
        self._record(number, outcomes)

    def _record(self, number: int, outcomes: list[Landed]) -> None:
        if outcomes:
            self._landed(number, outcomes)
        _write_marker(self.checkpoint, number)


class DeltaStreamQuery(StreamQuery):
    """A stream's query over a Delta table: the poller in place of Spark's file source."""

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            write_schema_file(self.kept, self.schema)
            self._query = DeltaPoller(
                self.name, self.path, self.schema, self.kept, self.checkpoint, self._landed
            ).start()
