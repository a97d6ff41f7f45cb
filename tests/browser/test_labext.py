"""The JupyterLab extension with its real server extension, in headless Chromium.

Two lakes serve their Datasites over HTTP from this test process; their connections are
saved with ``collab.connect(..., save=True)`` into a temporary ``JUPYTER_CONFIG_DIR``
(St Mary's as its owner, St Jude's as the scientist, and St Luke's, which nobody serves).
JupyterLab starts on a free port with the extension as ``make install``/``make labext``
installed it into the venv. The browser opens the Data Lakes sidebar, checks the lakes,
tables, the owner's pending request and the offline lake, clicks a table, runs the inserted
cell and checks the schema that the extension's renderer drew. Screenshots go to
``artifacts/labext-*.png``. Without Chromium or a build the test skips, and fails under
``CI=true``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyterlab_page import (
    ALL_RUN,
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    missing,
    running_jupyterlab,
)
from lake_processes import SCIENTIST

import collab
from collab.demo._hospitals import breast_cancer_frame

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "labext"))
from served_lakes import FEATURES, save_lab_connections, served_lakes  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.http, pytest.mark.slow]

BUILT = ROOT / "collab" / "labextension" / "package.json"
FLAGS = [*CHROMIUM_FLAGS, "--disable-sync"]
COLUMNS = list(breast_cancer_frame().columns)

# One payload per collab MIME type, as a saved notebook holds them (for the renderers alone).
SCHEMA = {
    "table": "patients",
    "lakes": ["st-mary", "st-jude"],
    "columns": [
        {
            "name": "radius",
            "type": "double",
            "nullable": False,
            "description": "mean radius",
            "private": False,
            "kind": "numeric",
            "presence": {"st-mary": "ok", "st-jude": "ok"},
        },
        {
            "name": "age",
            "type": "int",
            "nullable": False,
            "description": "<script>window.injected = 1</script>",
            "private": False,
            "kind": "numeric",
            "presence": {"st-mary": "ok", "st-jude": "differs: bigint"},
        },
        {
            "name": "name",
            "type": "string",
            "nullable": False,
            "description": "",
            "private": True,
            "kind": "text",
            "presence": {"st-mary": "ok", "st-jude": "missing"},
        },
    ],
}
PLAN = {
    "model": "logistic_regression",
    "table": "patients",
    "features": ["radius", "age"],
    "label": "malignant",
    "secure_aggregation": True,
    "secure_threshold": None,
    "dp": {"epsilon": 1.0, "delta": 1e-5, "clip_norm": 1.0},
    "rounds": 30,
    "local_epochs": 1,
    "learning_rate": 0.5,
    "batch_size": None,
    "l2": 0.0,
    "server_optimizer": "sgd",
    "server_learning_rate": None,
    "hash": "ab12cd34ef",
    "task": "classification",
    "total_rounds": 30,
    "metrics": ["loss", "accuracy"],
    "primary_metric": "accuracy",
    "settings": [
        ["rounds", 30],
        ["local_epochs", 1],
        ["learning_rate", 0.5],
        ["batch_size", None],
        ["l2", 0.0],
        ["server_optimizer", "sgd"],
        ["server_learning_rate", None],
    ],
}
OUTPUTS = {
    "application/vnd.collab.schema+json": SCHEMA,
    "application/vnd.collab.plan+json": PLAN,
    "application/vnd.collab.job+json": {
        "job_id": "job-7f3a",
        "plan": PLAN,
        "status": "running",
        "lakes": {"st-mary": "running", "st-jude": "waiting for approval"},
        "rounds_done": 12,
        "rounds_total": 30,
        "history": [{"round": r, "loss": 0.7 / r, "accuracy": 0.9, "rows": 455} for r in (1, 2, 3)],
        "error": None,
    },
    "application/vnd.collab.model+json": {
        "model": "logistic_regression",
        "task": "classification",
        "features": ["radius", "age"],
        "label": "malignant",
        "rounds": 30,
        "lakes": ["st-mary", "st-jude"],
        "plan_hash": "ab12cd34ef",
        "classes": [0, 1],
        "coef": [1.2, -0.4],
        "intercept": 0.1,
        "report": {
            "title": "Coefficients",
            "header": ["feature", "coefficient"],
            "rows": [["radius", 1.2], ["age", -0.4], ["(intercept)", 0.1]],
            "note": "on the original (unstandardised) scale of each feature",
        },
    },
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Served lakes, their saved connections, and JupyterLab reading them; URL and paths."""
    if not CHROMIUM.exists():
        missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    if not BUILT.exists():
        missing(f"the extension is not built ({BUILT} is missing): make labext")
    root = tmp_path_factory.mktemp("labext")
    config, work = root / "config", root / "notebooks"
    work.mkdir()
    with served_lakes(root / "lakes") as lakes, pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_CONFIG_DIR", str(config))
        save_lab_connections(lakes, offline=True)
        # a scientist's plan waits for St Mary's owner
        fed = collab.connect([lakes["st-mary"].url], email=SCIENTIST[0], password=SCIENTIST[1])
        fed.submit(
            collab.plans.LogisticRegression(
                table="patients", features=FEATURES, label="malignant", rounds=3
            )
        )
        with running_jupyterlab(root, work, ready="collab/version") as running:
            yield {
                "url": running.url,
                "config": config / "collab",
                "notebooks": work,
                "lakes": lakes,
            }


