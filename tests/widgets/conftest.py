"""Lakes of the widget tests' own: one whose requests are approved and denied without
disturbing other tests, and one hosting a table with categorical columns, text labels,
booleans, dates and gaps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import collab


@pytest.fixture(scope="module")
def owner_lake(clinic_tables: dict[str, Path], scientist: tuple[str, str]) -> Iterator[collab.Lake]:
    lake = collab.Lake.launch("widget-clinic")
    try:
        lake.add_table(
            "visits",
            clinic_tables["visits"],
            private_columns=["patient_id"],
            column_descriptions={"score": "<script>alert('risk')</script> score"},
        )
        lake.add_scientist(*scientist, name="Ada")
        yield lake
    finally:
        lake.stop()


@pytest.fixture(scope="module")
def owner_fed(owner_lake: collab.Lake, scientist: tuple[str, str]) -> collab.Federation:
    return collab.connect([owner_lake], email=scientist[0], password=scientist[1])


ADMISSION_CATEGORIES = {
    "ward": ["cardio", "neuro", "ortho", "onco"],
    "outcome": ["improved", "worse"],
    "discharge": ["home", "rehab", "care home"],
}


@pytest.fixture(scope="module")
def admissions_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A table as it really is: numbers with gaps, a categorical column, a boolean, a date,
    free text, and labels stored as text whose categories the owner publishes."""
    rng = np.random.default_rng(13)
    n = 120
    frame = pd.DataFrame(
        {
            "patient_id": [f"A{i:04d}" for i in range(n)],
            "age": rng.uniform(20, 90, n).round(1),
            "income": rng.lognormal(10, 1, n).round(0),
            "ward": rng.choice(ADMISSION_CATEGORIES["ward"], n),
            "smoker": rng.random(n) < 0.3,
            "admitted": (
                pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
            ).date,
            "note": rng.choice(["stable", "worse", "better"], n),
            "outcome": rng.choice(ADMISSION_CATEGORIES["outcome"], n),
            "discharge": rng.choice(ADMISSION_CATEGORIES["discharge"], n),
        }
    )
    frame.loc[::7, "age"] = np.nan
    frame.loc[3::11, "ward"] = None
    path = tmp_path_factory.mktemp("admissions") / "admissions.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def admissions_lake(admissions_path: Path, scientist: tuple[str, str]) -> Iterator[collab.Lake]:
    """A lake hosting the admissions table: the range of ``age`` and the categories of
    ``ward``, ``outcome`` and ``discharge`` published."""
    lake = collab.Lake.launch("ward-clinic")
    try:
        lake.add_table(
            "admissions",
            admissions_path,
            private_columns=["patient_id"],
            bounds={"age": (0, 110)},
            categories=ADMISSION_CATEGORIES,
        )
        lake.add_scientist(*scientist, name="Ada")
        yield lake
    finally:
        lake.stop()


@pytest.fixture(scope="module")
def admissions_fed(admissions_lake: collab.Lake, scientist: tuple[str, str]) -> collab.Federation:
    return collab.connect([admissions_lake], email=scientist[0], password=scientist[1])
