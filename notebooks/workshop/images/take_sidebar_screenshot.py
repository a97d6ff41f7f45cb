"""Takes data-lakes-sidebar.png, workshop 4's picture of the Data Lakes sidebar.

Northgate's lake is served over HTTP with the held-out biopsies, as in the notebook; the
scientist's connection is saved with ``collab.connect(..., save=True)`` into a temporary
Jupyter config folder; JupyterLab (with the extension as ``make labext`` installs it) opens in
headless Chromium, the Data Lakes tab is clicked and the patients table unfolded. From the
repository root, with the project's Python:
``python notebooks/workshop/images/take_sidebar_screenshot.py``.
"""

import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser")]

from jupyterlab_page import CHROMIUM, CHROMIUM_FLAGS, running_jupyterlab  # noqa: E402
from lake_processes import free_port  # noqa: E402

import collab  # noqa: E402


def held_out(seed: int) -> pd.DataFrame:
    """The rows ``collab.demo.hospitals(seed=seed)`` holds out (its ``test_set()``), without
    starting its lakes."""
    from sklearn.model_selection import train_test_split

    from collab.demo._hospitals import LABEL, breast_cancer_frame

    frame = breast_cancer_frame()
    _, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=frame[LABEL])
    return test.drop(columns="patient_id")


OUT = Path(__file__).resolve().with_name("data-lakes-sidebar.png")


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    root = Path(tempfile.mkdtemp(prefix="collab-sidebar-"))
    os.environ["JUPYTER_CONFIG_DIR"] = str(root / "config")
    northgate = collab.Lake.launch("northgate", port=free_port())
    try:
        rows = root / "northgate-patients.parquet"
        held_out(seed=0).to_parquet(rows, index=False)
        northgate.add_table("patients", rows, policy=collab.Policy(auto_approve=True))
        northgate.add_scientist("ada@uni.edu", "ada-lovelace-1815", name="Ada")
        collab.connect([northgate.url], email="ada@uni.edu", password="ada-lovelace-1815",
                       save=True)
        work = root / "notebooks"
        work.mkdir()
        with running_jupyterlab(root, work, ready="collab/version") as lab, \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            page = browser.new_page(viewport={"width": 1200, "height": 760})
            page.goto(f"{lab.url}/lab?reset")
            page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
            page.wait_for_function(
                "window.jupyterapp && "
                "window.jupyterapp.commands.hasCommand('collab:open-lakes-panel')",
                timeout=60_000,
            )
            page.click(".jp-SideBar .lm-TabBar-tab[data-id='collab-lakes-panel']")
            panel = page.locator(".jp-collab-lakes-panel")
            lake = panel.locator("li.jp-collab-lake[data-lake='northgate']")
            expect(lake.locator(".jp-collab-table-name")).to_have_text(
                ["patients"], timeout=120_000
            )
            # widen the sidebar so that row counts and column kinds show in full
            handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + 180, box["y"] + box["height"] / 2, steps=5)
            page.mouse.up()
            lake.locator("li[data-table='patients'] .jp-collab-twisty").click()
            expect(lake.locator(".jp-collab-lakes-column").first).to_be_visible()
            page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": 760, "height": 760})
            browser.close()
    finally:
        northgate.stop()
    print(OUT)


if __name__ == "__main__":
    main()