@pytest.fixture(scope="module")
def browser(lab: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, lab: dict[str, Any]) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{lab['url']}/lab?reset")
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.commands.hasCommand('collab:open-lakes-panel')",
        timeout=60_000,
    )
    yield page
    page.close()
    assert errors == []


def _command(page: Any, command: str, args: dict[str, Any] | None = None) -> Any:
    return page.evaluate(
        "([c, a]) => window.jupyterapp.commands.execute(c, a)", [command, args or {}]
    )


def _cells(page: Any) -> list[list[str]]:
    return page.evaluate(
        "window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
        ".map(c => [c.cell_type, c.getSource()])"
    )


def test_sidebar_lists_the_saved_lakes_and_a_clicked_table_renders_its_schema(page, lab):
    from playwright.sync_api import expect

    _command(page, "collab:new-scientist-notebook")
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget?.content?.model?.sharedModel?.cells.length === 5"
    )
    assert _cells(page)[1] == [
        "code",
        "import collab\n\nfed = collab.connect()  # the saved lakes, with saved passwords\nfed",
    ]

    # the Data Lakes tab in the left sidebar, as a person opens it
    page.click(".jp-SideBar .lm-TabBar-tab[data-id='collab-lakes-panel']")
    panel = page.locator(".jp-collab-lakes-panel")
    expect(panel.locator(".jp-collab-lake-name")).to_have_text(
        ["st-mary", "st-jude", "st-luke"], timeout=120_000
    )
    mary = panel.locator("li.jp-collab-lake[data-lake='st-mary']")
    jude = panel.locator("li.jp-collab-lake[data-lake='st-jude']")
    luke = panel.locator("li.jp-collab-lake[data-lake='st-luke']")
    expect(mary.locator(".jp-collab-role")).to_have_text("owner")
    expect(mary.locator(".jp-collab-table-name")).to_have_text(["patients"])
    expect(mary.locator(".jp-collab-rows")).to_have_text(["at least 300 rows"])
    expect(mary.locator(".jp-collab-count-badge")).to_have_text("1")
    expect(mary.locator(".jp-collab-request-who")).to_have_text([SCIENTIST[0]])
    expect(jude.locator(".jp-collab-role")).to_have_text("scientist")
    expect(jude.locator(".jp-collab-table-name")).to_have_text(["biopsies", "patients"])
    expect(jude.locator(".jp-collab-rows")).to_have_text(["at least 60 rows", "at least 200 rows"])
    expect(jude.locator(".jp-collab-count-badge")).to_have_count(0)
    expect(luke.locator(".jp-collab-lake-error")).to_have_text(
        re.compile(
            r"^lake 'st-luke' at http://127\.0\.0\.1:\d+ is not reachable \(Connection refused\)\. "
            r"Is the lake running\?$"
        )
    )
    # the columns of a table, private ones badged
    jude.locator("li[data-table='patients'] .jp-collab-twisty").click()
    columns = jude.locator("li[data-table='patients'] .jp-collab-lakes-column")
    expect(columns).to_have_count(len(COLUMNS))
    expect(columns.first).to_contain_text("patient_id")
    expect(columns.first.locator(".jp-collab-badge-private")).to_have_text("private")

    # the template's cells log in with the saved connections
    page.wait_for_function(
        "() => { const r = (" + ALL_RUN + ")(); return r && r.kernel === 'idle'; }",
        timeout=180_000,
    )
    _command(page, "notebook:run-all-cells")
    page.wait_for_function(
        "() => { const r = (" + ALL_RUN + ")();"
        " return r && (r.errors.length > 0 || (r.pending === 0 && r.kernel === 'idle')); }",
        timeout=300_000,
        polling=1000,
    )
    state = page.evaluate(ALL_RUN)
    assert state["errors"] == [], state["errors"]
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(notebook.locator(".jp-Cell").nth(1).locator(".jp-OutputArea")).to_contain_text(
        "<Federation lakes=['st-jude']>"
    )

    # click St Jude's patients table: a cell is inserted and selected, then run
    jude.locator("li[data-table='patients'] .jp-collab-table-name").click()
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 6"
    )
    cells = _cells(page)
    active = page.evaluate("window.jupyterapp.shell.currentWidget.content.activeCellIndex")
    assert cells[active] == ["code", 'fed.schema_view("patients")']
    _command(page, "notebook:run-cell")
    inserted = notebook.locator(".jp-Cell").nth(active)
    schema = inserted.locator(".jp-OutputArea .jp-collab-schema")
    expect(schema).to_have_count(1, timeout=120_000)
    # drawn by the extension's renderer, not collab's HTML fallback
    expect(inserted.locator(".collab-repr")).to_have_count(0)
    mimes = page.evaluate(
        "([i]) => Object.keys(window.jupyterapp.shell.currentWidget.content.model.cells"
        ".get(i).outputs.get(0).data)",
        [active],
    )
    assert "application/vnd.collab.schema+json" in mimes and "text/html" in mimes
    expect(schema.locator(".jp-collab-title")).to_have_text("Table patients")
    expect(schema.locator(".jp-collab-subtitle")).to_have_text(f"{len(COLUMNS)} columns in 1 lake")
    expect(schema.locator("tbody tr")).to_have_count(len(COLUMNS))
    expect(schema.locator("thead th")).to_contain_text(["Column", "Type", "st-jude"])
    private = schema.locator("tbody tr[data-column='patient_id']")
    expect(private.locator(".jp-collab-badge-private")).to_have_text("private")
    schema.locator(".jp-collab-filter").fill("radius")
    expect(schema.locator("tbody tr")).to_have_count(3)
    expect(schema.locator(".jp-collab-count")).to_have_text(f"3 of {len(COLUMNS)}")
    assert schema.locator("tbody tr .jp-collab-column-name").all_inner_texts() == [
        c for c in COLUMNS if "radius" in c
    ]

    # "plan skeleton" inserts a plan over the table's visible numeric columns; the label,
    # malignant, is published as binary, so the plan is a LogisticRegression
    jude.locator("li[data-table='patients'] .jp-collab-plan-button").click()
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 7"
    )
    features = [c for c in COLUMNS if c not in ("patient_id", "malignant")]
    assert _cells(page)[active + 1] == [
        "code",
        "plan = collab.plans.LogisticRegression(\n"
        '    table="patients",\n'
        "    features=[\n" + "".join(f'        "{f}",\n' for f in features) + "    ],\n"
        '    label="malignant",\n'
        "    rounds=30,\n"
        ")",
    ]

    ARTIFACTS.mkdir(exist_ok=True)
    schema.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "labext-sidebar-and-schema.png"))
    panel.screenshot(path=str(ARTIFACTS / "labext-sidebar.png"))
    schema.screenshot(path=str(ARTIFACTS / "labext-schema.png"))


