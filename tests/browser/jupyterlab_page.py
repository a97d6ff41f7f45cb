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
from dataclasses import dataclass
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
  let first_pending = null;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') { continue; }
    if (cell.executionCount === null) {
      pending += 1;
      if (first_pending === null) {
        first_pending = `cell ${i}: ${cell.sharedModel.getSource().split('\\n')[0]}`;
      }
    }
    for (const output of cell.outputs.toJSON()) {
      if (output.output_type === 'error') {
        errors.push(`cell ${i}: ${output.ename}: ${output.evalue}`);
      }
    }
  }
  return {pending, first_pending, errors, kernel: kernel ? kernel.status : 'none'};
}"""


def missing(what: str) -> None:
    """Skip, or fail when ``CI`` is set: in CI a missing browser or build is a broken set-up."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set: the browser tests must run)")
    pytest.skip(what)


# IPython runs this in every kernel the server starts. A daemon thread waits for a request
# file and answers it with every thread's Python stack, so a test can say where a kernel that
# stopped answering is stuck (a thread, not a signal: the main thread may sit in C code).
STACKS_ON_REQUEST = """\
import os, sys, threading, time, traceback

def _answer_stack_requests(request=os.environ["COLLAB_KERNEL_STACKS"] + ".request"):
    while not os.path.exists(request):
        time.sleep(1)
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    lines = []
    for ident, frame in sys._current_frames().items():
        lines.append(f"--- thread {names.get(ident, ident)}\\n")
        lines.extend(traceback.format_stack(frame))
    with open(f"{request[:-len('.request')]}.{os.getpid()}", "w") as out:
        out.write("".join(lines))

threading.Thread(target=_answer_stack_requests, name="stacks-on-request", daemon=True).start()
"""


@dataclass(frozen=True)
class RunningLab:
    """A JupyterLab server started by :func:`running_jupyterlab`."""

    url: str
    log: Path
    stacks: Path

    def report(self) -> str:
        """Where every kernel's threads are now, and the end of the server's log (kernel
        tracebacks and the JVM's output land there): what a failing test should show."""
        Path(f"{self.stacks}.request").touch()
        deadline = time.monotonic() + 10
        answers: list[Path] = []
        while not answers and time.monotonic() < deadline:
            time.sleep(0.5)
            answers = sorted(self.stacks.parent.glob(f"{self.stacks.name}.[0-9]*"))
        stacks = "".join(f"kernel {a.suffix[1:]}:\n{a.read_text()}" for a in answers)
        return (
            f"--- kernel threads ---\n{stacks[-15000:] or '(no kernel answered)'}\n"
            f"--- {self.log} (end) ---\n{self.log.read_text()[-6000:]}"
        )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@contextmanager
def running_jupyterlab(
    root: Path, notebooks: Path, *, ready: str = "api/status"
) -> Iterator[RunningLab]:
    """JupyterLab serving ``notebooks`` with reproducible settings under ``root``.

    It is up once ``ready`` (a path below the server) answers 200; it is stopped on exit.
    """
    settings = root / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-stacks-on-request.py").write_text(STACKS_ON_REQUEST)
    port = free_port()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "IPYTHONDIR": str(root / "ipython"),
        "COLLAB_KERNEL_STACKS": str(root / "kernel-stacks"),
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
            yield RunningLab(url, log_path, root / "kernel-stacks")
        finally:
            # Stopping the server stops its kernels, and the lakes a kernel started.
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
