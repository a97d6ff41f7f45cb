"""notebooks/workshop/INSTRUCTOR.md states how long each workshop notebook runs, and the README
promises an upper bound: both must agree with the stored runs.

A notebook's run time is read from the timing metadata nbclient stores in each code cell
(``metadata.execution``): from the first code cell's ``iopub.execute_input`` to the last code
cell's ``shell.execute_reply``, the wall time of a top-to-bottom run (``make notebooks``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = ROOT / "notebooks" / "workshop"
GUIDE = WORKSHOP / "INSTRUCTOR.md"
NOTEBOOKS = sorted(WORKSHOP.glob("*.ipynb")) + sorted((WORKSHOP / "solutions").glob("*.ipynb"))
# a stated time may be off by 30 seconds or 30% of the stored run, whichever is more
SLACK_SECONDS, SLACK_SHARE = 30.0, 0.3
# | `solutions/2-train-together.ipynb` | 75 s |
ROW = re.compile(r"^\| `(?P<notebook>[\w./-]+\.ipynb)` \| (?P<seconds>\d+) s \|", re.M)
PROMISE = re.compile(r"each\s+workshop\s+notebook\s+runs\s+in\s+under\s+(?P<minutes>\w+)\s+minutes")
NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def run_seconds(path: Path) -> float:
    """The stored run's wall time: first code cell's start to last code cell's reply."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert cells, f"{path.name} has no code cells"
    timings = [c["metadata"].get("execution", {}) for c in cells]
    for i, timing in enumerate(timings):
        for key in ("iopub.execute_input", "shell.execute_reply"):
            assert key in timing, (
                f"{path.name}: code cell {i} has no stored {key!r}; re-run it "
                "with `make notebooks` (nbconvert stores the timings)"
            )
    start = _moment(timings[0]["iopub.execute_input"])
    end = _moment(timings[-1]["shell.execute_reply"])
    assert end > start
    return (end - start).total_seconds()


def stated_seconds() -> dict[str, int]:
    return {m["notebook"]: int(m["seconds"]) for m in ROW.finditer(GUIDE.read_text())}


def test_the_guide_states_a_time_for_every_workshop_notebook() -> None:
    stated = stated_seconds()
    names = {str(p.relative_to(WORKSHOP)) for p in NOTEBOOKS}
    assert len(NOTEBOOKS) == 8 and set(stated) == names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(WORKSHOP)))
def test_the_stated_time_is_the_stored_runs(path: Path) -> None:
    stored = run_seconds(path)
    stated = stated_seconds()[str(path.relative_to(WORKSHOP))]
    slack = max(SLACK_SECONDS, SLACK_SHARE * stored)
    assert abs(stated - stored) <= slack, (
        f"INSTRUCTOR.md says {path.name} runs in about {stated} s; its stored run took "
        f"{stored:.0f} s: update the table"
    )


def test_the_readme_promise_holds_for_every_stored_run() -> None:
    paragraph = (ROOT / "README.md").read_text()
    promise = PROMISE.search(paragraph)
    assert promise, "README.md should say: each workshop notebook runs in under N minutes"
    limit = 60 * NUMBERS[promise["minutes"]]
    slowest = max(NOTEBOOKS, key=run_seconds)
    assert run_seconds(slowest) < limit, (
        f"{slowest.relative_to(ROOT)} took {run_seconds(slowest):.0f} s in its stored run, "
        f"not under {promise['minutes']} minutes as README.md promises"
    )


def test_run_time_reads_first_start_to_last_reply(tmp_path: Path) -> None:
    def cell(start: str, end: str) -> dict:
        execution = {"iopub.execute_input": start, "shell.execute_reply": end}
        return {"cell_type": "code", "metadata": {"execution": execution}}

    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}},
            cell("2026-01-01T10:00:00.500Z", "2026-01-01T10:00:40Z"),
            cell("2026-01-01T10:00:41Z", "2026-01-01T10:01:30.500Z"),
        ]
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook))
    assert run_seconds(path) == 90.0
    del notebook["cells"][2]["metadata"]["execution"]["shell.execute_reply"]
    path.write_text(json.dumps(notebook))
    with pytest.raises(AssertionError, match="code cell 1 has no stored 'shell.execute_reply'"):
        run_seconds(path)
