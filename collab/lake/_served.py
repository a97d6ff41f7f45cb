"""A served lake's Datasite process: started, awaited and stopped by the lake that serves it.

A lake served over HTTP runs its PySyft Datasite in a Python process of its own. This module
owns that process (its port, its start, its wait for an answer, its stop, and its end when the
launching process exits); what runs inside it is PySyft's server, in :mod:`collab.transport`.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from .._errors import LakeError
from ..transport import run_served_datasite, served_identity, signing_key

# How long a served Datasite's process may take to answer: it imports syft afresh, which on a
# loaded machine takes far longer than the 5 s it takes here.
SERVED_START_SECONDS = 180.0
SERVED_STOP_SECONDS = 10.0

# The child's entry point (see child_main), importing this very collab.
_ENTRY = "import sys, collab.lake._served as s; s.child_main(sys.argv[1])"


def served_url(host: str, port: int) -> str:
    """The address a Datasite served on ``host:port`` answers at (a wildcard host on loopback)."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{reachable}:{port}"


def check_port_free(name: str, host: str, port: int) -> None:
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


def child_main(settings: str) -> None:
    """The body of a served Datasite's process: PySyft's own server, with ``settings`` (JSON).

    Logins are checked in this process, so it writes the ones it refuses to the lake's audit
    log (the state file at ``settings["state"]``, when given).
    """
    options = json.loads(settings)
    state = options.pop("state", None)
    refused = None
    if state is not None:

        def refused(email: str, reason: str) -> None:
            from ._runner import state_at

            state_at(state).log("lake", "login failed", email=email, reason=reason)

    def routes(app: Any) -> None:
        from ..transport import add_route
        from ._runner import run_channel

        add_route(app, run_channel)

    run_served_datasite(**options, login_refused=refused, routes=routes)


def _stored_signing_key(storage_dir: Path | None) -> str:
    """The Datasite's signing key, the same at every start of the lake.

    The key is random, made once and kept in the lake's storage directory (mode 0600); with no
    directory, a new one each time.
    """
    if storage_dir is None:
        return signing_key()
    storage_dir.mkdir(parents=True, exist_ok=True)
    key_file = storage_dir / "server.key"
    if key_file.exists():
        return signing_key(key_file.read_text().strip())
    key = signing_key()
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


class ServedProcess:
    """The Python process of lake ``lake``'s Datasite, served on ``host:port``.

    PySyft would fork the caller instead, and a fork of a process that runs Spark's and the
    lakes' threads can inherit a lock another thread held, and then never answer. The new
    process writes to this process's output, where its start-up errors appear, and ends with
    this process, as an in-process Datasite does.
    """

    def __init__(self, lake: str, host: str, port: int, state: Path | None = None) -> None:
        self.lake = lake
        self.host = host
        self.port = port
        self.state = state  # the lake's state file, where refused logins are logged
        self.url = served_url(host, port)
        self._process: subprocess.Popen | None = None

    def check_port_free(self) -> None:
        """Raise :class:`LakeError` when another program listens on this process's port."""
        check_port_free(self.lake, self.host, self.port)

    def start(
        self, name: str, *, reset: bool, database_url: str | None, storage_dir: Path | None
    ) -> None:
        """Start the Datasite ``name`` and return once it answers at :attr:`url`.

        The new process gets the Datasite's identity in its environment (PySyft reads it there)
        and this process's environment, PySyft's storage root included.
        """
        identity = served_identity(name, _stored_signing_key(storage_dir))
        settings = {
            "name": name,
            "host": self.host,
            "port": self.port,
            "reset": reset,
            "db_url": database_url,
            "state": None if self.state is None else str(self.state),
        }
        here = str(Path(__file__).resolve().parents[2])  # so it imports this very collab
        path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, json.dumps(settings)],
            env={**os.environ, **identity, "PYTHONPATH": path, "DEV_MODE": "False"},
            stdin=subprocess.DEVNULL,
        )
        _running.add(self)
        self._await(SERVED_START_SECONDS)

    def _await(self, timeout: float) -> None:
        """Return once the Datasite answers; raise if its process ends or time runs out."""
        process = self._process
        assert process is not None
        url = self.url
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
                    f"its server process ended (exit code {process.returncode}) before "
                    f"answering on {url}; its output above says why"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"it did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.25)

    def stop(self) -> None:
        """Stop the process: SIGTERM (uvicorn shuts down cleanly), then SIGKILL."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(SERVED_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _running.discard(self)


_running: set[ServedProcess] = set()


@atexit.register
def _stop_all() -> None:
    # A lake's Datasite ends with the process that launched it, as an in-process one does.
    for served in list(_running):
        served.stop()
