"""A lake of the widget tests' own, so that approving and denying leaves other tests alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
