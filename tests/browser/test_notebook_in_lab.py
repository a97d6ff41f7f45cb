"""Notebook 2 run in JupyterLab in headless Chromium, checked as a person would see it.

JupyterLab starts on a free local port over a copy of ``notebooks/02-data-scientist.ipynb``;
the browser runs all its cells, then the test looks at the page: the schema browser lists the
table and the three hospitals, and the training dashboard reached its finished state, updated
by the dashboard's background thread while the notebook went on. Screenshots go to
``artifacts/``. Needs Chromium at ``/usr/bin/chromium`` (``.ci/run`` installs it); without it
the test is skipped with that message, and fails when ``CI`` is set.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_page import ALL_RUN, ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, SETTINGS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02-data-scientist.ipynb"
LAKES = ("st-mary", "st-jude", "riverside")
RUN_SECONDS = 600  # the whole notebook, on a busy 2-core machine

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return int(reply.status)
    except OSError:
        return 0


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab serving a folder that holds a copy of notebook 2; its URL."""
    if not CHROMIUM.exists():
        # In CI a missing browser is a broken set-up, not a reason to pass quietly.
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run installs it)")
    root = tmp_path_factory.mktemp("lab")
    work = root / "notebooks"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    settings = root / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = _free_port()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "JUPYTER_CONFIG_DIR": str(root / "config"),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    log = (root / "lab.log").open("w")
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
            f"--ServerApp.root_dir={work}",
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
        while _get(f"{url}/api/status") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start: {(root / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        request = urllib.request.Request(f"{url}/api/shutdown", method="POST")
        try:  # stops the kernel (and its lakes) with the server
            urllib.request.urlopen(request, timeout=10).close()
            server.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def test_notebook_runs_in_lab_and_shows_the_widgets(lab: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}")
            page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
            page.wait_for_function(
                "() => { const r = (" + ALL_RUN + ")(); return r && r.kernel === 'idle'; }",
                timeout=180_000,
            )
            # Not awaited: the command's promise settles only when every cell has run.
            page.evaluate(
                "() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
            )
            page.wait_for_function(
                "() => { const r = (" + ALL_RUN + ")();"
                " return r && (r.errors.length > 0 || (r.pending === 0 && r.kernel === 'idle')); }",
                timeout=RUN_SECONDS * 1000,
                polling=1000,
            )
            state = page.evaluate(ALL_RUN)
            page.screenshot(path=str(ARTIFACTS / "notebook-in-lab-end.png"))
            assert state["errors"] == [], state["errors"]
            assert state["pending"] == 0

            schema_browser = page.locator(".collab-schema-browser")
            expect(schema_browser).to_have_count(1)
            for name in ("patients", *LAKES):
                expect(schema_browser).to_contain_text(name)
            expect(schema_browser).to_contain_text("Synthetic rows of patients")
            schema_browser.scroll_into_view_if_needed()
            schema_browser.screenshot(path=str(ARTIFACTS / "schema-browser.png"))

            dashboard = page.locator(".collab-training-dashboard")
            expect(dashboard).to_have_count(1)
            expect(dashboard).to_contain_text("Finished", timeout=60_000)
            expect(dashboard).to_contain_text("20 / 20 rounds")
            expect(dashboard.locator(".collab-badge.collab-done")).to_have_count(1)
            for lake in LAKES:
                expect(dashboard).to_contain_text(lake)
            expect(dashboard.locator("td.collab-state.collab-done")).to_have_count(len(LAKES))
            expect(dashboard.locator("img")).to_be_visible()
            dashboard.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "notebook-in-lab.png"))
            dashboard.screenshot(path=str(ARTIFACTS / "training-dashboard.png"))
        finally:
            browser.close()
