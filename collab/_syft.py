"""The PySyft adapter: every call collab makes into PySyft 0.9.5 goes through this module.

Keeping PySyft behind these two small classes means another transport can replace it, and
PySyft's generic errors are translated into collab's in one place.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import linecache
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ._errors import CollabError, LakeError, PrivacyError

T = TypeVar("T")

DEFAULT_ADMIN_EMAIL = "info@openmined.org"
DEFAULT_ADMIN_PASSWORD = "changethis"

# How long a served Datasite's process may take to answer: it imports syft afresh, which on a
# loaded machine takes far longer than the 5 s it takes here.
SERVED_START_SECONDS = 180.0
SERVED_STOP_SECONDS = 10.0

_thread = threading.local()
_launch_lock = threading.Lock()


def served_url(host: str, port: int) -> str:
    """The address a Datasite served on ``host:port`` answers at (a wildcard host on loopback)."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{reachable}:{port}"


def _check_port_free(name: str, host: str, port: int) -> None:
    """Refuse a port another program listens on before a Datasite is started on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LakeError(
                name,
                f"port {port} on {host} is not free ({exc.strerror}); "
                "stop what listens there or launch the lake with another port",
            ) from None


def _start_served(
    name: str, host: str, port: int, reset: bool, db_url: str | None, identity: dict[str, str]
) -> subprocess.Popen:
    """Start a served Datasite in a Python process of its own.

    PySyft would fork the caller instead, and a fork of a process that runs Spark's and the
    lakes' threads can inherit a lock another thread held, and then never answer. The new
    process gets the Datasite's ``identity`` in its environment (PySyft reads it there), and
    writes to this process's output, where its start-up errors appear.
    """
    settings = {"name": name, "host": host, "port": port, "reset": reset, "db_url": db_url}
    here = str(Path(__file__).resolve().parent.parent)  # so it imports this very collab
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    entry = "import sys, collab._syft as s; s.serve(sys.argv[1])"
    process = subprocess.Popen(
        [sys.executable, "-c", entry, json.dumps(settings)],
        env={**os.environ, **identity, "PYTHONPATH": path, "DEV_MODE": "False"},
        stdin=subprocess.DEVNULL,
    )
    _served_processes.add(process)
    return process


def serve(settings: str) -> None:
    """The body of a served Datasite's process: PySyft's own server, as its launcher runs it."""
    from syft.abstract_server import ServerSideType, ServerType
    from syft.deployment_type import DeploymentType
    from syft.server.uvicorn import run_uvicorn

    run_uvicorn(
        starting_uvicorn_event=threading.Event(),
        server_type=ServerType.DATASITE,
        server_side_type=ServerSideType.HIGH_SIDE,
        deployment_type=DeploymentType.PYTHON,
        dev_mode=False,
        processes=1,
        enable_warnings=False,
        in_memory_workers=True,
        log_level=None,
        queue_port=None,
        create_producer=False,
        n_consumers=0,
        association_request_auto_approval=False,
        background_tasks=False,
        debug=False,
        **json.loads(settings),
    )


def _end_served(process: subprocess.Popen) -> None:
    """Stop a served Datasite's process: SIGTERM (uvicorn shuts down cleanly), then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(SERVED_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _served_processes.discard(process)


_served_processes: set[subprocess.Popen] = set()


@atexit.register
def _end_all_served() -> None:
    # A lake's Datasite ends with the process that launched it, as an in-process one does.
    for process in list(_served_processes):
        _end_served(process)


def _await_served(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Return once the Datasite at ``url`` answers; raise if its process ends or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/metadata", timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(
                f"its server process ended (exit code {process.returncode}) before answering "
                f"on {url}; its output above says why"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"it did not answer on {url} within {timeout:.0f} s")
        time.sleep(0.25)


