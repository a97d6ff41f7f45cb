"""A lake whose Spark is a standalone cluster, and a lake whose records live in PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg
import pytest

import collab

pytestmark = [pytest.mark.http, pytest.mark.slow]

FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "worst_area", "worst_symmetry"]


def train(lake: collab.Lake, scientist, rounds: int = 5, plan=None):
    fed = collab.connect([lake.url or lake], email=scientist[0], password=scientist[1])
    job = fed.submit(
        plan
        or collab.plans.LogisticRegression(
            table="patients", features=FEATURES, label="malignant", rounds=rounds
        )
    )
    for request in lake.requests:
        if request.job_id == job.job_id:
            request.approve()
    return job.result(progress=False, timeout=600), job


@pytest.fixture(scope="module")
def clustered_and_local(tmp_path_factory, spark_cluster, patients_parquet, ports, scientist):
    """A served lake whose Spark is a standalone cluster (its rows are never kept: a job's
    state lives in Spark's cache) and an in-process lake in local mode (rows and job state
    kept in shared memory), with the same table."""
    # the local lake's table first: the owner's handle reads a table with this process's
    # Spark, and a first session started for the clustered lake's table would take the
    # cluster's one core for as long as this process runs, so the served lake's own Spark
    # application would wait for ever (it does when this module runs alone)
    local = collab.Lake.launch("local-lake")
    clustered = collab.Lake.launch(
        "cluster-lake",
        port=ports(),
        data_dir=tmp_path_factory.mktemp("cluster-lake"),
        spark_master=spark_cluster,
    )
    try:
        for lake in (local, clustered):
            lake.add_table("patients", patients_parquet, private_columns=["patient_id"])
            lake.add_scientist(*scientist)
        yield clustered, local
    finally:
        clustered.stop()
        local.stop()


def test_a_lake_on_a_spark_standalone_cluster_trains_the_local_mode_model(
    clustered_and_local, scientist
):
    clustered, local = clustered_and_local
    on_cluster, _ = train(clustered, scientist)
    on_local, _ = train(local, scientist)
    np.testing.assert_allclose(on_cluster.coef_, on_local.coef_, rtol=0, atol=1e-6)


def test_trees_on_a_spark_standalone_cluster_equal_the_local_mode_trees(
    clustered_and_local, scientist, patients_parquet
):
    """On the cluster each round is one Spark job over the job's state in Spark's cache
    (bin codes, scores, nodes and histograms per block); in local mode the same state is kept
    beside the kept rows. Both must grow the very same trees."""
    clustered, local = clustered_and_local
    plan = collab.plans.GradientBoostedTrees(
        table="patients", features=FEATURES, label="malignant", n_trees=3, max_depth=3
    )
    on_cluster, _ = train(clustered, scientist, plan=plan)
    on_local, _ = train(local, scientist, plan=plan)
    assert len(on_local.trees_) == 3
    assert sum(len(t["left"]) for t in on_local.trees_) > 3  # the trees did split
    for grown, expected in zip(on_cluster.trees_, on_local.trees_, strict=True):
        assert grown.keys() == expected.keys()
        for name in expected:
            np.testing.assert_allclose(
                np.asarray(grown[name], dtype=float),
                np.asarray(expected[name], dtype=float),
                rtol=0,
                atol=1e-12,
            )
    X = pd.read_parquet(patients_parquet)[FEATURES]
    np.testing.assert_allclose(
        on_cluster.predict_proba(X), on_local.predict_proba(X), rtol=0, atol=1e-12
    )


def test_a_lake_keeps_its_records_in_postgresql_across_a_restart(
    tmp_path, postgres, patients_parquet, ports, scientist
):
    port, data_dir = ports(), tmp_path / "pg-lake"
    lake = collab.Lake.launch("pg-lake", port=port, data_dir=data_dir, database_url=postgres)
    try:
        lake.add_table("patients", patients_parquet, private_columns=["patient_id"])
        lake.add_scientist(*scientist)
        _, job = train(lake, scientist, rounds=2)
    finally:
        lake.stop()
    with psycopg.connect(postgres.replace("collab:unused@", "collab@")) as db:
        tables = {
            r[0]
            for r in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            )
        }
    assert any("user" in t.lower() for t in tables), tables  # PySyft's records are there

    reopened = collab.Lake.launch("pg-lake", port=port, data_dir=data_dir, database_url=postgres)
    try:
        assert reopened.tables == ["patients"]
        assert reopened._state.approval(job.job_id).status == "approved"
        fed = collab.connect([reopened.url], email=scientist[0], password=scientist[1])
        assert fed.tables == {"pg-lake": ["patients"]}
        assert [r.status for r in reopened.all_requests()] == ["approved"]
        assert reopened.requests == []  # only pending ones
    finally:
        reopened.stop()
