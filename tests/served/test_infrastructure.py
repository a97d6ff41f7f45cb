"""A lake whose Spark is a standalone cluster, and a lake whose records live in PostgreSQL."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

import collab

pytestmark = [pytest.mark.http, pytest.mark.slow]

FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "worst_area", "worst_symmetry"]


def train(lake: collab.Lake, scientist, rounds: int = 5):
    fed = collab.connect([lake.url or lake], email=scientist[0], password=scientist[1])
    job = fed.submit(
        collab.plans.LogisticRegression(
            table="patients", features=FEATURES, label="malignant", rounds=rounds
        )
    )
    for request in lake.requests:
        if request.job_id == job.job_id:
            request.approve()
    return job.result(progress=False, timeout=600), job


def test_a_lake_on_a_spark_standalone_cluster_trains_the_local_mode_model(
    tmp_path, spark_cluster, patients_parquet, ports, scientist
):
    clustered = collab.Lake.launch(
        "cluster-lake", port=ports(), data_dir=tmp_path / "c", spark_master=spark_cluster
    )
    local = collab.Lake.launch("local-lake")
    try:
        for lake in (clustered, local):
            lake.add_table("patients", patients_parquet, private_columns=["patient_id"])
            lake.add_scientist(*scientist)
        on_cluster, _ = train(clustered, scientist)
        on_local, _ = train(local, scientist)
    finally:
        clustered.stop()
        local.stop()
    np.testing.assert_allclose(on_cluster.coef_, on_local.coef_, rtol=0, atol=1e-6)


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
