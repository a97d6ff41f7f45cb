"""A lake's peak memory, served over HTTP in its own process."""

from __future__ import annotations

from typing import Any

from .. import _collab, _data
from .._context import Context, free_ports


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
    return out
