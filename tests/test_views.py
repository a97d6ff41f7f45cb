"""Tables as owners really host them: views over the lake's tables, catalog tables, Delta
folders, published categories, and what the owner alone learns about them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lake_processes import SCIENTIST

import collab
from collab import engine
from collab._errors import CollabError, PlanError
from collab.lake._config import load_config
from collab.lake._serve import publish

LAKE = "st-clare"
VIEW_SQL = "SELECT id, age, bmi, sex, ward, outcome FROM patients WHERE consent = true"
CATALOG_DB = "collab_views_test"


def _patients(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    age = rng.integers(20, 90, n)
    bmi = np.round(rng.normal(27, 4, n), 1)
    risk = 0.04 * (age - 55) + 0.2 * (bmi - 27) + rng.normal(scale=0.8, size=n)
    sex = rng.choice(["F", "M"], n).astype(object)
    sex[::23] = "X"  # outside the published categories
    sex[5::31] = None  # missing: not counted as outside
    ward = rng.integers(1, 4, n)
    ward[::17] = 4  # outside [1, 2, 3]
    return pd.DataFrame(
        {
            "id": [f"P{i:04d}" for i in range(n)],
            "age": age,
            "bmi": bmi,
            "sex": sex,
            "ward": ward.astype("int64"),
            "outcome": (risk > 0).astype("int64"),
            "consent": rng.random(n) < 0.6,
        }
    )


@dataclass
class Setup:
    lake: collab.Lake
    fed: collab.Federation
    frame: pd.DataFrame
    path: Path
    root: Path

    @property
    def consented(self) -> pd.DataFrame:
        return self.frame[self.frame["consent"]]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("views")
    frame = _patients()
    path = root / "patients.parquet"
    frame.to_parquet(path, index=False)
    lake = collab.Lake.launch(LAKE)
    try:
        lake.add_table(
            "patients",
            path,
            private_columns=["id"],
            categories={"sex": ["F", "M"], "ward": [1, 2, 3]},
        )
        lake.add_view(
            "cohort",
            VIEW_SQL,
            description="Adults seen in 2024",
            private_columns=["id"],
            column_descriptions={"bmi": "body-mass index"},
            categories={"sex": ["F", "M"]},
            policy=collab.Policy(min_rows=20),
        )
        lake.add_scientist(*SCIENTIST, name="Ada")
        fed = collab.connect([lake], email=SCIENTIST[0], password=SCIENTIST[1])
        yield Setup(lake, fed, frame, path, root)
    finally:
        lake.stop()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def test_a_view_is_published_like_a_table_without_its_sql_or_the_tables_it_reads(setup):
    schema = setup.fed.table_schemas("cohort")[LAKE]
    assert schema.column_names == ["id", "age", "bmi", "sex", "ward", "outcome"]
    assert schema.column("id").private and schema.column("bmi").description == "body-mass index"
    assert schema.column("sex").categories == ("F", "M")
    assert schema.rows_at_least == 100  # 134 consented rows, coarsened
    assert setup.fed.tables == {LAKE: ["cohort", "patients"]}

    published = setup.fed._published(LAKE, "cohort")  # everything the scientist receives
    texts = [t.lower() for t in _strings(published)]
    for secret in ("select", "where", "patients", "consent", str(setup.path).lower()):
        assert not any(secret in t for t in texts), secret
    assert set(published) == {"collab", "mock", "schema", "policy"}
    mock = setup.fed.mock("cohort", n=40)
    assert list(mock.columns) == ["lake", *schema.column_names]
    assert set(mock["sex"].dropna()) == {"F", "M"}

    record = setup.lake._state.table("cohort")  # the owner's records keep the definition
    assert record["format"] == "view" and record["view"]["sql"] == VIEW_SQL
    assert record["view"]["tables"] == [
        {"name": "patients", "source": str(setup.path), "format": "parquet"}
    ]
    audit = setup.lake.audit
    (added,) = audit[audit["action"] == "view added"]["detail"].map(json.loads)
    assert added["table"] == "cohort" and added["rows"] == 134
    assert (added["sql"], added["reads"]) == (VIEW_SQL, ["patients"])


def test_training_on_a_view_uses_only_the_consented_rows(setup):
    consented = len(setup.consented)
    assert consented == 134 and len(setup.frame) == 200
    plan = collab.plans.LogisticRegression(
        table="cohort", features=["age", "bmi"], label="outcome", rounds=2, validation=0
    )
    job = setup.fed.submit(plan)
    for request in setup.lake.requests:
        if request.job_id == job.job_id and request.status == "pending":
            assert request.table == "cohort"
            request.approve()
    model = job.result(progress=False, timeout=600)
    assert list(job.history["rows"]) == [consented, consented]
    assert model.card().facts["rows"] == consented


def test_a_plan_naming_a_column_the_view_does_not_publish_is_refused_naming_it(setup):
    plan = collab.plans.LogisticRegression(
        table="cohort", features=["age", "consent"], label="outcome", rounds=2, validation=0
    )
    with pytest.raises(PlanError, match=r"table 'cohort' has no column 'consent'"):
        setup.fed.check(plan)
    with pytest.raises(PlanError, match="'consent'"):  # and the lake itself refuses it
        plan.check_against(setup.lake.schema("cohort"), setup.lake.policy("cohort"))


@pytest.mark.parametrize(
    ("name", "sql", "message"),
    [
        ("ghosts", "SELECT * FROM visitors", r"reads 'visitors', which this lake does not host"),
        ("broken", "SELECT age FROM patients WHERE age >", r"Spark cannot .*PARSE_SYNTAX"),
        ("wrong", "SELECT weight FROM patients", r"Spark cannot run its SQL: .*`weight`"),
        ("dropper", "DROP TABLE patients", r"Spark cannot run its SQL"),
        ("twice", "SELECT 1 AS a; SELECT 2 AS b", r"Spark cannot run its SQL"),
        ("empty", "  ; ", r"give its SQL"),
        ("files", "SELECT * FROM parquet.`/tmp`", r"reads 'parquet./tmp', which this lake does"),
    ],
)
def test_a_bad_view_is_refused_naming_the_lake_and_the_view(setup, name, sql, message):
    with pytest.raises(CollabError, match=rf"lake '{LAKE}': view '{name}'.*{message}"):
        setup.lake.add_view(name, sql)
    assert name not in setup.lake.tables and "patients" in setup.lake.tables


def test_a_view_cannot_take_a_hosted_name(setup):
    with pytest.raises(CollabError, match=rf"lake '{LAKE}' already hosts a table 'patients'"):
        setup.lake.add_view("patients", "SELECT age FROM patients")


def test_a_catalog_table_is_read_from_sparks_catalog_and_views_read_only_hosted_ones(setup):
    spark = engine.spark_session()
    folder = setup.root / "catalog-visits"
    folder.mkdir()
    setup.consented.head(30).to_parquet(folder / "part-0.parquet", index=False)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {CATALOG_DB} LOCATION '{setup.root / 'db'}'")
    try:
        spark.sql(f"CREATE TABLE {CATALOG_DB}.visits USING parquet LOCATION '{folder}'")
        with pytest.raises(CollabError, match=rf"view 'direct'.*reads '{CATALOG_DB}.visits',"):
            setup.lake.add_view("direct", f"SELECT age FROM {CATALOG_DB}.visits")

        schema = setup.lake.add_table("visits", f"catalog:{CATALOG_DB}.visits")
        assert schema.column_names == list(setup.frame.columns)
        assert schema.column("consent").type == "boolean" and schema.rows_at_least == 30
        record = setup.lake._state.table("visits")
        assert (record["source"], record["format"], record["rows"]) == (
            f"catalog:{CATALOG_DB}.visits",
            "catalog",
            30,
        )
        # a view may join a catalog table with a file table
        joined = setup.lake.add_view(
            "revisits",
            "SELECT p.id, p.age FROM patients p JOIN visits v ON p.id = v.id WHERE p.age > 40",
        )
        expected = int((setup.consented.head(30)["age"] > 40).sum())
        assert setup.lake._state.table("revisits")["rows"] == expected
        assert joined.column_names == ["id", "age"]
    finally:
        spark.sql(f"DROP DATABASE IF EXISTS {CATALOG_DB} CASCADE")
    with pytest.raises(CollabError, match=r"table 'nowhere': 'catalog:db.t' is a catalog table"):
        setup.lake.add_table("nowhere", "catalog:db.t", format="csv")
    with pytest.raises(CollabError, match=r"table 'nowhere': name the catalog table"):
        setup.lake.add_table("nowhere", "catalog: ")


def test_a_delta_folder_without_deltas_jars_gets_an_error_saying_what_to_set(setup):
    folder = setup.root / "delta-patients"
    (folder / "_delta_log").mkdir(parents=True)
    setup.frame.to_parquet(folder / "part-0.parquet", index=False)
    assert engine.guess_format(str(folder)) == "delta"
    with pytest.raises(
        CollabError, match=rf"lake '{LAKE}': table 'deltas'.*Delta.*spark.jars.packages"
    ):
        setup.lake.add_table("deltas", folder)
    assert "deltas" not in setup.lake.tables


def test_values_outside_the_published_categories_are_counted_for_the_owner_only(setup):
    frame, consented = setup.frame, setup.consented
    outside_sex = int(frame["sex"].isin(["X"]).sum())
    assert setup.lake.unmatched_categories("patients") == {
        "sex": outside_sex,
        "ward": int((frame["ward"] == 4).sum()),
    }
    assert outside_sex == 9 and frame["sex"].isna().sum() == 7  # missing values are not counted
    # the view passes 'ward' through, so it keeps the table's categories for it
    assert setup.lake.unmatched_categories("cohort") == {
        "sex": int((consented["sex"] == "X").sum()),
        "ward": int((consented["ward"] == 4).sum()),
    }
    assert setup.lake.unmatched_categories("cohort")["sex"] == 5
    assert setup.lake.unmatched_categories("cohort")["ward"] == 8

    audit = setup.lake.audit
    details = audit[audit["action"] == "categories unmatched"]["detail"].map(json.loads).tolist()
    assert {"table": "patients", "counts": {"sex": 9, "ward": 12}} in details
    assert {"table": "cohort", "counts": {"sex": 5, "ward": 8}} in details

    for table in ("patients", "cohort"):
        published = setup.fed._published(LAKE, table)
        assert not any("unmatched" in t for t in _strings(published))
        assert setup.fed.table_schemas(table)[LAKE].column("sex").categories == ("F", "M")


def test_numbers_match_numeric_categories_as_numbers(setup, tmp_path):
    path = tmp_path / "grades.parquet"
    pd.DataFrame(
        {"grade": [1.0, 2.0, 2.0, 3.5, None], "tag": ["1", "2", "a", "b", None]}
    ).to_parquet(path, index=False)
    setup.lake.add_table("grades", path, categories={"grade": [1, 2], "tag": [1, 2]})
    assert setup.lake.unmatched_categories("grades") == {"grade": 1, "tag": 2}


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        ({"sex": "FM"}, r"categories of 'sex' must be a list of values, not 'FM'"),
        ({"sex": []}, r"categories of 'sex' must list at least one value"),
        ({"sex": ["F", "M", "F"]}, r"categories of 'sex' name a value more than once"),
        ({"sex": {"F", "M"}}, r"categories of 'sex' must be a list of values"),
        ({"sex": ["F", None]}, r"categories of 'sex' must be text, numbers or true/false"),
        ({"ward": ["a", "b"]}, r"column 'ward' holds bigint values, so its categories must be"),
        ({"gender": ["F"]}, r"has no column 'gender'"),
    ],
)
def test_a_bad_category_list_names_lake_table_and_column(setup, categories, message):
    with pytest.raises(CollabError, match=rf"lake '{LAKE}': table 'odd'.*{message}"):
        setup.lake.add_table("odd", setup.path, categories=categories)
    assert "odd" not in setup.lake.tables


def test_lake_toml_publishes_categories_and_views(setup, tmp_path):
    path = tmp_path / "lake.toml"
    path.write_text(
        f"""[lake]
