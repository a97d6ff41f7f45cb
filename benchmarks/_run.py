"""A benchmark run: the chosen workloads one after another in this process, their results
saved, and the report written from them (``benchmarks._report``)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import _report, _targets
from ._context import Context
from ._suite import FULL, SMOKE, WORKLOADS, Suite
from .workloads import RUNNERS


def _machine() -> dict[str, Any]:
    import pyspark

    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    try:
        import psutil

        memory = psutil.virtual_memory().total
    except ImportError:  # pragma: no cover
        memory = 0
    return {
        "date": datetime.date.today().isoformat(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "java": java.splitlines()[0] if java else "unknown",
        "spark": pyspark.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def _earlier(out: Path, chosen: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Results in ``out`` of the workloads not run now, and when (and by which suite) each was
    measured, so that a run of some workloads keeps the others in ``results.md``."""
    path = out / "summary.json"
    if not path.is_file():
        return {}, {}
    earlier = json.loads(path.read_text())
    measured = earlier.get("measured") or {
        name: {"date": earlier["machine"]["date"], "suite": earlier["suite"]["name"]}
        for name in earlier.get("workloads", [])
    }
    results, when = {}, {}
    for name in WORKLOADS:
        if name not in chosen and name in measured and (out / f"{name}.json").is_file():
            results[name] = json.loads((out / f"{name}.json").read_text())
            when[name] = measured[name]
    return results, when


def run(suite: Suite, out: Path, only: list[str] | None = None) -> dict[str, Any]:
    """Run ``suite``'s workloads (or ``only`` these) and write the results to ``out``.

    With ``only``, the other workloads' results already in ``out`` stay in ``summary.json``
    and ``results.md``, each with the date of the run that measured it.
    """
    started = time.perf_counter()
    load_start = os.getloadavg()
    out.mkdir(parents=True, exist_ok=True)
    chosen = [w for w in suite.workloads if only is None or w in only]
    carried, measured = _earlier(out, chosen) if only is not None else ({}, {})
    ctx = Context(suite, out, chosen)
    ctx.results.update(carried)
    machine = _machine()
    summary: dict[str, Any] = {
        "suite": asdict(replace(suite, notes=())),
        "machine": machine,
        "workloads": chosen,
        "carried": sorted(carried),
        "seconds": {},
    }
    try:
        for name in chosen:
            ctx.log(f"workload {name}")
            began = time.perf_counter()
            result = RUNNERS[name](ctx)
            summary["seconds"][name] = time.perf_counter() - began
            ctx.results[name] = result
            measured[name] = {"date": machine["date"], "suite": suite.name}
            (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=_json))
    finally:
        ctx.close()
    summary["measured"] = {name: measured[name] for name in WORKLOADS if name in measured}
    summary["load_average_start"] = load_start
    summary["load_average_end"] = os.getloadavg()
    summary["total_seconds"] = time.perf_counter() - started
    summary["targets"] = _targets.targets(ctx.results)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=_json))
    _report.write(out, summary, ctx.results)
    return summary


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


if __name__ == "__main__":  # pragma: no cover
    run(SMOKE if "--smoke" in sys.argv else FULL, Path(__file__).parent / "results")
