"""A served lake's configuration file, and the secrets that never go in it."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import CollabError
from .._policy import Policy
from .._syft import DEFAULT_ADMIN_PASSWORD
from ._served import served_url

_SECRET_WORDS = ("password", "secret", "token", "key")


@dataclass(frozen=True)
class TableConfig:
    name: str
    path: str
    format: str | None = None
    description: str = ""
    private_columns: tuple[str, ...] = ()
    column_descriptions: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)


@dataclass(frozen=True)
class ScientistConfig:
    email: str
    name: str


@dataclass(frozen=True)
class LakeConfig:
    """Everything ``collab lake serve`` needs except secrets."""

    name: str
    port: int = 8080
    host: str = "127.0.0.1"
    data_dir: Path = Path("/var/lib/collab")
    spark_master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    tables: tuple[TableConfig, ...] = ()
    scientists: tuple[ScientistConfig, ...] = ()
    source: Path | None = None

    @property
    def url(self) -> str:
        return served_url(self.host, self.port)


def _check_keys(where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    for key in data:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise CollabError(
                f"{where}: {key!r} looks like a secret; secrets never go in the config file. "
                "Use COLLAB_ADMIN_PASSWORD(_FILE), COLLAB_SCIENTIST_PASSWORDS_FILE or "
                "COLLAB_DATABASE_URL instead."
            )
        if key not in allowed:
            raise CollabError(
                f"{where}: unknown setting {key!r}; known: {', '.join(sorted(allowed))}"
            )


def load_config(path: str | Path) -> LakeConfig:
    """Read and validate a lake's TOML config; every error names the file and the setting."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text())
    except FileNotFoundError as exc:
        raise CollabError(f"no config file at {source}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CollabError(f"{source} is not valid TOML: {exc}") from exc
    _check_keys(str(source), data, {"lake", "spark", "tables", "scientists"})
    lake = data.get("lake", {})
    _check_keys(f"{source} [lake]", lake, {"name", "port", "host", "data_dir"})
    if "name" not in lake:
        raise CollabError(f"{source} [lake]: 'name' is required")
    spark = data.get("spark", {})
    _check_keys(f"{source} [spark]", spark, {"master", "conf"})
    tables = []
    for i, table in enumerate(data.get("tables", [])):
        where = f"{source} [[tables]] #{i + 1}"
        _check_keys(
            where,
            table,
            {
                "name",
                "path",
                "format",
                "description",
                "private_columns",
                "column_descriptions",
                "bounds",
                "policy",
            },
        )
        for required in ("name", "path"):
            if required not in table:
                raise CollabError(f"{where}: {required!r} is required")
        try:
            policy = Policy(**table.get("policy", {}))
        except (TypeError, ValueError) as exc:
            raise CollabError(f"{where} [policy]: {exc}") from exc
        bounds = {}
        for column, pair in table.get("bounds", {}).items():
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(v, int | float) for v in pair)
            ):
                raise CollabError(
                    f"{where} [bounds]: {column!r} must be [low, high] numbers, "
                    f"e.g. {column} = [0, 100]; got {pair!r}"
                )
            bounds[str(column)] = (float(pair[0]), float(pair[1]))
        tables.append(
            TableConfig(
                name=table["name"],
                path=str(table["path"]),
                format=table.get("format"),
                description=table.get("description", ""),
                private_columns=tuple(table.get("private_columns", ())),
                column_descriptions=dict(table.get("column_descriptions", {})),
                bounds=bounds,
                policy=policy,
            )
        )
    scientists = []
    for i, scientist in enumerate(data.get("scientists", [])):
        where = f"{source} [[scientists]] #{i + 1}"
        _check_keys(where, scientist, {"email", "name"})
        if "email" not in scientist:
            raise CollabError(f"{where}: 'email' is required")
        scientists.append(
            ScientistConfig(scientist["email"], scientist.get("name", scientist["email"]))
        )
    return LakeConfig(
        name=lake["name"],
        port=int(lake.get("port", 8080)),
        host=lake.get("host", "127.0.0.1"),
        data_dir=Path(lake.get("data_dir", "/var/lib/collab")),
        spark_master=spark.get("master"),
        spark_conf={str(k): str(v) for k, v in spark.get("conf", {}).items()},
        tables=tuple(tables),
        scientists=tuple(scientists),
        source=source,
    )


def _secret(name: str, env: Mapping[str, str]) -> str | None:
    if env.get(name):
        return env[name]
    file = env.get(f"{name}_FILE")
    if file:
        try:
            return Path(file).read_text().strip()
        except OSError as exc:
            raise CollabError(f"{name}_FILE points at {file!r}, which cannot be read") from exc
    return None


def admin_password(env: Mapping[str, str] | None = None) -> str:
    """The admin password from ``COLLAB_ADMIN_PASSWORD`` or ``COLLAB_ADMIN_PASSWORD_FILE``."""
    value = _secret("COLLAB_ADMIN_PASSWORD", os.environ if env is None else env)
    if not value:
        raise CollabError(
            "set the lake's admin password in COLLAB_ADMIN_PASSWORD or a file named by "
            "COLLAB_ADMIN_PASSWORD_FILE (never in the config file)"
        )
    if value == DEFAULT_ADMIN_PASSWORD:
        raise CollabError(
            "refusing to serve a lake with PySyft's published default admin password; choose "
            "another in COLLAB_ADMIN_PASSWORD"
        )
    if len(value) < 12:
        raise CollabError("the admin password must have at least 12 characters")
    return value


def scientist_passwords(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``email=password`` lines from ``COLLAB_SCIENTIST_PASSWORDS(_FILE)``."""
    text = _secret("COLLAB_SCIENTIST_PASSWORDS", os.environ if env is None else env) or ""
    out = {}
    for line in text.replace(";", "\n").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        email, sep, password = line.partition("=")
        if not sep:
            raise CollabError("COLLAB_SCIENTIST_PASSWORDS lines must read email=password")
        out[email.strip()] = password.strip()
    return out


def database_url(env: Mapping[str, str] | None = None) -> str | None:
    return (os.environ if env is None else env).get("COLLAB_DATABASE_URL") or None
