"""What a scientist sees of lakes: names, schemas, synthetic rows, and never a private row."""

from __future__ import annotations

import pandas as pd
import pytest

import collab
from collab.transport._quiet import load_syft


def test_tables_are_listed_per_lake(clinic_fed):
    assert clinic_fed.tables == {"north-clinic": ["tiny", "visits"], "south-clinic": ["visits"]}


def test_schema_shows_every_lake_and_marks_mismatches(clinic_fed):
    schema = clinic_fed.schema("visits").set_index("column")
    assert list(schema.columns[-2:]) == ["north-clinic", "south-clinic"]
    assert schema.loc["age", "type"] == "bigint"
    assert schema.loc["age", "south-clinic"] == "differs: string"
    assert schema.loc["score", "north-clinic"] == "ok"
    assert schema.loc["score", "description"] == "risk score"
    assert bool(schema.loc["patient_id", "private"]) is True
    assert schema.loc["outcome", "kind"] == "binary"


def test_schema_of_a_table_one_lake_lacks_says_missing(clinic_fed):
    schema = clinic_fed.schema("tiny")
    assert set(schema["south-clinic"]) == {"missing"}


def test_mock_rows_come_from_the_schema_not_the_data(clinic_fed, clinic_tables):
    mock = clinic_fed.mock("visits", n=5)
    assert len(mock) == 10 and set(mock["lake"]) == {"north-clinic", "south-clinic"}
    real = pd.read_parquet(clinic_tables["visits"])
    assert not set(mock["patient_id"].dropna()) & set(real["patient_id"])
    assert not set(mock["score"].dropna().round(4)) & set(real["score"].dropna().round(4))
    # generated from the schema alone: the same schema gives the same rows
    schema = clinic_fed.table_schemas("visits")["north-clinic"]
    expected = schema.synthetic(5, seed=0)
    pd.testing.assert_frame_equal(
        expected.astype(object), mock.iloc[:5, 1:].reset_index(drop=True).astype(object)
    )


def test_reading_private_data_is_a_privacy_error(clinic_fed):
    with pytest.raises(collab.PrivacyError, match="never leave the lake"):
        clinic_fed.private_data("visits")


def test_pysyft_private_data_route_returns_nothing(clinics):
    north, _ = clinics
    session = north._datasite.login("ada@uni.edu", "ada-lovelace-1815")
    asset = session._asset("visits")
    sy = load_syft()
    assert asset.mock["schema"]["name"] == "visits"
    data = asset.data  # PySyft answers with an error value, never the private side
    assert data is None or isinstance(data, sy.SyftError)


def test_bad_plans_are_refused_before_anything_runs(clinic_fed, clinics):
    north, _ = clinics
    before = len(north.requests)
    cases = [
        (dict(features=["score", "nope"]), collab.PlanError, "nope"),
        (dict(features=["score", "patient_id"]), collab.PrivacyError, "patient_id"),
        (dict(features=["score", "note"]), collab.PlanError, "note"),
        (dict(features=["score"], label="stage"), collab.PlanError, "stage"),
        (dict(table="nowhere"), collab.PlanError, "nowhere"),
    ]
    for settings, error, column in cases:
        options = {"table": "visits", "features": ["score"], "label": "outcome", **settings}
        plan = collab.plans.LogisticRegression(**options)
        with pytest.raises(error) as raised:
            clinic_fed.submit(plan)
        assert column in str(raised.value)
        assert "clinic" in str(raised.value)  # names the lake
    assert len(north.requests) == before  # nothing was sent


def test_too_few_rows_is_refused_naming_the_lake(clinics, clinic_tables):
    north, _ = clinics
    fed = collab.connect([north], email="ada@uni.edu", password="ada-lovelace-1815")
    plan = collab.plans.LogisticRegression(table="tiny", features=["score"], label="outcome")
    with pytest.raises(collab.PolicyViolation, match="north-clinic.*tiny.*minimum of 20"):
        fed.submit(plan)


def test_wrong_password_is_a_clear_error(clinics):
    with pytest.raises(collab.CollabError, match="refused the login"):
        collab.connect([clinics[0]], email="ada@uni.edu", password="not-her-password")


def test_unreachable_lake_is_named():
    with pytest.raises(collab.LakeError, match="127.0.0.1:9"):
        collab.connect(["http://127.0.0.1:9"], email="ada@uni.edu", password="whatever-123")


def test_simulate_runs_the_plan_on_synthetic_rows_and_asks_no_one(clinic_fed, clinics):
    north, south = clinics
    before = len(north.requests), len(south.requests)
    plan = collab.plans.LogisticRegression(
        table="visits", features=["score", "stage"], label="outcome", rounds=4
    )
    job = clinic_fed.simulate(plan)
    assert job.status == "done" and list(job.history["round"]) == [1, 2, 3, 4]
    assert job.history["rows"].iloc[0] > 300  # two lakes x 200 synthetic rows, minus nulls
    assert (len(north.requests), len(south.requests)) == before
