"""What the browser tests share: where Chromium is, how it starts, and how a page is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lake_processes import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path(os.environ.get("COLLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# JupyterLab settings for a reproducible page: every cell kept in the page (no windowing),
# no news prompt.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

ALL_RUN = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext.session) { return null; }
  const kernel = panel.sessionContext.session.kernel;
  const cells = panel.content.model.cells;
  const errors = [];
  let pending = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') { continue; }
    if (cell.executionCount === null) { pending += 1; }
    for (const output of cell.outputs.toJSON()) {
      if (output.output_type === 'error') {
        errors.push(`cell ${i}: ${output.ename}: ${output.evalue}`);
      }
    }
  }
  return {pending, errors, kernel: kernel ? kernel.status : 'none'};
}"""


def missing(what: str) -> None:
    """Skip, or fail when ``CI`` is set: in CI a missing browser or build is a broken set-up."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set: the browser tests must run)")
    pytest.skip(what)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@contextmanager
def running_jupyterlab(root: Path, notebooks: Path, *, ready: str = "api/status") -> Iterator[str]:
    """JupyterLab serving ``notebooks`` with reproducible settings under ``root``; its URL.

    It is up once ``ready`` (a path below the server) answers 200; it is stopped on exit.
    """
    settings = root / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    log_path = root / "lab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                f"--port={port}",
                "--ip=127.0.0.1",
                "--IdentityProvider.token=",
                "--allow-root",
                "--expose-app-in-browser",
                f"--ServerApp.root_dir={notebooks}",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={root / 'workspaces'}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while not _answers(f"{url}/{ready}"):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {log_path.read_text()[-3000:]}")
                time.sleep(0.5)
            yield url
        finally:
            # Stopping the server stops its kernels, and the lakes a kernel started.
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
