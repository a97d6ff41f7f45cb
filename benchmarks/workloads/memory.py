"""A lake's peak memory, served over HTTP in its own process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .. import _collab, _data
from .._context import Context, free_ports

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def demo_kernel(notebook: str) -> dict[str, Any]:
    """The peak memory of a notebook's kernel as the notebook runs (the demo's three lakes in
    one kernel): the kernel process, its Spark JVM and Python workers (PSS), and the kept rows
    it maps in shared memory, sampled every 0.5 s."""
    import nbformat
    import psutil
    from nbclient import NotebookClient

    from .._memory import MappedRows, PeakMemory

    path = NOTEBOOKS / notebook
    nb = nbformat.read(path, as_version=4)
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    kept = MappedRows()
    client = NotebookClient(
        nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    started = time.perf_counter()
    with PeakMemory(
        lambda: [p for p in me.children() if p.pid not in before], interval=0.5, shared=kept
    ) as peak:
        client.execute()
    return {
        "notebook": notebook,
        "seconds": time.perf_counter() - started,
        "peak_total_bytes": peak.peak_total,
        "peak_parts": peak.peak_parts,
        "kept_row_folders": len(kept.folders),
    }


def memory(ctx: Context) -> dict[str, Any]:
    """A lake's peak memory: one lake served over HTTP in its own process (its Datasite, its
    Spark JVM and Python workers), trained from here with secure aggregation on."""
    import psutil

    import collab
    import collab.probe

    from .._memory import PeakMemory, shm_bytes

    s = ctx.suite
    out = {}
    me = psutil.Process()
    for rows in s.memory_rows:
        ctx.log(f"memory: one lake with {rows:,} rows")
        data = _data.synthetic(ctx.root, f"mem_{rows}", rows, lakes=1, test_rows=20_000)
        before = {p.pid for p in me.children()}
        (port,) = free_ports(1)
        lake = collab.Lake.launch(f"mem-{rows}", port=port, data_dir=ctx.root / f"mem-{rows}")
        try:
            server = [p for p in me.children() if p.pid not in before and "java" not in p.name()]
            lake.add_table("t", data.lake_paths[0], bounds=data.bounds)
            lake.add_scientist(_collab.EMAIL, _collab.PASSWORD)
            fed = collab.connect([lake], email=_collab.EMAIL, password=_collab.PASSWORD)
            plan = _collab.plan_for(
                data,
                "t",
                rounds=3,
                local_epochs=1,
                batch_size=s.batch_size,
                learning_rate=s.learning_rate,
            )
            ours = collab.probe.kept_rows().folder
            with PeakMemory(lambda: server, interval=0.3) as peak:  # noqa: B023
                job = fed.submit(plan)
                _collab.approve_job([lake], job)
                model = job.result(progress=False, timeout=1800)
                kept = shm_bytes(skip=ours)
            acc = _data.accuracy(data.X_test, data.y_test, model.coef_, model.intercept_)
        finally:
            lake.stop()
        out[str(rows)] = {
            "rows": rows,
            "features": len(data.features),
            "table_bytes_as_float64": rows * (len(data.features) + 1) * 8,
            "peak_pss_bytes": peak.peak_total,
            "peak_pss_parts": peak.peak_parts,
            "kept_rows_shm_bytes": kept,
            "accuracy": acc,
        }
    if s.demo_kernel_notebook:
        ctx.log(f"memory: the kernel of notebook {s.demo_kernel_notebook}")
        out["demo_kernel"] = demo_kernel(s.demo_kernel_notebook)
    return out
