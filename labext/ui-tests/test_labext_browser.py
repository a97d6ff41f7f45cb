"""Browser test of the JupyterLab extension, in headless Chromium.

JupyterLab runs with the built extension (``collab/labextension``, from
``jlpm build:prod``) and ``fake_collab_server``, which serves the documented
REST payloads. Skipped when Playwright, Chromium or the build is missing.

    COLLAB_JUPYTER=.venv/bin/jupyter pytest labext/ui-tests

``COLLAB_JUPYTER`` is the ``jupyter`` executable of an environment with
JupyterLab and ipykernel (default: this interpreter's); ``COLLAB_CHROMIUM``
is the browser (default ``/usr/bin/chromium``).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

HERE = Path(__file__).resolve().parent
BUILT = HERE.parent.parent / "collab" / "labextension"
CHROMIUM = os.environ.get("COLLAB_CHROMIUM", "/usr/bin/chromium")
JUPYTER = os.environ.get("COLLAB_JUPYTER")

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
    "rounds": 30,
    "local_epochs": 1,
    "learning_rate": 0.5,
    "secure_aggregation": True,
    "dp": {"epsilon": 1.0, "delta": 1e-5, "clip_norm": 1.0},
    "hash": "ab12cd34ef",
}
JOB = {
    "job_id": "job-7f3a",
    "plan": PLAN,
    "status": "running",
    "lakes": {"st-mary": "running", "st-jude": "waiting for approval"},
    "rounds_done": 12,
    "rounds_total": 30,
    "history": [{"round": r, "loss": 0.7 / r, "accuracy": 0.9, "rows": 455} for r in (1, 2, 3)],
    "error": None,
}
MODEL = {
    "model": "logistic_regression",
    "features": ["radius", "age"],
    "label": "malignant",
    "coef": [1.2, -0.4],
    "intercept": 0.1,
    "rounds": 30,
    "lakes": ["st-mary", "st-jude"],
}
OUTPUTS = {
    "application/vnd.collab.schema+json": SCHEMA,
    "application/vnd.collab.plan+json": PLAN,
    "application/vnd.collab.job+json": JOB,
    "application/vnd.collab.model+json": MODEL,
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not (BUILT / "package.json").exists():
        pytest.skip("build the extension first: cd labext && jlpm build:prod")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    root = tmp_path_factory.mktemp("lab")
    extensions = root / "data" / "labextensions" / "@data-lake-collab"
    extensions.mkdir(parents=True)
    (extensions / "labext").symlink_to(BUILT)
    notebooks = root / "notebooks"
    notebooks.mkdir()
    state = root / "fake-state.json"
    port = _free_port()

    command = [JUPYTER, "lab"] if JUPYTER else [sys.executable, "-m", "jupyterlab"]
    bin_dir = str(Path(command[0]).parent)
    env = {
        **os.environ,
        "JUPYTER_PATH": str(root / "data"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        # The kernel spec starts `python`: use the one beside jupyter.
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "COLLAB_FAKE_STATE": str(state),
    }
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(
        [
            *command,
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--allow-root",
            "--expose-app-in-browser",
            f"--ServerApp.root_dir={notebooks}",
            f"--LabApp.workspaces_dir={root / 'workspaces'}",
            '--ServerApp.jpserver_extensions={"fake_collab_server": True}',
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/collab/version", timeout=2).read()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError((root / "lab.log").read_text()) from None
            time.sleep(0.3)
    yield {"url": url, "notebooks": notebooks, "state": state}
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(lab):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, lab):
    lab["state"].write_text("{}")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(error.stack))
    page.goto(f"{lab['url']}/lab?reset")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.commands.hasCommand('collab:open-lakes-panel')",
        timeout=30_000,
    )
    yield page
    page.close()
    assert errors == []


def _command(page, command, args=None):
    page.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a)", [command, args or {}])


def _cells(page):
    return page.evaluate(
        "window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
        ".map(c => [c.cell_type, c.getSource()])"
    )


def test_plugins_activate(page):
    active = page.evaluate(
        "['@data-lake-collab/labext:lakes', '@data-lake-collab/labext:templates']"
        ".map(id => window.jupyterapp.isPluginActivated(id))"
    )
    assert active == [True, True]
    assert page.evaluate("window.jupyterapp.hasPlugin('@data-lake-collab/labext:renderers')")


def test_panel_lists_lakes_requests_and_errors(page):
    _command(page, "collab:open-lakes-panel")
    page.wait_for_selector(".jp-collab-lake-name")
    assert page.locator(".jp-collab-lake-name").all_inner_texts() == ["st-mary", "st-jude"]
    assert page.locator(".jp-collab-count-badge").all_inner_texts() == ["2"]
    assert page.locator(".jp-collab-request-who").all_inner_texts() == ["ada@lab.org"]
    assert page.locator(".jp-collab-lake-error").all_inner_texts() == [
        "Connection refused at http://127.0.0.1:8082"
    ]
    assert page.locator(".jp-collab-warning").count() == 0


def test_panel_reports_server_errors_and_version_mismatch(page, lab):
    lab["state"].write_text(json.dumps({"version": "0.2.0", "fail": True}))
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.commands.hasCommand('collab:open-lakes-panel')"
    )
    _command(page, "collab:open-lakes-panel")
    page.wait_for_selector(".jp-collab-lakes [role=alert]")
    assert page.locator(".jp-collab-lakes [role=alert]").inner_text() == "st-mary: registry locked"
    assert "version 0.2.0" in page.locator(".jp-collab-warning").inner_text()


def test_launcher_and_palette_entries(page):
    _command(page, "launcher:create")
    page.wait_for_selector(".jp-Launcher")
    assert "Data Lake Collab" in page.locator(".jp-Launcher-sectionTitle").all_inner_texts()
    cards = page.locator(".jp-LauncherCard-label").all_inner_texts()
    assert "Scientist Notebook" in cards and "Owner Notebook" in cards


def test_template_notebook_then_insert_schema_and_plan(page):
    _command(page, "collab:new-scientist-notebook")
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget?.content?.model?.sharedModel?.cells.length === 2"
    )
    assert _cells(page) == [["markdown", "# Scientist notebook"], ["code", "import collab"]]

    _command(page, "collab:open-lakes-panel")
    page.click(".jp-collab-table-name")
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 3"
    )
    page.click(".jp-collab-plan-button")
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 4"
    )
    sources = [source for _, source in _cells(page)]
    assert sources[1] == 'fed.schema("patients")'
    assert sources[2] == (
        "plan = collab.plans.LogisticRegression(\n"
        '    table="patients",\n'
        '    features=["radius", "texture"],\n'
        '    label="malignant",\n'
        "    rounds=30,\n"
        ")"
    )


def test_outputs_render_in_an_untrusted_notebook(page, lab):
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
    page.wait_for_selector(".jp-collab-model")
    for view in ("schema", "plan", "job", "model"):
        assert page.locator(f".jp-OutputArea .jp-collab-{view}").count() == 1
    assert page.locator("text=fallback html").count() == 0
    assert page.locator("tr.jp-collab-mismatch").count() == 2
    assert page.evaluate("window.injected") is None
    assert page.locator(".jp-collab-progress-text").inner_text() == "12 / 30 rounds"


def test_kernel_output_renders_and_survives_reload(page, lab):
    _command(page, "collab:new-owner-notebook")
    page.wait_for_function("window.jupyterapp.shell.currentWidget?.sessionContext")
    # One display per payload: a bundle shows one view, its best-ranked type.
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
    page.wait_for_selector(".jp-OutputArea .jp-collab-model", timeout=60_000)
    page.goto(f"{lab['url']}/lab")
    page.wait_for_selector(".jp-OutputArea .jp-collab-model", timeout=60_000)
    for view in ("schema", "plan", "job", "model"):
        assert page.locator(f".jp-OutputArea .jp-collab-{view}").count() == 1
    assert page.locator(".jp-collab-progress-text").inner_text() == "12 / 30 rounds"
