"""Recurrence after treatment: a synthetic survival table for the demo's hospitals.

Written by collab itself, with known hazard ratios, so that a notebook can show a Cox model
finding them: patients followed for up to five years after surgery, some also given
chemotherapy; the time to recurrence is exponential with a hazard set by the stage, the
treatment, age and tumour size, and follow-up ends early for some (censoring).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..lake import Lake
    from ._hospitals import HospitalsDemo

RECURRENCE_TABLE = "recurrence"
# the hazard ratios the rows are drawn with (per category against its reference, per unit)
HAZARD_RATIOS = {
    "treatment=surgery+chemo": 0.6,
    "stage=II": 1.8,
    "stage=III": 3.0,
    "age": 1.02,
    "tumour_cm": 1.15,
}
STAGES = ["I", "II", "III"]
TREATMENTS = ["surgery", "surgery+chemo"]
FOLLOW_UP_MONTHS = 60.0


def recurrence_frame(patients: int = 1500, seed: int = 0) -> pd.DataFrame:
    """``patients`` rows: ``patient_id``, ``age``, ``stage``, ``treatment``, ``tumour_cm``,
    ``months`` (to recurrence or the end of follow-up) and ``recurred`` (1 or 0)."""
    rng = np.random.default_rng(seed)
    age = np.round(rng.normal(60, 10, patients).clip(30, 90))
    stage = rng.choice(3, size=patients, p=[0.4, 0.35, 0.25])
    chemo = rng.random(patients) < 0.3 + 0.2 * stage  # later stages get chemotherapy more
    tumour = np.round(rng.gamma(2.0, 1.2, patients).clip(0.2, 12), 1)
    log_hazard = (
        np.log(HAZARD_RATIOS["treatment=surgery+chemo"]) * chemo
        + np.where(stage == 1, np.log(HAZARD_RATIOS["stage=II"]), 0.0)
        + np.where(stage == 2, np.log(HAZARD_RATIOS["stage=III"]), 0.0)
        + np.log(HAZARD_RATIOS["age"]) * (age - 60)
        + np.log(HAZARD_RATIOS["tumour_cm"]) * (tumour - 2.4)
    )
    event = rng.exponential(90.0 / np.exp(log_hazard))
    censor = np.minimum(rng.uniform(6, 90, patients), FOLLOW_UP_MONTHS)
    return pd.DataFrame(
        {
            "patient_id": np.arange(1, patients + 1),
            "age": age,
            "stage": np.asarray(STAGES)[stage],
            "treatment": np.asarray(TREATMENTS)[chemo.astype(int)],
            "tumour_cm": tumour,
            "months": np.round(np.minimum(event, censor), 2),
            "recurred": (event <= censor).astype(int),
        }
    )


def host_recurrence(
    lakes: HospitalsDemo | Sequence[Lake],
    patients: int = 1500,
    seed: int = 0,
    *,
    folder: str | Path | None = None,
) -> pd.DataFrame:
    """Each lake (a demo's hospitals, or any lakes) hosts its share of
    :func:`recurrence_frame` (uneven: the first the most) as table ``recurrence``, its
    statistics approved by policy; returns the pooled rows (the instructor's view, never the
    scientist's). The Parquet files go to ``folder`` (by default the demo's, or each lake's
    own)."""
    from .._policy import Policy

    hosts = list(getattr(lakes, "lakes", lakes))
    if folder is None:
        folder = getattr(lakes, "data_dir", None)
    frame = recurrence_frame(patients, seed)
    n = len(hosts)
    shares = np.arange(n, 0, -1, dtype=float)
    lake_of = np.random.default_rng(seed + 1).choice(n, size=len(frame), p=shares / shares.sum())
    for i, lake in enumerate(hosts):
        # with no folder, each lake's share lives in the lake's own folder, and goes with it
        where = Path(folder) if folder is not None else Path(lake.data_dir)
        path = where / f"{lake.name}-{RECURRENCE_TABLE}.parquet"
        frame[lake_of == i].to_parquet(path, index=False)
        lake.add_table(
            RECURRENCE_TABLE,
            path,
            description="patients followed after surgery for breast cancer",
            private_columns=["patient_id"],
            categories={"stage": STAGES, "treatment": TREATMENTS},
            bounds={"months": (0.0, FOLLOW_UP_MONTHS), "age": (30.0, 90.0)},
            column_descriptions={
                "months": "months from surgery to recurrence or the end of follow-up",
                "recurred": "1: the cancer came back; 0: follow-up ended without it",
            },
            policy=Policy(min_rows=10, auto_approve_statistics=True),
        )
    return frame
