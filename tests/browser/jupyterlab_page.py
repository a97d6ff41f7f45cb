"""What the browser tests share: where Chromium is, how it starts, and how a page is read."""

from __future__ import annotations

import os
from pathlib import Path

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
