"""``LakeDirectory``: the saved lakes as the JupyterLab Data Lakes panel shows them.

It logs in with the saved connections (``collab.connect``) and answers with public facts
only: table schemas (names, types, kinds, the categories owners publish, private flags),
coarsened row counts and request metadata. No password, row or per-row value is ever part
of an answer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .. import _connections
from .._display import categories_payload
from .._errors import CollabError, LakeError, PrivacyError
from .._schema import ColumnSchema
from ..scientist import Federation, connect
from ..transport import Datasite, recognise

T = TypeVar("T")


class NotFound(CollabError):
    """No saved lake (or template) has that name."""


class NotOwner(CollabError):
    """The saved connection to a lake is not its owner's, so its requests are not shown."""


def _describe(connection: _connections.Connection, exc: Exception) -> str:
    """``exc`` as one line that names the saved lake."""
    name, url = connection.name, connection.url
    message = str(exc) or type(exc).__name__
    if isinstance(exc, LakeError) and exc.lake == url:  # named by its URL before any login
        message = message.removeprefix(f"lake {url!r}: ")
        if message.startswith("is not reachable"):  # keep the cause, not urllib3's retries
            cause = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", message)
            reason = f" ({cause.group(1).strip()})" if cause else ""
            return f"lake {name!r} at {url} is not reachable{reason}. Is the lake running?"
        return f"lake {name!r} at {url} {message}"
    return message if repr(name) in message else f"lake {name!r}: {message}"


def column_info(column: ColumnSchema) -> dict[str, Any]:
    """One column as the Data Lakes panel lists it: its name, type, kind, whether it is
    private, and the categories its owner publishes (``None`` where there are none)."""
    return {
        "name": column.name,
        "type": column.type,
        "private": column.private,
        "kind": column.kind,
        "categories": categories_payload(column.categories),
    }


class _Link:
    """The logged-in handles on one saved lake, made again when the saving changes."""

    def __init__(self, connection: _connections.Connection, password: str) -> None:
        self.connection = connection
        self.password = password
        self.lock = threading.Lock()
        self._federation: Federation | None = None
        self._admin: Datasite | None = None

    def federation(self) -> Federation:
        if self._federation is None:
            c = self.connection
            self._federation = connect([c.url], email=c.email, password=self.password)
        return self._federation

    def admin(self) -> Datasite:
        if self._admin is None:
            self._admin = Datasite.attach(self.connection.name, self.connection.url, self.password)
        return self._admin

    @property
    def logged_in(self) -> bool:
        return self._federation is not None or self._admin is not None

    def forget(self) -> None:
        self._federation = None
        self._admin = None


class LakeDirectory:
    """The lakes saved in ``<directory>/connections.json`` (the Jupyter config dir's
    ``collab/`` by default), their tables and, for owners, their requests.

    Logins are kept between calls and made again once when a call fails (the lake may have
    restarted). Every method blocks: call it from a worker thread, not an event loop.
    """

    def __init__(self, directory: Path | None = None, *, workers: int = 4) -> None:
        self._directory = directory
        self._links: dict[str, _Link] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collab-lakes")

    @property
    def directory(self) -> Path:
        return self._directory or _connections.connections_dir()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --------------------------------------------------------------------------------------
    def lakes(self) -> list[dict[str, Any]]:
        """Every saved lake with its tables, or offline with the reason; one lake's failure
        never hides the others."""
        connections = _connections.load_connections(self.directory)
        futures = [self._pool.submit(self._lake_info, c) for c in connections]
        return [f.result() for f in futures]

    def requests(self, lake: str) -> list[dict[str, Any]]:
        """The collab requests made to ``lake``, which the saved connection must own."""
        connection = self._connection(lake)
        if connection.role != "owner":
            raise NotOwner(
                f"lake {lake!r} is saved with role {connection.role!r}; its requests are shown "
                "to its owner only (save an owner connection: collab.connect([url], "
                "email='info@openmined.org', password=<admin password>, role='owner', "
                "save=True))"
            )
        link = self._link(connection)
        return self._retry(link, lambda: self._requests(link))

    # --------------------------------------------------------------------------------------
    def _connection(self, lake: str) -> _connections.Connection:
        connections = _connections.load_connections(self.directory)
        for connection in connections:
            if connection.name == lake:
                return connection
        saved = ", ".join(c.name for c in connections) or "none"
        raise NotFound(f"no saved lake is called {lake!r}; saved lakes: {saved}")

    def _link(self, connection: _connections.Connection) -> _Link:
        password = _connections.password_for(connection, self.directory)
        with self._lock:
            link = self._links.get(connection.name)
            if link is None or (link.connection, link.password) != (connection, password):
                link = self._links[connection.name] = _Link(connection, password)
            return link

    @staticmethod
    def _retry(link: _Link, call: Callable[[], T]) -> T:
        with link.lock:
            kept = link.logged_in
            try:
                return call()
            except CollabError:
                link.forget()
                if not kept:  # a fresh login failed: trying again now would fail alike
                    raise
                return call()  # a kept login failed: the lake may have restarted

    def _lake_info(self, connection: _connections.Connection) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": connection.name,
            "url": connection.url,
            "role": connection.role,
            "status": "online",
            "error": None,
            "tables": [],
            "pending_requests": 0,
        }
        try:
            link = self._link(connection)
            info["tables"] = self._retry(link, lambda: self._tables(link))
            if connection.role == "owner":
                requests = self._retry(link, lambda: self._requests(link))
                info["pending_requests"] = sum(r["status"] == "pending" for r in requests)
        except Exception as exc:
            info.update(status="offline", error=_describe(connection, exc), tables=[])
        return info

    @staticmethod
    def _tables(link: _Link) -> list[dict[str, Any]]:
        fed = link.federation()
        lake = fed.lakes[0]
        out = []
        for table in fed.tables[lake]:
            schema = fed.table_schemas(table)[lake]
            out.append(
                {
                    "name": table,
                    "rows": f"at least {schema.rows_at_least}",
                    "columns": [column_info(c) for c in schema.columns],
                }
            )
        return out

    @staticmethod
    def _requests(link: _Link) -> list[dict[str, Any]]:
        out = []
        for raw in link.admin().code_requests():
            try:
                plan = recognise(raw.source).plan
            except PrivacyError:
                continue  # foreign code: the lake refuses it, there is nothing to review
            spec = plan.to_spec()
            dp = spec.get("dp")
            out.append(
                {
                    "id": raw.id,
                    "scientist": raw.scientist,
                    "table": spec["table"],
                    "model": spec["model"],
                    "features": list(spec["features"]),
                    "label": spec["label"],
                    "rounds": spec["rounds"],
                    "epsilon": None if not dp else dp["epsilon"],
                    "status": raw.status,
                }
            )
        return out
