"""Plain helpers for tests that start lakes in child processes (importable from any test)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

SCIENTIST = ("ada@uni.edu", "ada-lovelace-1815")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ADMIN_PASSWORD = "a-long-owner-secret"


def process_on_port(port: int) -> psutil.Process:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return psutil.Process(conn.pid)
    raise LookupError(f"no process listens on port {port}")


def write_config(
    path: Path,
    *,
    name: str,
    port: int,
    data_dir: Path,
    table: Path,
    master: str | None = None,
    auto_approve: bool = False,
    scientists: tuple[str, ...] = ("ada@uni.edu",),
) -> Path:
    spark = f'[spark]\nmaster = "{master}"\n' if master else ""
    people = "".join(
        f'[[scientists]]\nemail = "{e}"\nname = "{e.split("@")[0]}"\n\n' for e in scientists
    )
    path.write_text(
        f"""[lake]
name = "{name}"
port = {port}
host = "127.0.0.1"
data_dir = "{data_dir}"

{spark}
[[tables]]
name = "patients"
path = "{table}"
description = "Breast biopsy measurements"
private_columns = ["patient_id"]
[tables.policy]
min_rows = 20
auto_approve = {str(auto_approve).lower()}

{people}"""
    )
    return path


def lake_env(**extra: str) -> dict[str, str]:
    """The environment ``collab lake serve`` reads its secrets from."""
    return {
        **os.environ,
        "COLLAB_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "COLLAB_SCIENTIST_PASSWORDS": f"{SCIENTIST[0]}={SCIENTIST[1]}",
        **extra,
    }


def start(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``collab lake serve --config config`` in a process of its own, once it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "collab", "lake", "serve", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 180
    for line in process.stdout:
        if "serving at" in line:
            # keep reading, or the lake blocks once its log fills the pipe
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process
        if time.monotonic() > deadline:
            break
    process.kill()
    raise AssertionError(f"the lake did not start (exit {process.poll()})")
