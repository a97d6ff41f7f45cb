"""``python -m collab demo`` in its own process, as a newcomer first runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from .._context import Context


def first_run(ctx: Context) -> dict[str, Any]:
    """``python -m collab demo`` (the iid split), as a newcomer runs it after installing: its
    own process, its own Spark, its wall time and its parts as the demo measures them."""
    timings = ctx.root / "first_run.json"
    command = [
        sys.executable,
        "-m",
        "collab",
        "demo",
        "--split",
        "iid",
        "--quiet",
        "--rounds",
        str(ctx.suite.first_run_rounds),
        "--log",
        str(ctx.root / "first_run.log"),
        "--timings",
        str(timings),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if not timings.is_file():
        raise RuntimeError(f"the demo failed (exit {done.returncode}): {done.stderr[-2000:]}")
    measured = json.loads(timings.read_text())
    return {
        "rounds": ctx.suite.first_run_rounds,
        "exit_code": done.returncode,
        "process_seconds": wall,  # with the interpreter's start and the imports
        "demo_seconds": measured["total"],
        "parts": measured["parts"],
    }
