"""The scientist's side of PySyft: a logged-in session on one lake's Datasite.

Through it a scientist lists tables, reads their public side (schema and policy), reads the
privacy budget a lake reported to them, submits a plan's request and runs its rounds. The
private side of a table never reaches it.
"""

from __future__ import annotations

import contextlib
import json
import linecache
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from .._errors import CollabError, LakeError, PrivacyError
from ._quiet import call, load_syft, quiet

# A lake tells each scientist their own privacy budget in a PySyft notification with this
# subject prefix (then JSON): only a Datasite's owners may send one, and a user reads only the
# notifications sent to them.
BUDGET_SUBJECT = "collab budget "

T = TypeVar("T")

# PySyft's ``login`` keeps every client it logs in, by default, in a session cache keyed by an
# argon2 hash of the email, password and address: each login hashes with 64 MiB of memory
# (argon2's default) and the cache holds the client, its API and Datasite, for the life of the
# process. Nothing collab calls reads that cache (PySyft's own lookup by credentials is
# disabled in 0.9.5), so collab logs in without it: in notebook 03's kernel that took the
# peak down by the 64 MiB each login touched and each closed demo's clients.
LOGIN = {"cache": False}


def status_name(status: Any) -> str:
    """A request's PySyft status as collab names it: pending, approved or denied."""
    name = getattr(status, "name", str(status)).lower()
    return {"rejected": "denied"}.get(name, name)


def client_at(url: str, email: str, password: str) -> Any:
    """PySyft's client of ``email`` on the Datasite served at ``url``, logged in quietly."""
    sy = load_syft()
    with quiet():
        return sy.login(url=url, email=email, password=password, **LOGIN)


def login_refused(where: str, email: str) -> CollabError:
    """The one answer to a refused login, whether the email is unknown or the password wrong:
    it must not tell who has an account (the owner's audit log keeps the reason). It names
    only the email given; raised ``from None``, so PySyft's own message, which differs
    between the two, is not chained to it either."""
    return CollabError(
        f"{where} refused the login of {email!r}: that email and password do not match an "
        "account there. Check both, and ask the lake's owner to register you with "
        "lake.add_scientist(...)."
    )


def forget_clients(server: Any) -> None:
    """Drop the clients of the in-process PySyft ``server`` from PySyft's process-wide
    API registry, which keeps them until the process ends (trees of several MiB, each holding
    the server), but for an open session's client (a federation may go on across its lake's
    restart). PySyft's user-code reloaders stay: it calls every one of them to deserialise
    user code, and a thread without one can no longer read a request's code."""
    kept = [s._client for s in list(_OPEN)]
    with contextlib.suppress(Exception):
        from syft.client.api import APIRegistry

        apis = APIRegistry.__api_registry__
        kept_apis = [getattr(k, "_api", None) for k in kept]
        for key in [
            k
            for k, api in apis.items()
            if k[0] == server.id and not any(api is a for a in kept_apis)
        ]:
            apis.pop(key, None)


def _forget_client(client: Any) -> None:
    """Drop one client's API from PySyft's registry."""
    api = getattr(client, "_api", None)
    with contextlib.suppress(Exception):
        from syft.client.api import APIRegistry

        apis = APIRegistry.__api_registry__
        for key in [k for k, v in apis.items() if api is not None and v is api]:
            apis.pop(key, None)


class ScientistSession:
    """A data scientist's logged-in PySyft client on one lake."""

    def __init__(self, lake: str, client: Any, url: str | None) -> None:
        self.lake = lake
        self.url = url
        self._client = client
        self._assets: dict[str, Any] = {}
        _OPEN.add(self)

    @classmethod
    def login(cls, url: str, email: str, password: str) -> ScientistSession:
        try:
            client = client_at(url, email, password)
        except Exception as exc:
            message = str(exc)
            if "connect" in message.lower() or "refused" in message.lower():
                raise LakeError(url, f"is not reachable ({message}). Is the lake running?") from exc
            raise login_refused(f"lake at {url}", email) from None
        name = str(getattr(client, "name", None) or url).split("@")[0]
        return cls(name, client, url)

    def _call(self, what: str, fn: Callable[[], T], *, quiet_output: bool = True) -> T:
        if self._client is None:
            raise LakeError(
                self.lake, f"{what} failed: this connection was closed; connect to the lake again"
            )
        return call(self.lake, what, fn, quiet_output=quiet_output)

    def close(self) -> None:
        """Let go of the PySyft client (its API tree holds megabytes, and an in-process
        client holds its Datasite); every later call fails with a :class:`LakeError`."""
        _OPEN.discard(self)
        if self._client is not None:
            _forget_client(self._client)
        self._client = None
        self._assets.clear()

    def tables(self) -> list[str]:
        return self._call("listing tables", lambda: sorted(d.name for d in self._client.datasets))

    def budget_report(self) -> dict[str, Any] | None:
        """The newest privacy-budget report this lake sent this scientist, or ``None``.

        Read from the scientist's own PySyft notifications, which no other scientist can read
        and only the lake's owners can send.
        """

        def newest() -> dict[str, Any] | None:
            found: dict[str, Any] | None = None
            for notification in self._client.api.services.notifications.get_all():
                subject = str(getattr(notification, "subject", ""))
                if not subject.startswith(BUDGET_SUBJECT):
                    continue
                try:
                    report = json.loads(subject[len(BUDGET_SUBJECT) :])
                except ValueError:
                    continue
                if found is None or float(report.get("at", 0)) >= float(found.get("at", 0)):
                    found = report
            return found

        return self._call("reading the privacy budget", newest)

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
        sy = load_syft()

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
                    status = status_name(request.status)
                    reason = request.deny_reason if status == "denied" else None
                    return status, (reason if isinstance(reason, str) else None)
            raise CollabError(f"lake {self.lake!r} has no request for {function}")

        return self._call("reading a request's status", state, quiet_output=False)

    def execute(self, function: str, table: str, message: str) -> Any:
        """Run the approved ``function`` on ``table`` with a public ``message``."""

        def run() -> Any:
            asset = self._asset(table)
            result = getattr(self._client.code, function)(data=asset, message=message)
            return result.get() if hasattr(result, "get") else result

        return self._call("running a round", run, quiet_output=False)


_OPEN: weakref.WeakSet[ScientistSession] = weakref.WeakSet()  # sessions not closed
