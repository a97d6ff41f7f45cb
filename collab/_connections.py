"""Saved lake connections: which lakes a person uses, kept apart from their passwords.

Both files live in ``<Jupyter config dir>/collab/`` (``~/.jupyter/collab/`` unless
``JUPYTER_CONFIG_DIR`` says otherwise), where the JupyterLab extension reads them:

- ``connections.json``: ``{"lakes": [{"name", "url", "role", "email"}]}``, no secret;
- ``credentials.json``: ``{"<lake name>": "<password>"}``, mode 0600.

``COLLAB_PASSWORD_<LAKE>`` (the lake's name upper-cased, other characters as ``_``)
overrides the credentials file, for machines where no password may be written to disk.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ._errors import CollabError
from .transport import DEFAULT_ADMIN_EMAIL, ScientistSession

Role = Literal["scientist", "owner"]
ROLES: tuple[Role, ...] = ("scientist", "owner")
CONNECTIONS_FILE = "connections.json"
CREDENTIALS_FILE = "credentials.json"
_SAVE_AGAIN = "save them again with collab.connect([...], email=..., password=..., save=True)"


@dataclass(frozen=True)
class Connection:
    """One saved lake: where it is, and who logs in to it (never the password)."""

    name: str
    url: str
    role: Role
    email: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def connections_dir() -> Path:
    """``<Jupyter config dir>/collab``: where connections and credentials are saved."""
    try:
        from jupyter_core.paths import jupyter_config_dir
    except ImportError:  # collab without Jupyter: the same default jupyter_core uses
        base = os.environ.get("JUPYTER_CONFIG_DIR") or str(Path.home() / ".jupyter")
    else:
        base = jupyter_config_dir()
    return Path(base) / "collab"


def password_variable(lake: str) -> str:
    """The environment variable that holds ``lake``'s password (``COLLAB_PASSWORD_ST_MARY``)."""
    return "COLLAB_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", lake.upper())


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CollabError(
            f"{path} is not valid JSON ({exc}); fix or delete it, then {_SAVE_AGAIN}"
        ) from exc
    except OSError as exc:
        raise CollabError(f"{path} cannot be read ({exc.strerror})") from exc


def load_connections(directory: Path | None = None) -> list[Connection]:
    """The saved connections, in the order they were first saved; ``[]`` when there is none."""
    path = (directory or connections_dir()) / CONNECTIONS_FILE
    if not path.exists():
        return []
    data = _read_json(path)
    entries = data.get("lakes") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CollabError(
            f'{path} must hold {{"lakes": [...]}}; fix or delete it, then {_SAVE_AGAIN}'
        )
    out = []
    for i, entry in enumerate(entries):
        where = f"{path}: lake #{i + 1}"
        if not isinstance(entry, dict):
            raise CollabError(f"{where} is not an object with name, url, role and email")
        missing = [k for k in ("name", "url", "role", "email") if not isinstance(entry.get(k), str)]
        if missing:
            raise CollabError(f"{where} lacks {', '.join(missing)} (text); {_SAVE_AGAIN}")
        if entry["role"] not in ROLES:
            raise CollabError(
                f"{where} ({entry['name']!r}) has role {entry['role']!r}; use 'scientist' or "
                "'owner'"
            )
        if not entry["url"].startswith(("http://", "https://")):
            raise CollabError(f"{where} ({entry['name']!r}): {entry['url']!r} is not an http URL")
        out.append(Connection(entry["name"], entry["url"], entry["role"], entry["email"]))
    return out


def _load_credentials(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CollabError(
            f"{path} holds passwords but others may read it (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    data = _read_json(path)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise CollabError(
            f'{path} must map lake names to passwords ({{"st-mary": "..."}}); {_SAVE_AGAIN}'
        )
    return data


def password_for(connection: Connection, directory: Path | None = None) -> str:
    """The password of a saved connection: ``COLLAB_PASSWORD_<LAKE>``, else the credentials
    file."""
    variable = password_variable(connection.name)
    if os.environ.get(variable):
        return os.environ[variable]
    path = (directory or connections_dir()) / CREDENTIALS_FILE
    password = _load_credentials(path).get(connection.name)
    if not password:
        raise CollabError(
            f"no password for lake {connection.name!r}: set {variable}, or {_SAVE_AGAIN} "
            f"(it goes to {path})"
        )
    return password


def _write(path: Path, data: Any, mode: int) -> None:
    """Write ``data`` as JSON to ``path`` atomically, the file created with ``mode``."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_connections(
    connections: Iterable[Connection],
    passwords: Mapping[str, str],
    directory: Path | None = None,
) -> Path:
    """Merge ``connections`` into the saved ones (same lake name: replaced) and their
    ``passwords`` (by lake name) into the credentials file. Returns the connections file."""
    directory = directory or connections_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    merged = {c.name: c for c in load_connections(directory)}
    merged.update({c.name: c for c in connections})
    credentials_path = directory / CREDENTIALS_FILE
    credentials = _load_credentials(credentials_path)
    credentials.update(passwords)
    _write(credentials_path, credentials, 0o600)
    path = directory / CONNECTIONS_FILE
    _write(path, {"lakes": [c.to_dict() for c in merged.values()]}, 0o644)
    return path


def saved_logins(role: Role) -> dict[str, Callable[[], ScientistSession]]:
    """A login function per saved lake of ``role``, by lake name (for ``collab.connect()``)."""
    saved = load_connections()
    chosen = [c for c in saved if c.role == role]
    if not chosen:
        where = connections_dir() / CONNECTIONS_FILE
        have = f" (it has only {', '.join(sorted({c.role for c in saved}))} lakes)" if saved else ""
        raise CollabError(
            f"no saved {role} connections in {where}{have}; connect once with "
            f"collab.connect([url, ...], email=..., password=..., save=True)"
        )
    return {
        c.name: partial(ScientistSession.login, c.url, c.email, password_for(c)) for c in chosen
    }


def check_savable(lake_name: str, url: str | None, role: Role, email: str) -> None:
    """Refuse, before anyone logs in, a connection that cannot be saved."""
    if role not in ROLES:
        raise CollabError(f"role must be 'scientist' or 'owner', not {role!r}")
    if url is None:
        raise CollabError(
            f"lake {lake_name!r} runs inside this Python process, so no other process (such as "
            "JupyterLab) can reach it and it cannot be saved. Serve it over HTTP "
            f"(collab.Lake.launch({lake_name!r}, port=8080) or `collab lake serve`) and "
            "connect by URL."
        )
    if role == "owner" and email != DEFAULT_ADMIN_EMAIL:
        raise CollabError(
            f"an owner connection logs in as the lake's admin account, {DEFAULT_ADMIN_EMAIL}, "
            f"with the admin password; got {email!r}"
        )