name = "{LAKE}"

[[tables]]
name = "patients2"
path = "{setup.path}"
private_columns = ["id"]
categories = {{ sex = ["F", "M"], ward = [1, 2, 3] }}

[[views]]
name = "cohort2"
sql = "SELECT id, age, sex, outcome FROM patients2 WHERE consent = true AND age >= 40"
description = "Consenting adults over 40"
private_columns = ["id"]
categories = {{ sex = ["F", "M"] }}
bounds = {{ age = [0, 120] }}
[views.policy]
min_rows = 25
"""
    )
    config = load_config(path)
    assert config.tables[0].publication.categories == {"sex": ["F", "M"], "ward": [1, 2, 3]}
    (view,) = config.views
    assert view.name == "cohort2" and view.sql.endswith("age >= 40")
    assert view.publication.bounds == {"age": (0.0, 120.0)}
    assert view.publication.policy.min_rows == 25

    publish(setup.lake, config)
    schema = setup.lake.schema("cohort2")
    over_40 = setup.consented[setup.consented["age"] >= 40]
    assert schema.column_names == ["id", "age", "sex", "outcome"]
    assert schema.column("age").bounds == (0.0, 120.0)
    assert setup.lake.policy("cohort2").min_rows == 25
    assert setup.lake._state.table("cohort2")["rows"] == len(over_40)
    assert setup.lake.unmatched_categories("cohort2") == {"sex": int((over_40["sex"] == "X").sum())}
    assert setup.lake.unmatched_categories("patients2") == {"sex": 9, "ward": 12}
    publish(setup.lake, config)  # again: nothing is added twice


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '[[tables]]\nname = "t"\npath = "/d/t.parquet"\ncategories = { sex = "F" }\n',
            r"\[\[tables\]\] #1 \[categories\]: 'sex' must list its values",
        ),
        (
            '[[tables]]\nname = "t"\npath = "/d/t.parquet"\ncategories = { sex = ["F", "F"] }\n',
            r"\[\[tables\]\] #1 \[categories\]: 'sex' names a value more than once",
        ),
        ('[[views]]\nname = "v"\n', r"\[\[views\]\] #1: 'sql' is required"),
        ('[[views]]\nname = "v"\nsql = "SELECT 1"\npath = "/x"\n', r"unknown setting 'path'"),
        (
            '[[tables]]\nname = "v"\npath = "/x"\n[[views]]\nname = "v"\nsql = "SELECT 1"\n',
            r"'v' named more than once",
        ),
    ],
)
def test_lake_toml_names_a_bad_view_or_category_list(tmp_path, entry, message):
    path = tmp_path / "lake.toml"
    path.write_text(f'[lake]\nname = "x"\n\n{entry}')
    with pytest.raises(CollabError, match=message):
        load_config(path)


def test_a_view_is_read_from_its_record_alone_under_its_own_cache_key(setup):
    record = setup.lake._state.table("cohort")
    frame = engine.read(record["source"], record["format"], view=record["view"])
    assert frame.count() == len(setup.consented)
    assert record["source"].startswith("view:cohort:")
    # the same SQL over other files is another view, with its own cached rows
    other = {**record["view"], "tables": [{**record["view"]["tables"][0], "source": "/x"}]}
    assert engine.view_source("cohort", other) != record["source"]
    assert engine.view_source("cohort", record["view"]) == record["source"]


def test_a_view_may_read_another_view_through_ctes_and_subqueries(setup):
    sql = (
        "WITH older AS (SELECT * FROM cohort WHERE age > 60) "
        "SELECT age, outcome FROM older WHERE age IN (SELECT age FROM patients WHERE bmi > 0)"
    )
    schema = setup.lake.add_view("older", sql)
    assert schema.column_names == ["age", "outcome"]
    record = setup.lake._state.table("older")
    assert record["rows"] == int((setup.consented["age"] > 60).sum()) == 63
    assert [t["name"] for t in record["view"]["tables"]] == ["patients", "cohort"]
    assert record["view"]["tables"][1] == {"name": "cohort", "sql": VIEW_SQL}


def test_a_table_pandas_wrote_with_datetimes_is_hosted_with_its_dates(setup, tmp_path):
    """pandas writes datetimes as nanosecond Parquet timestamps, which Spark refuses unless
    told to read them as longs: the lake reads them and publishes them as dates."""
    frame = setup.frame[["age", "bmi", "outcome"]].copy()
    frame["seen"] = pd.date_range("2024-03-01 08:30:00.123456789", periods=len(frame), freq="h")
    frame["at"] = frame["seen"].dt.tz_localize("Europe/Paris")
    path = tmp_path / "visits.parquet"
    frame.to_parquet(path, index=False)  # datetime64[ns]: INT64 (TIMESTAMP(NANOS, ...))
    schema = setup.lake.add_table(
        "visits_ns",
        path,
        bounds={"age": (0, 120)},
        policy=collab.Policy(min_rows=20, auto_approve_statistics=True),
    )
    assert {c.name: (c.type, c.kind) for c in schema.columns}["seen"] == (
        "timestamp_ntz",
        "date",
    )
    assert schema.column("at").kind == "date" and schema.column("age").kind == "numeric"
    record = setup.lake._state.table("visits_ns")
    rows = engine.read(record["source"], record["format"]).select("seen", "at").toPandas()
    # to the microsecond: wall-clock times as written, instants in the session's time zone
    assert rows["seen"].tolist() == frame["seen"].dt.floor("us").tolist()
    zone = engine.spark_session().conf.get("spark.sql.session.timeZone")
    instants = frame["at"].dt.tz_convert(zone).dt.tz_localize(None).dt.floor("us")
    assert pd.to_datetime(rows["at"]).tolist() == instants.tolist()
    # statistics on the table's other columns run on its rows
    described = setup.fed.describe("visits_ns", ["age", "bmi"], timeout=300)
    assert described.loc["age", "count"] == len(frame)
    assert described.loc["bmi", "mean"] == pytest.approx(frame["bmi"].mean())


def test_a_view_keeps_what_the_table_publishes_for_columns_it_passes_through(setup, tmp_path):
    frame = setup.frame.assign(ward=setup.frame["ward"].clip(upper=3))
    path = tmp_path / "wards.parquet"
    frame.to_parquet(path, index=False)
    setup.lake.add_table(
        "wards",
        path,
        private_columns=["id"],
        bounds={"age": (18, 100), "bmi": (10, 60)},
        categories={"ward": [1, 2, 3], "sex": ["F", "M"]},
    )
    view = setup.lake.add_view(
        "consented_wards",
        "SELECT *, age * 2 AS age2, ward AS unit FROM wards WHERE consent",
        bounds={"bmi": (15, 50)},  # the view's own bounds win
        categories={"sex": None},  # and None publishes none
        private_columns=["id"],
    )
    assert view.column("ward").categories == (1, 2, 3) and view.column("ward").kind == (
        "categorical"
    )
    assert view.column("unit").categories == (1, 2, 3)  # a rename passes the values through
    assert view.column("age").bounds == (18.0, 100.0)
    assert view.column("bmi").bounds == (15.0, 50.0)
    assert view.column("sex").categories is None and view.column("sex").kind == "text"
    assert view.column("age2").bounds is None and view.column("age2").kind == "numeric"

    plan = collab.plans.LogisticRegression(
        table="consented_wards",
        features=["age", "ward"],
        label="outcome",
        rounds=2,
        validation=0,
    )
    checked = setup.fed.check(plan)  # accepted: 'ward' is categorical on the view
    assert checked.encoding["categories"] == {"ward": [1, 2, 3]}
    job = setup.fed.submit(plan)
    for request in setup.lake.requests:
        if request.job_id == job.job_id and request.status == "pending":
            request.approve()
    model = job.result(progress=False, timeout=600)
    assert list(job.history["rows"]) == [len(setup.consented)] * 2
    assert model.feature_names_in_.tolist() == ["age", "ward"]


def test_a_union_keeps_only_what_every_branch_passes_through(setup):
    view = setup.lake.add_view(
        "both",
        "SELECT age, sex, ward FROM patients UNION ALL SELECT age + 1 AS age, sex, ward "
        "FROM patients",
    )
    assert view.column("sex").categories == ("F", "M")
    assert view.column("ward").categories == (1, 2, 3)
    assert view.column("age").bounds is None
