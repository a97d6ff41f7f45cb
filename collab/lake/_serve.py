"""``collab lake serve``: run one lake as a service until SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from .._errors import CollabError
from ._config import (
    LakeConfig,
    StreamConfig,
    ViewConfig,
    admin_password,
    database_url,
    scientist_passwords,
)
from ._lake import Lake


def open_lake(config: LakeConfig) -> Lake:
    """Launch (or reopen) the configured lake and bring its tables and scientists up to date."""
    password = admin_password()
    passwords = scientist_passwords()
    missing = [s.email for s in config.scientists if s.email not in passwords]
    if missing:
        raise CollabError(
            f"no password for {', '.join(missing)} in COLLAB_SCIENTIST_PASSWORDS(_FILE)"
        )
    lake = Lake.launch(
        config.name,
        port=config.port,
        host=config.host,
        data_dir=config.data_dir,
        spark_master=config.spark_master,
        spark_conf=config.spark_conf,
        admin_password=password,
        database_url=database_url(),
    )
    try:
        publish(lake, config)
        registered = set(lake._state.setting("scientists", []))
        for scientist in config.scientists:
            if scientist.email not in registered:
                lake.add_scientist(scientist.email, passwords[scientist.email], scientist.name)
                registered.add(scientist.email)
        lake._state.set_setting("scientists", sorted(registered))
    except BaseException:
        lake.stop()
        raise
    return lake


def publish(lake: Lake, config: LakeConfig) -> None:
    """Host the configured tables, then its views (in the file's order), then its streams,
    that ``lake`` does not host yet; for those it hosts, apply the configured policy."""
    for entry in (*config.tables, *config.views, *config.streams):
        publication = entry.publication
        if entry.name in lake.tables:
            if lake.policy(entry.name) != publication.policy:
                lake.set_policy(entry.name, publication.policy)
            continue
        if isinstance(entry, ViewConfig):
            lake.add_view(entry.name, entry.sql, **publication.settings())
        elif isinstance(entry, StreamConfig):
            lake.add_stream(
                entry.name,
                entry.path,
                format=entry.format,
                schema=entry.schema,
                **publication.settings(),
            )
        else:
            lake.add_table(entry.name, entry.path, format=entry.format, **publication.settings())


def serve(config: LakeConfig, *, ready: Callable[[Lake], None] | None = None) -> int:
    """Serve the lake until SIGTERM or SIGINT, then stop it cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    lake = open_lake(config)
    try:
        print(f"lake {lake.name!r} serving at {lake.url} (records in {lake.data_dir})", flush=True)
        if ready is not None:
            ready(lake)
        stop.wait()
        print(f"lake {lake.name!r} stopping", flush=True)
    finally:
        lake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
