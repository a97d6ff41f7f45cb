"""The data owner's side of a lake: tables kept in place, scientists, requests, records."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._args import text, whole
from .._display import RichDisplay
from .._errors import CollabError
from .._scratch import remove_scratch, scratch_folder
from ..transport import Datasite
from ._records import NAME, OWNER
from ._requests import Decisions, Request
from ._served import ServedProcess
from ._state import LakeState, listen_to_spending, stop_listening
from ._streams import Scoring, Streams

__all__ = ["Lake", "Request", "Scoring"]


class Lake(Streams, Decisions, RichDisplay):
    """A data owner's lake: a PySyft Datasite with tables that Spark reads where they live.

    Use :meth:`launch` to start one, in this process (``port=None``) or served over HTTP.
    """

    def __init__(
        self,
        name: str,
        datasite: Datasite,
        state: LakeState,
        data_dir: Path,
        *,
        temporary: bool = False,
        watch: bool = True,
    ) -> None:
        self.name = name
        self.data_dir = data_dir
        self._temporary = temporary
        self._datasite = datasite
        self._state = state
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._reported: dict[str, dict[str, Any]] = {}  # scientist -> figures last sent
        self._report_lock = threading.Lock()
        listen_to_spending(state.path, self._spent)
        self._runs_streams = watch  # a handle on a lake another process serves runs none
        self._queries: dict[str, Any] = {}  # stream -> its query
        self._scorings: list[Scoring] = []
        self._watcher = threading.Thread(
            target=self._watch, name=f"collab-lake-{name}", daemon=True
        )
        if watch:
            self._watcher.start()
            self._start_streams()  # streams run in the process that watches the lake

    # lifecycle ----------------------------------------------------------------------------
    @classmethod
    def launch(
        cls,
        name: str,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        data_dir: str | Path | None = None,
        spark_master: str | None = None,
        spark_conf: Mapping[str, str] | None = None,
        admin_password: str | None = None,
        database_url: str | None = None,
    ) -> Lake:
        """Start the lake ``name``: in this process, or served at ``http://host:port``.

        Launching again with the same ``data_dir`` reopens the lake with everything it had:
        tables, scientists, approvals, the privacy-budget ledger and the audit log.

        Parameters
        ----------
        name
            The lake's name, shown to scientists (letters, digits, ``-``, ``_``, ``.``).
        port
            Serve the Datasite over HTTP on this port; ``None`` runs it in this process.
        data_dir
            Where the lake keeps its records; when ``None``, a fresh temporary folder, removed
            when the lake stops or this process exits.
        spark_master, spark_conf
            Spark's master URL (``local[*]`` by default; ``spark://``, ``k8s://`` and ``sc://``
            work too) and extra Spark settings for the lake's jobs.
        admin_password
            Replaces PySyft's default admin password (needed again to reopen the lake).
        database_url
            Keep the Datasite's records in PostgreSQL (``postgresql://user:pw@host/db``)
            instead of SQLite under ``data_dir``.
        """
        if not isinstance(name, str) or not NAME.match(name):
            raise CollabError(
                f"{name!r} is not a usable lake name: use 1-63 letters, digits, '-', '_' or '.'"
            )
        if port is not None:
            whole(port, "port", least=1, most=65535)
        text(host, "host")
        temporary = data_dir is None
        directory = Path(data_dir).resolve() if data_dir else scratch_folder("lake", name)
        try:
            state = LakeState(directory / "collab.sqlite")
            instance = state.setting("instance")
            reopening = instance is not None
            if not reopening:
                instance = uuid.uuid4().hex[:12]
            server = None
            if port is not None:
                server = ServedProcess(name, host, port, state.path)
                server.check_port_free()

            def login_refused(email: str, reason: str) -> None:
                # PySyft refuses a login without a trace; the owner should see attempts
                state.log("lake", "login failed", email=email, reason=reason)

            datasite = Datasite.launch(
                name,
                server=server,
                instance=instance,
                reset=not reopening,
                admin_password=admin_password,
                storage_dir=directory / "syft",
                database_url=database_url,
                login_refused=login_refused,
            )
        except BaseException:
            if temporary:  # nothing of a lake that did not start stays behind
                remove_scratch(directory)
            raise
        # recorded once the Datasite runs: a launch that failed leaves a lake to start afresh
        state.set_setting("instance", instance)
        state.set_setting("name", name)
        state.set_setting("spark", {"master": spark_master, "conf": dict(spark_conf or {})})
        state.log(OWNER, "lake reopened" if reopening else "lake started", url=datasite.url)
        return cls(name, datasite, state, directory, temporary=temporary)

    @classmethod
    def attach(cls, data_dir: str | Path, url: str, admin_password: str) -> Lake:
        """The owner's handle on a lake that another process serves (``collab lake serve``)."""
        directory = Path(data_dir).resolve()
        if not (directory / "collab.sqlite").exists():
            raise CollabError(f"{directory} holds no lake; give the data_dir of a served lake")
        state = LakeState(directory / "collab.sqlite")
        name = state.setting("name")
        datasite = Datasite.attach(name, url, admin_password)
        return cls(name, datasite, state, directory, watch=False)

    @property
    def url(self) -> str | None:
        """The lake's HTTP address, or ``None`` when it runs in this process."""
        return self._datasite.url

    def stop(self) -> None:
        """Stop the lake's Datasite; its records stay in :attr:`data_dir` (a temporary one is
        removed)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._stop_streams()
        stop_listening(self._state.path, self._spent)
        self._datasite.stop()
        self._state.log(OWNER, "lake stopped")
        if self._temporary:
            remove_scratch(self.data_dir)

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url or "in-process"
        return f"<Lake {self.name!r} ({where}) tables={self.tables}>"

    def _display_(self) -> tuple[Any, str | None, Any]:
        from .._display import lake_info, lake_report

        return lake_report(lake_info(self)), None, None