def test_plugins_launcher_and_palette(page, lab):
    active = page.evaluate(
        "['@data-lake-collab/labext:lakes', '@data-lake-collab/labext:templates']"
        ".map(id => window.jupyterapp.isPluginActivated(id))"
    )
    assert active == [True, True]
    assert page.evaluate("window.jupyterapp.hasPlugin('@data-lake-collab/labext:renderers')")
    from playwright.sync_api import expect

    _command(page, "launcher:create")
    launcher = page.locator(".jp-Launcher").first
    # the launcher fills in its sections after it appears: wait for ours, not only for it
    section = launcher.locator(".jp-Launcher-sectionTitle", has_text="Data Lake Collab")
    expect(section).to_have_count(1, timeout=60_000)
    for card in ("Scientist Notebook", "Owner Notebook"):
        label = launcher.locator(".jp-LauncherCard-label").filter(has_text=re.compile(f"^{card}$"))
        expect(label).to_have_count(1, timeout=60_000)
    labels = page.evaluate(
        "['collab:new-scientist-notebook', 'collab:refresh-lakes']"
        ".map(id => window.jupyterapp.commands.label(id, {isPalette: true}))"
    )
    assert labels == ["New Scientist Notebook", "Refresh Data Lakes"]


def test_a_server_error_shows_in_the_panel(page, lab):
    from playwright.sync_api import expect

    connections = lab["config"] / "connections.json"
    saved = connections.read_text()
    _command(page, "collab:open-lakes-panel")
    panel = page.locator(".jp-collab-lakes-panel")
    expect(panel.locator(".jp-collab-lake-name")).to_have_count(3, timeout=120_000)
    connections.write_text('{"lakes": [')
    try:
        panel.locator(".jp-Toolbar button").first.click()  # Refresh lakes
        alert = panel.locator("[role=alert]")
        expect(alert).to_have_text(
            f"{connections} is not valid JSON (Expecting value: line 1 column 12 (char 11)); "
            "fix or delete it, then save them again with "
            "collab.connect([...], email=..., password=..., save=True)",
            timeout=60_000,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        panel.screenshot(path=str(ARTIFACTS / "labext-sidebar-error.png"))
    finally:
        connections.write_text(saved)
    panel.locator(".jp-Toolbar button").first.click()
    expect(panel.locator("[role=alert]")).to_have_count(0, timeout=60_000)


def test_outputs_render_in_an_untrusted_saved_notebook(page, lab):
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "id": f"cell-{i}",
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "source": "",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {mime: payload, "text/html": "<b>fallback html</b>"},
                    }
                ],
            }
            for i, (mime, payload) in enumerate(OUTPUTS.items())
        ],
    }
    (lab["notebooks"] / "saved.ipynb").write_text(json.dumps(notebook))
    _command(page, "docmanager:open", {"path": "saved.ipynb", "kernel": {"name": None}})
    page.wait_for_selector(".jp-OutputArea .jp-collab-model", timeout=60_000)
    for view in ("schema", "plan", "job", "model"):
        assert page.locator(f".jp-OutputArea .jp-collab-{view}").count() == 1
    assert page.locator("text=fallback html").count() == 0
    assert page.locator("tr.jp-collab-mismatch").count() == 2
    assert page.evaluate("window.injected") is None
    assert page.locator(".jp-collab-progress-text").inner_text() == "12 / 30 rounds"


