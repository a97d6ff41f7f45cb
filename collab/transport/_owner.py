"""The owner's side of PySyft: a lake's Datasite, in this process or served from its own.

Starting and stopping it, publishing tables, registering scientists, reporting their privacy
budget, and listing and deciding code requests; and the body of a served Datasite's process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .._errors import AlreadyDecided, CollabError, LakeError
from ._quiet import call, load_syft, quiet
from ._session import (
    BUDGET_SUBJECT,
    LOGIN,
    ScientistSession,
    client_at,
    forget_clients,
    login_refused,
    status_name,
)

T = TypeVar("T")

DEFAULT_ADMIN_EMAIL = "info@openmined.org"
DEFAULT_ADMIN_PASSWORD = "changethis"

_launch_lock = threading.Lock()

# A decision made by another process (a served lake's owner elsewhere) shows this late at most.
DECISION_RECHECK_SECONDS = 10.0

LoginRefused = Callable[[str, str], None]  # (email, reason)
_login_watchers: dict[str, LoginRefused] = {}
_login_hook_lock = threading.Lock()


def _refusal_reason(exc: BaseException) -> str:
    from syft.store.document_store_errors import NotFoundException

    return "no such account" if isinstance(exc, NotFoundException) else "wrong password"


def _install_login_hook() -> None:
    """Wrap PySyft's server-side check of an email and password (``UserService.
    exchange_credentials``, which both the HTTP ``/login`` route and an in-process login call)
    so that a refusal reaches the watcher of the Datasite that refused it."""
    from syft.service.user.user_service import UserService

    with _login_hook_lock:
        original = UserService.exchange_credentials
        if getattr(original, "_collab_hook", False):
            return

        @functools.wraps(original)
        def exchange_credentials(self: Any, context: Any) -> Any:
            try:
                return original(self, context)
            except Exception as exc:
                server = getattr(context, "server", None)
                watcher = _login_watchers.get(
                    str(getattr(getattr(server, "id", None), "no_dash", ""))
                )
                credentials = getattr(context, "login_credentials", None)
                if watcher is not None:
                    # the password is never passed on: only the email and why it was refused
                    with contextlib.suppress(Exception):
                        watcher(str(getattr(credentials, "email", None)), _refusal_reason(exc))
                raise

        exchange_credentials._collab_hook = True  # type: ignore[attr-defined]
        UserService.exchange_credentials = exchange_credentials  # type: ignore[method-assign]


def watch_refused_logins(server_id: str, refused: LoginRefused) -> None:
    """Call ``refused(email, reason)`` whenever the Datasite ``server_id`` (its UID without
    dashes), running in this process, refuses a login."""
    _install_login_hook()
    _login_watchers[server_id] = refused


def unwatch_refused_logins(server_id: str) -> None:
    _login_watchers.pop(server_id, None)


def run_served_datasite(
    name: str,
    host: str,
    port: int,
    reset: bool,
    db_url: str | None,
    login_refused: LoginRefused | None = None,
    routes: Callable[[Any], None] | None = None,
) -> None:
    """Run a served Datasite's server in this process, as PySyft's launcher runs it.

    The body of a served Datasite's own process (``collab.lake._served`` starts that process);
    it reads its identity from the environment (:func:`served_identity`). ``login_refused``
    hears of every login this Datasite refuses; ``routes(app)`` adds collab's own routes to
    the server's FastAPI app (the round channel), on the same port as PySyft's.
    """
    import uvicorn
    from syft.abstract_server import ServerSideType, ServerType
    from syft.deployment_type import DeploymentType
    from syft.server.utils import get_named_server_uid
    from syft.server.uvicorn import AppSettings, app_factory

    if login_refused is not None:
        watch_refused_logins(get_named_server_uid(name).no_dash, login_refused)
    settings = {
        "server_type": ServerType.DATASITE,
        "server_side_type": ServerSideType.HIGH_SIDE,
        "deployment_type": DeploymentType.PYTHON,
        "dev_mode": False,
        "processes": 1,
        "enable_warnings": False,
        "in_memory_workers": True,
        "queue_port": None,
        "create_producer": False,
        "n_consumers": 0,
        "association_request_auto_approval": False,
        "background_tasks": False,
        "name": name,
        "reset": reset,
        "db_url": db_url,
    }
    # PySyft's app factory reads its settings from the environment, as its own launcher
    # (syft.server.uvicorn.run_uvicorn) leaves them there.
    prefix = AppSettings.model_config.get("env_prefix", "")
    for key, value in settings.items():
        os.environ[f"{prefix}{key.upper()}"] = str(value)
    sys.stdin = None  # type: ignore[assignment]  # uvicorn must not read the parent's stdin

    def app() -> Any:
        served = app_factory()
        if routes is not None:
            routes(served)
        return served

    uvicorn.run(app, host=host, port=port, factory=True, log_level=None)


def signing_key(text: str | None = None) -> str:
    """A Datasite's signing key as text: ``text`` read back, or a new random key."""
    from syft.server.credentials import SyftSigningKey

    key = SyftSigningKey.generate() if text is None else SyftSigningKey.from_string(text)
    return str(key)


