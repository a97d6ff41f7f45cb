"""Cox proportional hazards over three uneven lakes against lifelines' pooled fit."""

from __future__ import annotations

import shutil
import time
from typing import Any

import numpy as np
import pandas as pd

from .. import _collab
from .._context import Context

TRUE_COEF = np.array([0.5, -0.3, 0.2, 0.0, 0.8])
FEATURES = ["x0", "x1", "x2", "x3", "treated"]


def _rows(n: int, seed: int) -> pd.DataFrame:
    """Exponential event times with hazard ``exp(x . TRUE_COEF) / 1000`` and uniform
    censoring: about half the rows see the event."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    treated = (rng.random(n) < 0.5).astype(float)
    design = np.column_stack([X, treated])
    event_time = rng.exponential(1000.0 / np.exp(design @ TRUE_COEF))
    censor = rng.uniform(0, 2000.0, size=n)
    frame = pd.DataFrame(design, columns=FEATURES)
    frame["time"] = np.minimum(event_time, censor)
    frame["event"] = (event_time <= censor).astype(int)
    return frame


def survival(ctx: Context) -> dict[str, Any]:
    """A Cox model of ``survival_rows`` rows over three lakes (shares 0.5, 0.3, 0.2), every
    round through PySyft, against lifelines' ``CoxPHFitter`` on the pooled rows: seconds and
    the largest coefficient difference in lifelines' standard errors."""
    from lifelines import CoxPHFitter

    from collab.plans import CoxPH

    n = ctx.suite.survival_rows
    frame = _rows(n, 0)
    root = _collab.temporary_root()
    cuts = np.cumsum([int(n * s) for s in (0.5, 0.3)])
    lakes = _collab.Lakes(3, root)
    try:
        for lake, part in zip(lakes.lakes, np.split(frame, cuts), strict=True):
            path = lake.data_dir / "survival.parquet"
            part.to_parquet(path, index=False)
            lake.add_table("survival", path, bounds={"time": (0.0, 2000.0)})
        fed = lakes.federation(3)
        plan = CoxPH(table="survival", duration="time", event="event", features=FEATURES)
        started = time.perf_counter()
        job = fed.submit(plan)
        _collab.approve_job(lakes.lakes, job)
        model = job.result(progress=False, timeout=3600)
        seconds = time.perf_counter() - started
    finally:
        lakes.close()
        shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    reference = CoxPHFitter().fit(frame[[*FEATURES, "time", "event"]], "time", "event")
    lifelines_seconds = time.perf_counter() - started
    ours = model.params_[reference.params_.index]
    deviation = (ours - reference.params_) / reference.standard_errors_
    se_ratio = model.standard_errors_[reference.params_.index] / reference.standard_errors_
    return {
        "rows": n,
        "events": int(frame["event"].sum()),
        "collab_seconds": seconds,
        "lifelines_seconds": lifelines_seconds,
        "rounds": model.rounds,
        "bins": len(model.baseline_times_),
        "coef": {k: float(v) for k, v in ours.items()},
        "lifelines_coef": {k: float(v) for k, v in reference.params_.items()},
        "max_deviation_in_se": float(deviation.abs().max()),
        "max_se_ratio_error": float((se_ratio - 1).abs().max()),
        "concordance": model.concordance_index_,
        "lifelines_concordance": float(reference.concordance_index_),
    }