def _served_identity(name: str, storage_dir: Path | None) -> dict[str, str]:
    """A served Datasite's id and signing key, the same at every start of the lake.

    PySyft gives a served (non-dev) server a random id and key at each start, which would
    orphan its records; its child process reads both from the environment instead. The key
    is random, made once and kept in the lake's storage directory (mode 0600).
    """
    from syft.server.credentials import SyftSigningKey
    from syft.server.utils import get_named_server_uid

    key = SyftSigningKey.generate()
    if storage_dir is not None:
        storage_dir.mkdir(parents=True, exist_ok=True)
        key_file = storage_dir / "server.key"
        if key_file.exists():
            key = SyftSigningKey.from_string(key_file.read_text().strip())
        else:
            key_file.write_text(str(key))
            key_file.chmod(0o600)
    return {
        "SERVER_UID": get_named_server_uid(name).no_dash,
        "SERVER_PRIVATE_KEY": str(key),
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


class _ThreadQuietStream:
    """Passes writes through, except from a thread inside :func:`_quiet`."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        if getattr(_thread, "quiet", False):
            return len(text)
        return self._target.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def _syft() -> Any:
    import syft

    for name in ("syft", "syft.server", "syft.server.server", "uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return syft


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide PySyft's banners and progress bars printed by this thread (other threads' output,
    such as a job's progress, still shows)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _ThreadQuietStream):
            setattr(sys, name, _ThreadQuietStream(stream))
    previous = getattr(_thread, "quiet", False)
    _thread.quiet = True
    try:
        yield
    finally:
        _thread.quiet = previous


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


def _status_name(status: Any) -> str:
    name = getattr(status, "name", str(status)).lower()
    return {"rejected": "denied"}.get(name, name)


class Datasite:
    """One lake's PySyft Datasite, held by its owner (admin) process."""

    def __init__(
        self,
        name: str,
        handle: Any,
        admin: Any,
        url: str | None,
        process: subprocess.Popen | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._handle = handle  # an in-process Datasite's PySyft handle
        self._process = process  # a served Datasite's own process
        self._admin = admin
        self._lock = threading.RLock()

    @classmethod
    def launch(
        cls,
        name: str,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        instance: str,
        reset: bool = True,
        admin_password: str | None = None,
        storage_dir: Path | None = None,
        database_url: str | None = None,
    ) -> Datasite:
        """Start (or, with ``reset=False``, reopen) the Datasite of lake ``name``.

        PySyft derives a server's identity and storage from its name, so the Datasite is
        named ``name@instance``: two lakes called alike never share (or wipe) a store. Its
        database and blobs go under ``storage_dir`` (PySyft reads that root only while a
        server starts), or the database to ``database_url`` (``postgresql://...``).
        """
        sy = _syft()
        full_name = f"{name}@{instance}"
        handle: Any = None
        process: subprocess.Popen | None = None
        url = served_url(host, port) if port is not None else None
        if port is not None:
            _check_port_free(name, host, port)
        try:
            with _launch_lock, _storage_root(storage_dir), _quiet():
                if url is None:
                    kwargs: dict[str, Any] = {"name": full_name, "reset": reset, "dev_mode": False}
                    if database_url is not None:
                        kwargs["db_url"] = database_url
                    handle = sy.orchestra.launch(**kwargs)
                    login = handle.login
                else:
                    assert port is not None
                    identity = _served_identity(full_name, storage_dir)
                    process = _start_served(full_name, host, port, reset, database_url, identity)
                    _await_served(url, process, SERVED_START_SECONDS)

                    def login(email: str, password: str) -> Any:
                        return sy.login(url=url, email=email, password=password)

                if reset or not admin_password:
                    admin = login(email=DEFAULT_ADMIN_EMAIL, password=DEFAULT_ADMIN_PASSWORD)
                    if admin_password and admin_password != DEFAULT_ADMIN_PASSWORD:
                        admin.account.set_password(admin_password, confirm=False)
                else:
                    admin = login(email=DEFAULT_ADMIN_EMAIL, password=admin_password)
        except Exception as exc:
            # A failed start leaves nothing running.
            if process is not None:
                _end_served(process)
            elif handle is not None:
                with contextlib.suppress(Exception), _quiet():
                    handle.land()
            raise LakeError(name, f"could not start its PySyft Datasite: {exc}") from exc
        return cls(name, handle, admin, url, process)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            with self._lock, _quiet():
                result = fn()
        except CollabError:
            raise
        except Exception as exc:
            raise LakeError(self.name, f"{what} failed: {exc}") from exc
        sy = _syft()
        if isinstance(result, sy.SyftError):
            raise LakeError(self.name, f"{what} failed: {result.message}")
        return result

    def upload_table(self, table: str, description: str, private: dict, mock: dict) -> None:
        sy = _syft()

        def upload() -> Any:
            dataset = sy.Dataset(name=table, description=description or table)
            dataset.add_asset(sy.Asset(name=table, data=private, mock=mock))
            return self._admin.upload_dataset(dataset)

        self._call(f"publishing table {table!r}", upload)

    def register(self, email: str, password: str, name: str) -> None:
        self._call(
            f"registering scientist {email!r}",
            lambda: self._admin.register(
                name=name, email=email, password=password, password_verify=password
            ),
        )

    def code_requests(self) -> list[CodeRequest]:
        def collect() -> list[CodeRequest]:
            out = []
            for request in self._admin.requests.get_all():
                try:
                    code = request.code
                    code.raw_code  # noqa: B018 - resolves now, or the request is still arriving
                except Exception:
                    continue
                out.append(
                    CodeRequest(
                        id=str(request.id),
                        function=code.service_func_name,
                        source=code.raw_code,
                        scientist=request.requesting_user_email,
                        status=_status_name(request.status),
                        deny_reason=None,
                        input_names=tuple(code.input_kwargs),
                    )
                )
            return out

        return self._call("listing requests", collect)

    def _request(self, request_id: str) -> Any:
        for request in self._admin.requests.get_all():
            if str(request.id) == request_id:
                return request
        raise CollabError(f"lake {self.name!r} has no request {request_id!r}")

    def approve(self, request_id: str) -> None:
        self._call("approving a request", lambda: self._request(request_id).approve())

    def deny(self, request_id: str, reason: str) -> None:
        self._call("denying a request", lambda: self._request(request_id).deny(reason=reason))

    def login(self, email: str, password: str) -> ScientistSession:
        """A scientist's session on this (in-process or served) Datasite."""
        if self.url is not None:
            return ScientistSession.login(self.url, email, password)
        try:
            with _quiet():
                client = self._handle.login(email=email, password=password)
        except Exception as exc:
            raise CollabError(
                f"lake {self.name!r} refused the login of {email!r}: {exc}. Check the email and "
                "password, and ask the owner to register you with lake.add_scientist(...)."
            ) from exc
        return ScientistSession(self.name, client, url=None)

    @classmethod
    def attach(cls, name: str, url: str, admin_password: str) -> Datasite:
        """The admin's handle on a Datasite that another process serves at ``url``."""
        sy = _syft()
        try:
            with _quiet():
                admin = sy.login(url=url, email=DEFAULT_ADMIN_EMAIL, password=admin_password)
        except Exception as exc:
            raise LakeError(name, f"could not log in as its admin at {url}: {exc}") from exc
        return cls(name, None, admin, url)

    def stop(self) -> None:
        if self._process is not None:
            _end_served(self._process)
        elif self._handle is not None:
            with contextlib.suppress(Exception), _quiet():
                self._handle.land()


class ScientistSession:
    """A data scientist's logged-in PySyft client on one lake."""

    def __init__(self, lake: str, client: Any, url: str | None) -> None:
        self.lake = lake
        self.url = url
        self._client = client
        self._assets: dict[str, Any] = {}

    @classmethod
    def login(cls, url: str, email: str, password: str) -> ScientistSession:
        sy = _syft()
        try:
            with _quiet():
                client = sy.login(url=url, email=email, password=password)
        except Exception as exc:
            message = str(exc)
            if "connect" in message.lower() or "refused" in message.lower():
                raise LakeError(url, f"is not reachable ({message}). Is the lake running?") from exc
            raise CollabError(
                f"lake at {url} refused the login of {email!r}: {message}. Check the email and "
                "password, and ask the owner to register you with lake.add_scientist(...)."
            ) from exc
        name = str(getattr(client, "name", None) or url).split("@")[0]
        return cls(name, client, url)

    def _call(self, what: str, fn: Callable[[], T], *, quiet: bool = True) -> T:
        try:
            if quiet:
                with _quiet():
                    result = fn()
            else:
                result = fn()
        except CollabError:
            raise
        except Exception as exc:
            raise LakeError(self.lake, f"{what} failed: {exc}") from exc
        sy = _syft()
        if isinstance(result, sy.SyftError):
            raise LakeError(self.lake, f"{what} failed: {result.message}")
        return result

    def tables(self) -> list[str]:
        return self._call("listing tables", lambda: sorted(d.name for d in self._client.datasets))

    def _asset(self, table: str) -> Any:
        if table not in self._assets:
            for dataset in self._client.datasets:
                if dataset.name == table:
                    self._assets[table] = dataset.assets[table]
                    break
            else:
                raise CollabError(f"lake {self.lake!r} has no table {table!r}")
        return self._assets[table]

    def table_mock(self, table: str) -> dict[str, Any]:
        """The public side of a table's asset: its schema and policy."""
        return self._call(f"reading table {table!r}", lambda: self._asset(table).mock)

    def table_private_data(self, table: str) -> Any:
        """Always refused: the private side of an asset never reaches a scientist."""
        raise PrivacyError(
            f"lake {self.lake!r}: the rows of table {table!r} never leave the lake. Use "
            f"fed.schema({table!r}) for its columns, fed.mock({table!r}) for synthetic rows, "
            "or submit a plan to train on it."
        )

    def submit(self, function: str, source: str, table: str) -> str:
        """Submit ``source`` (defining ``function(data, message)``) as a code request."""
        sy = _syft()

        def submit() -> Any:
            filename = f"<collab:{function}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            namespace: dict[str, Any] = {}
            exec(compile(source, filename, "exec"), namespace)
            asset = self._asset(table)
            syft_function = sy.syft_function(
                input_policy=sy.MixedInputPolicy(client=self._client, data=asset, message=str),
                output_policy=sy.SingleExecutionExactOutput(),
            )(namespace[function])
            return self._client.code.request_code_execution(syft_function)

        request = self._call(f"submitting a request for table {table!r}", submit)
        return str(request.id)

    def request_state(self, function: str) -> tuple[str, str | None]:
        """``(status, deny reason)`` of this scientist's request for ``function``."""

        def state() -> tuple[str, str | None]:
            for request in self._client.requests.get_all():
                if request.code.service_func_name == function:
                    status = _status_name(request.status)
                    reason = request.deny_reason if status == "denied" else None
                    return status, (reason if isinstance(reason, str) else None)
            raise CollabError(f"lake {self.lake!r} has no request for {function}")

        return self._call("reading a request's status", state, quiet=False)

    def execute(self, function: str, table: str, message: str) -> Any:
        """Run the approved ``function`` on ``table`` with a public ``message``."""

        def run() -> Any:
            asset = self._asset(table)
            result = getattr(self._client.code, function)(data=asset, message=message)
            return result.get() if hasattr(result, "get") else result

        return self._call("running a round", run, quiet=False)