def served_identity(name: str, key: str) -> dict[str, str]:
    """The environment a served Datasite's process reads its id and signing ``key`` from.

    PySyft gives a served (non-dev) server a random id and key at each start, which would
    orphan its records; its process reads both from the environment instead, the id derived
    from the Datasite's name.
    """
    from syft.server.utils import get_named_server_uid

    return {
        "SERVER_UID": get_named_server_uid(name).no_dash,
        "SERVER_PRIVATE_KEY": key,
    }


@contextlib.contextmanager
def _storage_root(directory: Path | None) -> Iterator[None]:
    if directory is None:
        yield
        return
    previous = os.environ.get("SYFT_TEMP_ROOT")
    os.environ["SYFT_TEMP_ROOT"] = str(directory)  # an absolute root replaces the temp dir
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SYFT_TEMP_ROOT", None)
        else:
            os.environ["SYFT_TEMP_ROOT"] = previous


@dataclass(frozen=True)
class CodeRequest:
    """A PySyft code request as the owner's side sees it."""

    id: str
    function: str
    source: str
    scientist: str
    status: str  # "pending" | "approved" | "denied"
    deny_reason: str | None
    input_names: tuple[str, ...]
    scientist_key: str = ""  # the scientist's PySyft verify key


class ServerProcess(Protocol):
    """The process a served Datasite runs in, apart from its owner's (collab's lake layer
    provides it: ``collab.lake._served.ServedProcess``)."""

    url: str  # where the Datasite answers once started

    def start(
        self, name: str, *, reset: bool, database_url: str | None, storage_dir: Path | None
    ) -> None:
        """Start Datasite ``name`` (with :func:`run_served_datasite`, identity from
        :func:`served_identity`) and return once it answers at ``url``. Called while PySyft's
        storage root is set in this process's environment, which the process inherits."""
        ...

    def stop(self) -> None:
        """Stop the process, if it was started."""
        ...


