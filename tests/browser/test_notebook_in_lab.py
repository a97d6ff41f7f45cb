"""Notebook 2 run in JupyterLab in headless Chromium, checked as a person would see it.

JupyterLab starts on a free local port over a copy of ``notebooks/02-data-scientist.ipynb``;
the browser runs all its cells, then the test looks at the page: the schema browser lists the
table and the three hospitals, the pooled statistics show as a table with plots, and the
training dashboard reached its finished state, updated
by the dashboard's background thread while the notebook went on. Screenshots go to
``artifacts/``. Needs Chromium at ``/usr/bin/chromium`` (``.ci/run`` installs it); without it
the test is skipped with that message, and fails when ``CI`` is set.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyterlab_page import (
    ALL_RUN,
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    RunningLab,
    missing,
    running_jupyterlab,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02-data-scientist.ipynb"
LAKES = ("st-mary", "st-jude", "riverside")
RUN_SECONDS = 600  # the whole notebook, on a busy 2-core machine
IDLE_SECONDS = 30  # an idle kernel with cells still queued

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """JupyterLab serving a folder that holds a copy of notebook 2."""
    if not CHROMIUM.exists():
        missing(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run installs it)")
    root = tmp_path_factory.mktemp("lab")
    work = root / "notebooks"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_CONFIG_DIR", str(root / "config"))  # nothing from the user's config
        with running_jupyterlab(root, work) as running:
            yield running


def _run_all(page: Any, lab: RunningLab) -> None:
    """Run every cell as the menu does; fail, saying where the kernel is, unless every cell
    ran without error within ``RUN_SECONDS``."""
    # Not awaited: the command's promise settles only when every cell has run.
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + RUN_SECONDS
    # the run has started once it cleared the saved execution counts
    page.wait_for_function(
        "() => { const r = (" + ALL_RUN + ")(); return r && r.pending > 0; }", timeout=60_000
    )
    idle_since = None
    while True:
        state = page.evaluate(ALL_RUN)
        if state["errors"]:
            pytest.fail(f"a cell failed in JupyterLab: {state['errors']}")
        if state["pending"] == 0 and state["kernel"] == "idle":
            return
        # Cells still queued on an idle kernel will never run: it died and restarted.
        idle_since = (idle_since or time.monotonic()) if state["kernel"] == "idle" else None
        stuck = idle_since is not None and time.monotonic() - idle_since > IDLE_SECONDS
        if stuck or state["kernel"] == "dead" or time.monotonic() > deadline:
            page.screenshot(path=str(ARTIFACTS / "notebook-in-lab-stuck.png"))
            pytest.fail(f"the notebook stopped before its end: {state}\n{lab.report()}")
        time.sleep(1)


def test_notebook_runs_in_lab_and_shows_the_widgets(lab: RunningLab) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}")
            page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
            page.wait_for_function(
                "() => { const r = (" + ALL_RUN + ")(); return r && r.kernel === 'idle'; }",
                timeout=180_000,
            )
            _run_all(page, lab)
            page.screenshot(path=str(ARTIFACTS / "notebook-in-lab-end.png"))

            schema_browser = page.locator(".collab-schema-browser")
            expect(schema_browser).to_have_count(1)
            for name in ("patients", *LAKES):
                expect(schema_browser).to_contain_text(name)
            expect(schema_browser).to_contain_text("Synthetic rows of patients")
            schema_browser.scroll_into_view_if_needed()
            schema_browser.screenshot(path=str(ARTIFACTS / "schema-browser.png"))

            # the pooled statistics: a table of the columns with a small plot for each, and
            # the one histogram drawn on its own
            statistics = page.locator(".collab-statistics")
            expect(statistics).to_have_count(2)
            described = statistics.first
            for column in ("mean_radius", "mean_texture", "malignant", "q50", "missing"):
                expect(described).to_contain_text(column)
            expect(described.locator("img")).to_have_count(5)
            expect(described).to_contain_text("suppressed")
            expect(statistics.nth(1).locator("img[alt='histogram of mean_radius']")).to_be_visible()
            described.scroll_into_view_if_needed()
            described.screenshot(path=str(ARTIFACTS / "statistics.png"))

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
