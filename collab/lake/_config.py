"""A served lake's configuration file, and the secrets that never go in it."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._args import repeated
from .._errors import CollabError
from .._policy import Policy
from .._publication import Publication, Settings
from ..transport import DEFAULT_ADMIN_PASSWORD
from ._served import served_url

_SECRET_WORDS = ("password", "secret", "token", "key")


@dataclass(frozen=True)
class TableConfig:
    """A ``[[tables]]`` entry: a table the lake hosts where it lives."""

    name: str
    publication: Publication
    path: str
    format: str | None = None


@dataclass(frozen=True)
class ViewConfig:
    """A ``[[views]]`` entry: a table defined in Spark SQL over the lake's tables."""

    name: str
    publication: Publication
    sql: str


@dataclass(frozen=True)
class StreamConfig:
    """A ``[[streams]]`` entry: a folder new files land in, read as a stream."""

    name: str
    publication: Publication
    path: str
    format: str = "parquet"
    schema: str | None = None


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
    views: tuple[ViewConfig, ...] = ()
    streams: tuple[StreamConfig, ...] = ()
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


# what a table and a view both publish, besides their name
_PUBLISHED = tuple(Settings.__annotations__)


def _published(where: str, entry: Mapping[str, Any]) -> Publication:
    """The settings a ``[[tables]]`` or ``[[views]]`` entry publishes, checked."""
    try:
        policy = Policy(**entry.get("policy", {}))
    except (TypeError, ValueError) as exc:
        raise CollabError(f"{where} [policy]: {exc}") from exc
    for column, pair in entry.get("bounds", {}).items():
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, int | float) for v in pair)
        ):
            raise CollabError(
                f"{where} [bounds]: {column!r} must be [low, high] numbers, "
                f"e.g. {column} = [0, 100]; got {pair!r}"
            )
    given = entry.get("categories", {})
    if not isinstance(given, dict):
        raise CollabError(
            f'{where}: categories must map columns to their values, e.g. {{ sex = ["F", "M"] }}'
        )
    for column, values in given.items():
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str | int | float) for v in values)
        ):
            raise CollabError(
                f"{where} [categories]: {column!r} must list its values, e.g. "
                f'{column} = ["F", "M"]; got {values!r}'
            )
        if len({(type(v) is bool, v) for v in values}) != len(values):
            raise CollabError(
                f"{where} [categories]: {column!r} names a value more than once: {values!r}"
            )
    settings = {key: entry[key] for key in _PUBLISHED if key in entry}
    return Publication.checked(where, {**settings, "policy": policy})


def load_config(path: str | Path) -> LakeConfig:
    """Read and validate a lake's TOML config; every error names the file and the setting."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text())
    except FileNotFoundError as exc:
        raise CollabError(f"no config file at {source}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CollabError(f"{source} is not valid TOML: {exc}") from exc
    _check_keys(
        str(source), data, {"lake", "spark", "tables", "views", "streams", "scientists"}
    )
    lake = data.get("lake", {})
    _check_keys(f"{source} [lake]", lake, {"name", "port", "host", "data_dir"})
    if "name" not in lake:
        raise CollabError(f"{source} [lake]: 'name' is required")
    spark = data.get("spark", {})
    _check_keys(f"{source} [spark]", spark, {"master", "conf"})
    tables = []
    for i, table in enumerate(data.get("tables", [])):
        where = f"{source} [[tables]] #{i + 1}"
        _check_keys(where, table, {"name", "path", "format", *_PUBLISHED})
        for required in ("name", "path"):
            if required not in table:
                raise CollabError(f"{where}: {required!r} is required")
        publication = _published(where, table)
        tables.append(
            TableConfig(str(table["name"]), publication, str(table["path"]), table.get("format"))
        )
    views = []
    for i, view in enumerate(data.get("views", [])):
        where = f"{source} [[views]] #{i + 1}"
        _check_keys(where, view, {"name", "sql", *_PUBLISHED})
        for required in ("name", "sql"):
            if required not in view:
                raise CollabError(f"{where}: {required!r} is required")
        if not isinstance(view["sql"], str) or not view["sql"].strip():
            raise CollabError(f"{where}: 'sql' must be one Spark SQL query, as text")
        views.append(ViewConfig(str(view["name"]), _published(where, view), view["sql"]))
    streams = []
    for i, stream in enumerate(data.get("streams", [])):
        where = f"{source} [[streams]] #{i + 1}"
        _check_keys(where, stream, {"name", "path", "format", "schema", *_PUBLISHED})
        for required in ("name", "path"):
            if required not in stream:
                raise CollabError(f"{where}: {required!r} is required")
        given = stream.get("schema")
        if given is not None and not isinstance(given, str):
            raise CollabError(f"{where}: 'schema' must be text, e.g. \"age INT, grade STRING\"")
        streams.append(
            StreamConfig(
                str(stream["name"]),
                _published(where, stream),
                str(stream["path"]),
                str(stream.get("format", "parquet")),
                given,
            )
        )
    names = [t.name for t in tables] + [v.name for v in views] + [s.name for s in streams]
    twice = repeated(names)
    if twice:
        raise CollabError(f"{source}: {', '.join(map(repr, twice))} named more than once")
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
        views=tuple(views),
        streams=tuple(streams),
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