class Datasite:
    """One lake's PySyft Datasite, held by its owner (admin) process."""

    def __init__(
        self,
        name: str,
        handle: Any,
        admin: Any,
        url: str | None,
        server: ServerProcess | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._handle = handle  # an in-process Datasite's PySyft handle
        self._server = server  # a served Datasite's own process
        self._admin = admin
        self._lock = threading.RLock()
        self._watched: str | None = None  # the id whose refused logins are watched here
        # What a request says never changes once it has arrived, and a decision rarely does:
        # listing requests (every second, by the lake's watcher) resolves neither again.
        self._requests_seen: dict[str, CodeRequest] = {}
        self._decided_at: dict[str, float] = {}

    @classmethod
    def launch(
        cls,
        name: str,
        *,
        server: ServerProcess | None = None,
        instance: str,
        reset: bool = True,
        admin_password: str | None = None,
        storage_dir: Path | None = None,
        database_url: str | None = None,
        login_refused: LoginRefused | None = None,
    ) -> Datasite:
        """Start (or, with ``reset=False``, reopen) the Datasite of lake ``name``.

        It runs in this process, or with ``server`` in that server's process, served over
        HTTP at ``server.url`` (the caller checks its port is free first).

        PySyft derives a server's identity and storage from its name, so the Datasite is
        named ``name@instance``: two lakes called alike never share (or wipe) a store. Its
        database and blobs go under ``storage_dir`` (PySyft reads that root only while a
        server starts), or the database to ``database_url`` (``postgresql://...``).

        ``login_refused(email, reason)`` hears of every login an in-process Datasite refuses
        (a served one's process is given its own, by ``server``).
        """
        sy = load_syft()
        full_name = f"{name}@{instance}"
        handle: Any = None
        watched: str | None = None
        url = server.url if server is not None else None
        try:
            with _launch_lock, _storage_root(storage_dir), quiet():
                if server is None:
                    kwargs: dict[str, Any] = {"name": full_name, "reset": reset, "dev_mode": False}
                    if database_url is not None:
                        kwargs["db_url"] = database_url
                    handle = sy.orchestra.launch(**kwargs)
                    if login_refused is not None:
                        watched = handle.python_server.id.no_dash
                        watch_refused_logins(watched, login_refused)

                    def login(email: str, password: str) -> Any:
                        return handle.login(email=email, password=password, **LOGIN)
                else:
                    server.start(
                        full_name, reset=reset, database_url=database_url, storage_dir=storage_dir
                    )

                    def login(email: str, password: str) -> Any:
                        return client_at(url, email, password)

                if reset or not admin_password:
                    admin = login(email=DEFAULT_ADMIN_EMAIL, password=DEFAULT_ADMIN_PASSWORD)
                    if admin_password and admin_password != DEFAULT_ADMIN_PASSWORD:
                        admin.account.set_password(admin_password, confirm=False)
                else:
                    admin = login(email=DEFAULT_ADMIN_EMAIL, password=admin_password)
        except Exception as exc:
            # A failed start leaves nothing running.
            if watched is not None:
                unwatch_refused_logins(watched)
            if server is not None:
                server.stop()
            elif handle is not None:
                with contextlib.suppress(Exception), quiet():
                    handle.land()
            raise LakeError(name, f"could not start its PySyft Datasite: {exc}") from exc
        datasite = cls(name, handle, admin, url, server)
        datasite._watched = watched
        return datasite

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        return call(self.name, what, fn, lock=self._lock)

    def upload_table(self, table: str, description: str, private: dict, mock: dict) -> None:
        sy = load_syft()

        def upload() -> Any:
            dataset = sy.Dataset(name=table, description=description or table)
            dataset.add_asset(sy.Asset(name=table, data=private, mock=mock))
            return self._admin.upload_dataset(dataset)

        self._call(f"publishing table {table!r}", upload)

    def register(self, email: str, password: str, name: str) -> str:
        """Register a data scientist; returns their PySyft verify key (public)."""
        result = self._call(
            f"registering scientist {email!r}",
            lambda: self._admin.register(
                name=name, email=email, password=password, password_verify=password
            ),
        )
        # PySyft answers with the new user's signing key: keep only its public half
        return str(result.value.signing_key.verify_key)

    def report_budget(self, scientist_key: str, report: dict[str, Any]) -> None:
        """Send ``report`` (JSON-able) to the scientist whose verify key is ``scientist_key``,
        as a notification only they (and this Datasite's owners) can read."""
        from syft.server.credentials import SyftVerifyKey
        from syft.service.notification.notifications import CreateNotification

        notification = CreateNotification(
            subject=BUDGET_SUBJECT + json.dumps(report, sort_keys=True),
            to_user_verify_key=SyftVerifyKey.from_string(scientist_key),
        )
        self._call(
            "reporting a privacy budget",
            lambda: self._admin.api.services.notifications.send(notification=notification),
        )

    def code_requests(self) -> list[CodeRequest]:
        def collect() -> list[CodeRequest]:
            out = []
            now = time.monotonic()
            for request in self._admin.requests.get_all():
                request_id = str(request.id)
                seen = self._requests_seen.get(request_id)
                decided_at = self._decided_at.get(request_id)
                if seen is not None and decided_at is not None:
                    if now - decided_at < DECISION_RECHECK_SECONDS:
                        out.append(seen)
                        continue
                try:
                    seen = self._described(request)
                    status = status_name(request.status)
                except Exception:
                    continue
                seen = dataclasses.replace(seen, status=status)
                self._requests_seen[request_id] = seen
                if status == "pending":
                    self._decided_at.pop(request_id, None)
                else:
                    self._decided_at[request_id] = now
                out.append(seen)
            return out

        return self._call("listing requests", collect)

    def pending_code_requests(self) -> list[CodeRequest]:
        """The requests waiting for a decision: PySyft reads every status on its side, in one
        call, so a lake with many decided requests lists its few pending ones cheaply."""

        def collect() -> list[CodeRequest]:
            out = []
            for request in self._admin.api.services.request.get_all_pending():
                try:
                    out.append(dataclasses.replace(self._described(request), status="pending"))
                except Exception:
                    continue  # still arriving
            return out

        return self._call("listing pending requests", collect)

    def _described(self, request: Any) -> CodeRequest:
        """What ``request`` asks, read once: it never changes after the request arrived."""
        request_id = str(request.id)
        seen = self._requests_seen.get(request_id)
        if seen is None:
            code = request.code
            seen = CodeRequest(
                id=request_id,
                function=code.service_func_name,
                source=code.raw_code,  # resolves now, or the request is still arriving
                scientist=request.requesting_user_email,
                status="pending",
                deny_reason=None,
                input_names=tuple(code.input_kwargs),
                scientist_key=str(request.requesting_user_verify_key),
            )
            self._requests_seen[request_id] = seen
        return seen

    def _request(self, request_id: str) -> Any:
        for request in self._admin.requests.get_all():
            if str(request.id) == request_id:
                return request
        raise CollabError(f"lake {self.name!r} has no request {request_id!r}")

    def approve(self, request_id: str) -> None:
        self._decide(request_id, "approved", "approving a request", lambda r: r.approve())

    def deny(self, request_id: str, reason: str) -> None:
        self._decide(request_id, "denied", "denying a request", lambda r: r.deny(reason=reason))

    def _decide(
        self, request_id: str, decision: str, what: str, apply: Callable[[Any], Any]
    ) -> None:
        """Apply ``decision`` to a pending request, or deny an approved one (its owner
        withdraws the approval). PySyft would let a denial be turned into an approval: here
        that decision is final. The same decision made twice (by two owner processes at
        once) is made once."""

        def decide() -> Any:
            request = self._request(request_id)
            status = status_name(request.status)
            if status == decision:
                return None
            if status != "pending" and (status, decision) != ("approved", "denied"):
                raise AlreadyDecided(
                    f"lake {self.name!r}: request {request_id[:8]} was already {status}; a "
                    "decision is final, and nothing was changed. The scientist can submit the "
                    "plan again as a new request."
                )
            return apply(request)

        with self._lock:
            try:
                self._call(what, decide)
            finally:
                self._decided_at.pop(request_id, None)  # read the decision afresh

    def login(self, email: str, password: str) -> ScientistSession:
        """A scientist's session on this (in-process or served) Datasite."""
        if self.url is not None:
            return ScientistSession.login(self.url, email, password)
        if self._handle is None:
            raise LakeError(self.name, "was stopped; open the lake again before connecting to it")
        try:
            with quiet():
                client = self._handle.login(email=email, password=password, **LOGIN)
        except Exception:
            raise login_refused(f"lake {self.name!r}", email) from None
        return ScientistSession(self.name, client, url=None)

    @classmethod
    def attach(cls, name: str, url: str, admin_password: str) -> Datasite:
        """The admin's handle on a Datasite that another process serves at ``url``."""
        try:
            admin = client_at(url, DEFAULT_ADMIN_EMAIL, admin_password)
        except Exception as exc:
            raise LakeError(name, f"could not log in as its admin at {url}: {exc}") from exc
        return cls(name, None, admin, url)

    def stop(self) -> None:
        if self._watched is not None:
            unwatch_refused_logins(self._watched)
        if self._server is not None:
            self._server.stop()
        elif self._handle is not None:
            with contextlib.suppress(Exception), quiet():
                self._handle.land()
            _forget_server(self._handle)
        # an in-process Datasite's store and the clients' API trees stay in memory for as long
        # as anything holds them (a notebook keeps its closed demos)
        self._handle = None
        self._admin = None


def _forget_server(handle: Any) -> None:
    """Drop a landed in-process Datasite from PySyft's process-wide registries (the server,
    its services' contexts, the clients of it no open session holds), which PySyft's own
    shutdown leaves: each closed Datasite held 10-20 MiB of a notebook's kernel until the
    kernel ended."""
    with contextlib.suppress(Exception):
        from syft.server.server import AuthServerContextRegistry, ServerRegistry

        server = handle.python_server
        forget_clients(server)
        if ServerRegistry.server_for(server.id) is server:  # not a reopened lake's, same id
            ServerRegistry.remove_server(server.id)
        contexts = AuthServerContextRegistry.__server_context_registry__
        for key in [k for k, v in contexts.items() if getattr(v, "server", None) is server]:
            contexts.pop(key, None)
