"""The notebooks are stored with their outputs (they read well on GitHub), and those outputs hold
no real row: no record number, no row of real measurements, in any output or widget state."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from collab.demo._hospitals import breast_cancer_frame

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
RECORD_NUMBER = re.compile(r"\bP\d{5}\b")
ROW_MATCHES = 5  # this many of one real row's values in one output would be a leaked row


def _texts(notebook: nbformat.NotebookNode) -> list[str]:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append(output["text"])
            for mime, value in output.get("data", {}).items():
                if not mime.startswith("image/"):
                    texts.append(value if isinstance(value, str) else json.dumps(value))
    texts.append(json.dumps(notebook.metadata.get("widgets", {})))
    return texts


@pytest.fixture(scope="module")
def real_rows() -> list[frozenset[float]]:
    frame = breast_cancer_frame()
    features = frame.drop(columns=["patient_id", "malignant"])
    return [frozenset(row) for row in features.itertuples(index=False)]


def test_there_are_notebooks() -> None:
    names = {p.relative_to(ROOT / "notebooks").as_posix() for p in NOTEBOOKS}
    assert {
        "01-data-owner.ipynb",
        "02-data-scientist.ipynb",
        "03-federated-training.ipynb",
        "04-privacy-explained.ipynb",
    } <= names
    assert any(n.startswith("workshop/solutions/") for n in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_outputs_ran_in_order_and_show_no_real_row(
    path: Path, real_rows: list[frozenset[float]]
) -> None:
    notebook = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), "run the notebook top to bottom and save"
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name} stored an error"
    for text in _texts(notebook):
        assert not RECORD_NUMBER.search(text), f"{path.name} shows a record number"
        numbers = {float(n) for n in NUMBER.findall(text)}
        if len(numbers) < ROW_MATCHES:
            continue
        worst = max(len(row & numbers) for row in real_rows)
        assert worst < ROW_MATCHES, f"{path.name} shows {worst} values of one real row"


PROGRESS = re.compile(r"(?:statistics|training): +\d+%\|[^|\n]*\| *(\d+)/(\d+)")
SILENCED = re.compile(r"^\s*%%capture", re.MULTILINE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_progress_is_shown_and_stored_as_it_ended(path: Path) -> None:
    """No cell hides its output (collab.quiet_library_logs() keeps the libraries' notices
    out instead), and what a viewer without a kernel shows of a progress bar or a training
    dashboard is how it ended, not how it began."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not SILENCED.search(cell.source), f"{path.name} uses %%capture"
        for output in cell.get("outputs", []):
            plain = output.get("data", {}).get("text/plain", "")
            for done, total in PROGRESS.findall(plain):
                assert done == total, f"{path.name} stored a progress bar at {done}/{total}"
            if plain.startswith("Training "):
                assert " · done" in plain.splitlines()[0], f"{path.name}: {plain[:80]!r}"
