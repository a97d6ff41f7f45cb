"""The round channel: how a job's round messages reach a lake once its owner approved the job.

PySyft carries the plan, the owner's decision and the job's first exchange with each lake. The
answer to that exchange (which PySyft gives only to the scientist who sent the request) carries
a :class:`Ticket`: a random secret the lake issued for that job and lake. Every later message
of the job goes to the lake with its ticket, and the lake's runner does with it exactly what it
does with a PySyft execution: it checks the owner's decision (a denial stops the job at its
next message), counts and records the execution, and answers with sums and masked vectors only.
What the channel saves is PySyft's own work per call: policy checks, serialisation, the second
run of the approved code on the mock, and its queues.

A lake in this process is reached with a function call; a served lake on its Datasite's own
port, at :data:`CHANNEL_PATH`. A message the channel cannot carry (the lake restarted and
forgot its tickets, a proxy that forwards only PySyft's routes) goes over PySyft again, whose
answer brings a fresh ticket.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

CHANNEL_PATH = "/collab/v1/rounds"
# A round on a large table can take minutes; a lake that is gone fails at once anyway.
CHANNEL_TIMEOUT_SECONDS = 3600.0

# Each process that runs lakes has its own id: a ticket names it, so that a lake in this
# process is called directly, and one elsewhere is never mistaken for it.
PROCESS_ID = secrets.token_hex(8)

# What a lake's runner does with one message: (token, message text) -> the answer (JSON-able).
Endpoint = Callable[[str, str], Any]

_endpoint: Endpoint | None = None
_endpoint_lock = threading.Lock()

# Lakes in this process share its cores and its interpreter: more of their steps at once than
# there are cores only trade the GIL and the caches back and forth (ten lakes' rounds took
# longer side by side than one after another), so at most one call per core runs at a time.
_in_process_calls = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


class ChannelLost(Exception):
    """The channel cannot carry this message (send it over PySyft instead)."""


@dataclass(frozen=True)
class Ticket:
    """What authorises a job's messages to one lake over the channel.

    ``token`` is a secret only the lake (as a hash) and the scientist who sent the job hold;
    ``process`` names the process the lake's runner answers in.
    """

    token: str
    process: str

    def to_dict(self) -> dict[str, str]:
        return {"token": self.token, "process": self.process}

    @classmethod
    def from_dict(cls, data: Any) -> Ticket | None:
        """The ticket of ``data`` (an answer's ``channel`` entry), or ``None`` for anything else."""
        if not isinstance(data, Mapping):
            return None
        token, process = data.get("token"), data.get("process")
        if not isinstance(token, str) or not isinstance(process, str) or len(token) < 32:
            return None
        return cls(token, process)


def new_token() -> str:
    return secrets.token_urlsafe(32)


# --- the lake's side -----------------------------------------------------------------------------


def serve_in_process(endpoint: Endpoint) -> None:
    """Answer this process's channel messages with ``endpoint`` (the lakes' runner)."""
    global _endpoint
    with _endpoint_lock:
        _endpoint = endpoint


def add_route(app: Any, endpoint: Endpoint) -> None:
    """Answer channel messages sent over HTTP to the FastAPI ``app`` (a served Datasite's)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    def answer(token: str, body: bytes) -> Response:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Response(status_code=400, content="a round message is UTF-8 JSON text")
        result = endpoint(token, text)
        return Response(content=json.dumps(result), media_type="application/json")

    async def rounds(request: Any) -> Response:  # a plain Starlette route: no validation
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return Response(status_code=401, content="a round message needs its job's ticket")
        body = await request.body()
        return await run_in_threadpool(answer, token, body)

    app.add_route(CHANNEL_PATH, rounds, methods=["POST"], include_in_schema=False)


# --- the scientist's side ------------------------------------------------------------------------


class RoundChannel(Protocol):
    """Carries one job's messages to one lake."""

    def send(self, message: str) -> Any:
        """The lake's answer to ``message`` (JSON text); :class:`ChannelLost` if not carried."""
        ...

    def close(self) -> None: ...


class InProcessChannel:
    """A lake whose runner answers in this process: a function call."""

    def __init__(self, ticket: Ticket) -> None:
        self._ticket = ticket

    def send(self, message: str) -> Any:
        endpoint = _endpoint
        if endpoint is None:
            raise ChannelLost("no lake answers in this process")
        with _in_process_calls:
            return _checked(endpoint(self._ticket.token, message))

    def close(self) -> None:
        pass


class HttpChannel:
    """A served lake, over one kept-alive HTTP connection to its Datasite's port."""

    def __init__(self, url: str, ticket: Ticket) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a lake's URL: {url!r}")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._path = parts.path.rstrip("/") + CHANNEL_PATH
        self._ticket = ticket
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=CHANNEL_TIMEOUT_SECONDS)
        return self._connection

    def send(self, message: str) -> Any:
        headers = {
            "Authorization": f"Bearer {self._ticket.token}",
            "Content-Type": "application/json",
        }
        try:
            connection = self._connect()
            connection.request("POST", self._path, body=message.encode("utf-8"), headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ChannelLost(f"{type(exc).__name__}: {exc}") from exc
        if response.status != 200:
            raise ChannelLost(f"HTTP {response.status}")
        try:
            return _checked(json.loads(body))
        except ValueError as exc:
            raise ChannelLost(f"an answer that is not JSON ({exc})") from exc

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _checked(answer: Any) -> Any:
    """The answer, unless the lake says it holds no such ticket (it restarted, say)."""
    if isinstance(answer, Mapping) and answer.get("channel_closed"):
        raise ChannelLost(str(answer.get("reason", "the lake holds no such ticket")))
    return answer


def open_channel(answer: Any, url: str | None) -> RoundChannel | None:
    """The channel an answer's ticket opens to the lake at ``url`` (``None``: in this
    process), or ``None`` when the answer carries no usable ticket."""
    ticket = Ticket.from_dict(answer.get("channel")) if isinstance(answer, Mapping) else None
    if ticket is None:
        return None
    if url is None:
        return InProcessChannel(ticket) if ticket.process == PROCESS_ID else None
    try:
        return HttpChannel(url, ticket)
    except ValueError:
        return None
