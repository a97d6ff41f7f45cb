"""Shared lakes for the suite: one Spark session per process, lakes started once per session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lake_processes import SCIENTIST, free_port

import collab
from collab._scratch import remove_scratch, scratch_folder
from collab.demo import HospitalsDemo


def _worker_output(config: pytest.Config) -> Path:
    return config.rootpath / ".pytest_cache" / "workers"


def pytest_configure(config: pytest.Config) -> None:
    """A test run writes its temporary files in one folder of its own; a test process run
    without output capture (``make test`` runs its workers with ``-s``) writes its own output
    (the Spark JVM's notices, served lakes' logs) to a file of its own rather than over the
    test report."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        _scratch_for_the_run(config)
    if worker is None or config.getoption("capture") != "no":
        return
    folder = _worker_output(config)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{worker}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    # xdist talks to its workers over a copy of their stdout, so fds 1 and 2 are free to move
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _scratch_for_the_run(config: pytest.Config) -> None:
    """Every temporary file of the run (pytest's folders, lakes, PySyft's records, Spark's
    scratch, PostgreSQL's data, notebook kernels') goes to one folder, removed when the run
    ends, or by the next run if this one is killed: a machine that keeps its /tmp between runs
    does not fill up. The test processes, lakes, JVMs and kernels inherit ``TMPDIR``."""
    folder = scratch_folder("tests")
    folder.chmod(0o711)  # the postgres user reaches its own data folder inside
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # read TMPDIR again
    config.stash[_SCRATCH] = folder


_SCRATCH = pytest.StashKey[Path]()


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_SCRATCH, None)
    if folder is not None:
        remove_scratch(folder)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if config.getoption("capture") == "no" and getattr(config.option, "numprocesses", None):
        terminalreporter.write_line(f"each test process's own output: {_worker_output(config)}/")


@pytest.fixture(scope="session")
def scientist() -> tuple[str, str]:
    """The demo scientist's email and password."""
    return SCIENTIST


@pytest.fixture(scope="session")
def ports():
    """Call to get a free loopback port."""
    return free_port


@pytest.fixture(scope="session")
def iid_demo() -> Iterator[HospitalsDemo]:
    with collab.demo.hospitals(n=3, split="iid", seed=0) as demo:
        yield demo


@pytest.fixture(scope="session")
def trained(iid_demo: HospitalsDemo) -> tuple[collab.Job, collab.plans.LogisticModel]:
    """The demo plan trained once on the iid lakes (tests read, never retrain it)."""
    job = iid_demo.federation.submit(iid_demo.plan())
    _approve_when_listed(iid_demo.lakes, job)
    return job, job.result(progress=False, timeout=900)


def _approve_when_listed(lakes: list[collab.Lake], job: collab.Job) -> None:
    for lake in lakes:
        for request in lake.requests:
            if request.job_id == job.job_id and request.status == "pending":
                request.approve()


@pytest.fixture(scope="session")
def clinic_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small tables with the awkward cases: text, non-binary label, nulls, too few rows."""
    root = tmp_path_factory.mktemp("clinic")
    rng = np.random.default_rng(7)
    n = 120
    age = rng.integers(20, 90, n)
    score = rng.normal(size=n)
    outcome = (score + 0.01 * (age - 55) + rng.normal(scale=0.5, size=n) > 0).astype(int)
    frame = pd.DataFrame(
        {
            "patient_id": [f"C{i:04d}" for i in range(n)],
            "age": age,
            "score": score,
            "note": rng.choice(["stable", "worse", "better"], n),
            "outcome": outcome,
            "stage": rng.integers(1, 5, n),
        }
    )
    frame.loc[::10, "score"] = np.nan
    frame["outcome"] = frame["outcome"].astype("float")
    frame.loc[5::17, "outcome"] = np.nan
    paths = {"visits": root / "visits.parquet", "tiny": root / "tiny.parquet"}
    frame.to_parquet(paths["visits"], index=False)
    frame.head(8).to_parquet(paths["tiny"], index=False)
    # the same table with `age` stored as text: a type mismatch between lakes
    mismatched = frame.assign(age=frame["age"].astype(str))
    paths["visits_text_age"] = root / "visits_text_age.parquet"
    mismatched.to_parquet(paths["visits_text_age"], index=False)
    return paths


@pytest.fixture(scope="session")
def clinics(clinic_tables: dict[str, Path]) -> Iterator[tuple[collab.Lake, collab.Lake]]:
    """Two in-process lakes: 'north-clinic' and 'south-clinic' (age stored as text there)."""
    north = collab.Lake.launch("north-clinic")
    south = collab.Lake.launch("south-clinic")
    try:
        north.add_table(
            "visits",
            clinic_tables["visits"],
            private_columns=["patient_id"],
            column_descriptions={"score": "risk score"},
        )
        north.add_table("tiny", clinic_tables["tiny"], private_columns=["patient_id"])
        south.add_table("visits", clinic_tables["visits_text_age"], private_columns=["patient_id"])
        for lake in (north, south):
            lake.add_scientist(*SCIENTIST, name="Ada")
        yield north, south
    finally:
        north.stop()
        south.stop()


@pytest.fixture(scope="session")
def clinic_fed(clinics: tuple[collab.Lake, collab.Lake]) -> collab.Federation:
    return collab.connect(list(clinics), email=SCIENTIST[0], password=SCIENTIST[1])
