"""``collab lake serve``: run one lake as a service until SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from .._errors import CollabError
from ._config import LakeConfig, admin_password, database_url, scientist_passwords
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
        for table in config.tables:
            if table.name in lake.tables:
                if lake.policy(table.name) != table.policy:
                    lake.set_policy(table.name, table.policy)
                continue
            lake.add_table(
                table.name,
                table.path,
                format=table.format,
                description=table.description,
                private_columns=table.private_columns,
                column_descriptions=table.column_descriptions,
                bounds=table.bounds or None,
                policy=table.policy,
            )
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