def test_kernel_output_renders_again_after_a_reload(page, lab):
    _command(page, "collab:new-owner-notebook")
    page.wait_for_function("window.jupyterapp.shell.currentWidget?.sessionContext")
    code = (
        "import json\n"
        "from IPython.display import display\n"
        f"for mime, payload in json.loads({json.dumps(json.dumps(OUTPUTS))}).items():\n"
        "    display({mime: payload, 'text/plain': mime}, raw=True)"
    )
    page.evaluate(
        """async (code) => {
          const panel = window.jupyterapp.shell.currentWidget;
          await panel.sessionContext.ready;
          const shared = panel.content.model.sharedModel;
          shared.insertCell(shared.cells.length, {cell_type: 'code', source: code});
          panel.content.activeCellIndex = shared.cells.length - 1;
          await window.jupyterapp.commands.execute('notebook:run-cell');
          await panel.context.save();
        }""",
        code,
    )
    page.wait_for_selector(".jp-OutputArea .jp-collab-model", timeout=120_000)
    page.goto(f"{lab['url']}/lab")
    page.wait_for_selector(".jp-OutputArea .jp-collab-model", timeout=120_000)
    for view in ("schema", "plan", "job", "model"):
        assert page.locator(f".jp-OutputArea .jp-collab-{view}").count() == 1
    assert page.locator(".jp-collab-progress-text").inner_text() == "12 / 30 rounds"
