"""Boosted trees where the lakes keep no rows (as on a Spark cluster): the job's state lives in
Spark's cache, one cached DataFrame per lake's table, and each level round is one Spark job
over it alone. The trees equal those of lakes that keep their rows, and the cached state is
gone once the job ends or is denied.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import numpy as np
import pytest

import collab
from collab import engine
from collab.engine._job_state import cached_rdd, spark_states
from collab.engine._rows import row_cache
from collab.plans import GradientBoostedTrees

N_TREES, MAX_DEPTH = 4, 3


def persistent_rdds() -> set[int]:
    """The ids of the RDDs Spark's context holds persisted (Spark's own record)."""
    rdds = engine.spark_session().sparkContext._jsc.getPersistentRDDs()
    return {int(rdd_id) for rdd_id in rdds.keys()}


@contextlib.contextmanager
def rows_not_kept() -> Iterator[None]:
    """The lakes of this process keep no rows (``spark.collab.rowCacheBytes=0``)."""
    cache = row_cache()
    budget, cache.max_bytes = cache.max_bytes, 0
    try:
        yield
    finally:
        cache.max_bytes = budget


def held_states(job_id: str) -> list[object]:
    """The DataFrames of ``job_id``'s state held in Spark's cache (one per lake's table)."""
    states = spark_states()
    return [states.frame(job, token) for job, token in states.jobs() if job == job_id]


def submitted(uneven, plan: GradientBoostedTrees) -> collab.Job:
    job = uneven.federation.submit(plan)
    for lake in uneven.lakes:
        for request in lake.requests:
            if request.job_id == job.job_id and request.status == "pending":
                request.approve()
    return job


def states_mid_job(job: collab.Job, lakes: int) -> list[object]:
    """``job``'s state DataFrames once every lake holds one (the job still running)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not job.done:
        frames = held_states(job.job_id)
        if job.rounds_done >= 3 and len(frames) == lakes:
            return frames
        time.sleep(0.005)
    raise AssertionError("the lakes held no job state in Spark's cache while the job ran")


def rdd_ids(frames: list[object]) -> set[int]:
    """The ids of the RDDs that hold ``frames``' rows in Spark's cache."""
    return {int(cached_rdd(frame).id()) for frame in frames}


@pytest.fixture(scope="module")
def plan(uneven) -> GradientBoostedTrees:
    table = uneven.tables["biopsies"]
    return GradientBoostedTrees(
        table=table.name,
        features=table.features,
        label=table.label,
        n_trees=N_TREES,
        max_depth=MAX_DEPTH,
    )


def test_trees_with_their_state_in_spark_equal_trees_of_lakes_that_keep_rows(uneven, plan):
    _job, kept = uneven.train(plan)
    with rows_not_kept():
        before = persistent_rdds()
        job = submitted(uneven, plan)
        states = rdd_ids(states_mid_job(job, len(uneven.lakes)))
        assert states & persistent_rdds()  # held by Spark (a later round may replace some)
        model = job.result(progress=False, timeout=600)
    # every lake's table: the first level round reads the rows and makes the state (the
    # start round keeps none), every later round reads only the state
    rounds = spark_states().rounds(job.job_id)
    assert len(rounds) == len(uneven.lakes)
    assert set(rounds.values()) == {(1, N_TREES * MAX_DEPTH)}
    assert len(kept.trees_) == len(model.trees_) == N_TREES
    for rows, state in zip(kept.trees_, model.trees_, strict=True):
        for key in ("feature", "threshold", "missing_left", "left", "right", "depth"):
            assert rows[key] == state[key], key
        for key in ("value", "count", "gain"):
            np.testing.assert_allclose(rows[key], state[key], rtol=0, atol=1e-12)
    X = uneven.tables["biopsies"].test[list(plan.features)]
    np.testing.assert_allclose(kept.predict_proba(X), model.predict_proba(X), rtol=0, atol=1e-12)
    # the job ended: its state is unpersisted, and Spark holds nothing of it (each round
    # caches a state per lake; the tables' own caches are one a lake)
    assert held_states(job.job_id) == []
    after = persistent_rdds()
    assert not states & after
    assert len(after - before) <= len(uneven.lakes)


def test_a_denied_job_leaves_no_state_in_sparks_cache(uneven, plan):
    import dataclasses

    with rows_not_kept():
        before = persistent_rdds()
        job = submitted(uneven, dataclasses.replace(plan, n_trees=50))
        states = rdd_ids(states_mid_job(job, len(uneven.lakes)))
        owner = uneven.lakes[0]
        request = next(r for r in owner.all_requests("approved") if r.job_id == job.job_id)
        request.deny("enough")
        with pytest.raises(collab.CollabError, match="denied"):
            job.result(progress=False, timeout=300)
    # a step already running on another lake when the owner denied unpersists what it made
    deadline = time.monotonic() + 120
    while held_states(job.job_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert held_states(job.job_id) == []
    after = persistent_rdds()
    assert not states & after
    assert len(after - before) <= len(uneven.lakes)
