"""Streams: folders new files land in, read through Spark Structured Streaming, and models
an owner scores in place."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lake_processes import SCIENTIST

import collab
from collab import engine
from collab._errors import CollabError, PlanError
from collab.lake._config import load_config
from collab.lake._serve import publish
from collab.lake._streams import job_source

LAKE = "harbour"


def readings(n: int, start: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(scale=0.5, size=n) > 0).astype("int64")
    return pd.DataFrame({"id": np.arange(start, start + n), "x1": x[:, 0], "x2": x[:, 1], "y": y})


def land(folder: Path, name: str, frame: pd.DataFrame) -> None:
    """Write a file under a hidden name, then rename it: it appears whole."""
    hidden = folder / f".{name}"
    if name.endswith(".csv"):
        frame.to_csv(hidden, index=False)
    elif name.endswith(".json"):
        frame.to_json(hidden, orient="records", lines=True)
    else:
        frame.to_parquet(hidden, index=False)
    os.replace(hidden, folder / name)


def kept(lake: collab.Lake, name: str) -> pd.DataFrame:
    record = lake._state.table(name)
    return engine.read(record["source"], record["format"]).toPandas()


@dataclass
class Setup:
    lake: collab.Lake
    fed: collab.Federation
    folder: Path
    root: Path
    landed: list[pd.DataFrame]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("streams")
    folder = root / "readings"
    folder.mkdir()
    first = readings(120, 0, 1)
    land(folder, "day-001.parquet", first)
    lake = collab.Lake.launch(LAKE)
    try:
        lake.add_stream(
            "readings",
            folder,
            description="sensor readings, a file a day",
            private_columns=["id"],
            bounds={"x1": (-5, 5), "x2": (-5, 5)},
            categories={"y": [0, 1]},
            policy=collab.Policy(min_rows=20, auto_approve_statistics=True),
        )
        lake.add_scientist(*SCIENTIST, name="Ada")
        fed = collab.connect([lake], email=SCIENTIST[0], password=SCIENTIST[1])
        lake.stream_status("readings", wait=True)
        yield Setup(lake, fed, folder, root, [first])
    finally:
        lake.stop()


def test_a_stream_is_published_like_a_table_marked_as_a_stream(setup):
    assert setup.fed.tables == {LAKE: ["readings"]}
    assert setup.fed.streams == {LAKE: ["readings"]}
    schema = setup.fed.schema("readings")
    assert list(schema["column"]) == ["id", "x1", "x2", "y"]
    assert list(schema["type"]) == ["bigint", "double", "double", "bigint"]
    assert schema.attrs["stream"] == [LAKE]
    published = setup.fed.table_schemas("readings")[LAKE]
    assert published.column("id").private and published.extra == {"stream": True}
    assert setup.lake.streams == ["readings"]
    audit = setup.lake.audit
    (added,) = audit[audit["action"] == "stream added"]["detail"].map(json.loads)
    assert added["path"] == str(setup.folder.resolve()) and added["format"] == "parquet"
    # the folder's path stays with the owner
    assert str(setup.folder) not in json.dumps(setup.fed._published(LAKE, "readings"))


def test_a_file_that_does_not_fit_is_set_aside_whole_and_the_stream_goes_on(setup):
    wrong_type = readings(30, 5000, 2).astype({"x1": str})
    missing = readings(30, 6000, 3).drop(columns=["x2"])
    land(setup.folder, "day-002.parquet", readings(80, 1000, 4))
    land(setup.folder, "day-003.parquet", wrong_type)
    land(setup.folder, "day-004.parquet", missing)
    status = setup.lake.stream_status("readings", wait=True)
    land(setup.folder, "day-005.parquet", readings(60, 2000, 5))  # after the misfits
    status = setup.lake.stream_status("readings", wait=True)
    setup.landed += [readings(80, 1000, 4), readings(60, 2000, 5)]

    assert status["running"] and status["error"] is None
    assert (status["files_taken"], status["rows_taken"], status["files_set_aside"]) == (
        3,
        260,
        2,
    )
    files = status["files"].set_index(status["files"]["file"].map(lambda f: Path(f).name))
    assert files.loc["day-003.parquet", "reason"] == (
        "column 'x1' holds string values; the stream's 'x1' holds double"
    )
    assert files.loc["day-004.parquet", "reason"] == "the file lacks column(s) x2"
    assert files.loc["day-005.parquet", "rows"] == 60 and files.loc["day-005.parquet", "taken"]
    # none of a set-aside file's rows are kept; every taken row once
    rows = kept(setup.lake, "readings")
    expected = pd.concat(setup.landed, ignore_index=True)
    assert sorted(rows["id"]) == sorted(expected["id"])
    merged = rows.merge(expected, on="id", suffixes=("", "_landed"))
    assert np.allclose(merged["x1"], merged["x1_landed"])
    audit = setup.lake.audit
    aside = audit[audit["action"] == "stream file set aside"]["detail"].map(json.loads)
    assert sorted(Path(d["file"]).name for d in aside) == ["day-003.parquet", "day-004.parquet"]


def test_statistics_on_a_stream_describe_the_rows_that_have_arrived(setup):
    before = setup.lake.stream_status("readings", wait=True)["rows_taken"]
    described = setup.fed.describe("readings", ["x1"], timeout=300)
    arrived = pd.concat(setup.landed, ignore_index=True)
    assert described.loc["x1", "count"] == before == len(arrived)
    assert described.loc["x1", "mean"] == pytest.approx(arrived["x1"].mean())
    more = readings(40, 3000, 6)
    land(setup.folder, "day-006.parquet", more)
    setup.lake.stream_status("readings", wait=True)
    setup.landed.append(more)
    again = setup.fed.describe("readings", ["x2"], timeout=300)  # quantiles of a new column
    assert again.loc["x2", "count"] == before + 40
    assert again.loc["x2", "mean"] == pytest.approx(pd.concat(setup.landed)["x2"].mean())


@pytest.fixture(scope="module")
def model(setup) -> collab.plans.Model:
    """A model trained on the stream's rows that have arrived."""
    plan = collab.plans.LogisticRegression(
        table="readings", features=["x1", "x2"], label="y", rounds=3, validation=0
    )
    job = setup.fed.submit(plan)
    for request in setup.lake.requests:
        if request.job_id == job.job_id and request.status == "pending":
            request.approve()
    trained = job.result(progress=False, timeout=600)
    arrived = sum(len(f) for f in setup.landed)
    assert list(job.history["rows"]) == [arrived] * 3
    return trained


def test_score_writes_each_row_of_a_table_with_the_models_probabilities(setup, model):
    table = readings(150, 9000, 7)
    path = setup.root / "clinic.parquet"
    table.to_parquet(path, index=False)
    setup.lake.add_table("clinic", path, private_columns=["id"])
    into = setup.root / "scored-clinic"
    saved = model.save(setup.root / "model.json")
    scoring = setup.lake.score(saved, "clinic", into=into, keep=["id"])  # from its JSON file
    assert scoring.rows == 150 and scoring.wait() == 150 and not scoring.running
    out = pd.read_parquet(into).sort_values("id").reset_index(drop=True)
    assert list(out.columns) == ["id", "prediction", "probability_0", "probability_1"]
    proba = model.predict_proba(table[["x1", "x2"]])
    assert np.allclose(out[["probability_0", "probability_1"]].to_numpy(), proba)
    assert (out["prediction"].to_numpy() == model.predict(table[["x1", "x2"]])).all()
    audit = setup.lake.audit
    started = audit[audit["action"] == "scoring started"]["detail"].map(json.loads).iloc[-1]
    assert started["model_hash"] == collab.lake._streams.model_hash(model)
    assert started["table"] == "clinic" and started["keep"] == ["id"]


def test_score_refuses_a_model_whose_inputs_the_table_lacks_or_a_pickle(setup, model, tmp_path):
    narrow = readings(30, 0, 8).drop(columns=["x2"])
    narrow.to_parquet(tmp_path / "narrow.parquet", index=False)
    setup.lake.add_table("narrow", tmp_path / "narrow.parquet")
    with pytest.raises(CollabError, match=r"reads column 'x2', which table 'narrow' does not"):
        setup.lake.score(model, "narrow", into=tmp_path / "out")
    with pytest.raises(CollabError, match=r"keep names column 'ward'"):
        setup.lake.score(model, "readings", into=tmp_path / "out", keep=["ward"])
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(b"\x80\x04\x95")
    with pytest.raises(PlanError, match="cannot read a model"):
        setup.lake.score(pickled, "readings", into=tmp_path / "out")
    with pytest.raises(TypeError, match="trained collab model"):
        setup.lake.score(object(), "readings", into=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_view_over_a_stream_is_refused(setup):
    with pytest.raises(CollabError, match=r"reads 'readings', a stream"):
        setup.lake.add_view("recent", "SELECT x1, y FROM readings")


def test_a_csv_stream_from_lake_toml_sets_aside_a_file_with_a_value_of_another_type(
    setup, tmp_path
):
    folder = tmp_path / "admissions"
    folder.mkdir()
    config = tmp_path / "lake.toml"
    config.write_text(
        f'[lake]\nname = "{LAKE}"\n\n[[streams]]\nname = "admissions"\npath = "{folder}"\n'
        'format = "csv"\nschema = "id BIGINT, ward INT, age DOUBLE"\n'
        'private_columns = ["id"]\n'
    )
    loaded = load_config(config)
    (stream,) = loaded.streams
    assert (stream.name, stream.format) == ("admissions", "csv")
    publish(setup.lake, loaded)
    assert setup.lake.schema("admissions").extra == {"stream": True}
    good = pd.DataFrame({"age": [71.5, 40.0], "id": [1, 2], "ward": [3, 1]})  # other order
    bad = pd.DataFrame({"id": [3, 4], "ward": ["three", "1"], "age": [50.0, 60.0]})
    land(folder, "a.csv", good)
    land(folder, "b.csv", bad)
    status = setup.lake.stream_status("admissions", wait=True)
    assert (status["files_taken"], status["rows_taken"], status["files_set_aside"]) == (1, 2, 1)
    reason = status["files"].set_index("taken").loc[False, "reason"]
    assert reason.startswith("unreadable:")
    rows = kept(setup.lake, "admissions").sort_values("id")
    assert rows.to_dict("list") == {"id": [1, 2], "ward": [3, 1], "age": [71.5, 40.0]}
    publish(setup.lake, loaded)  # serving again: the stream is hosted already
    assert setup.lake.streams.count("admissions") == 1


def test_a_stream_and_its_scoring_take_every_row_once_across_a_restart(model, tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    data_dir = tmp_path / "lake"
    into = tmp_path / "scored"
    land(folder, "f1.parquet", readings(50, 0, 11))
    lake = collab.Lake.launch("quay", data_dir=data_dir)
    try:
        schema = lake.add_stream("feed", folder)
        # a 0/1 column of the files present is a yes/no label, as in a table
        assert [c.kind for c in schema.columns] == ["numeric", "numeric", "numeric", "binary"]
        scoring = lake.score(model, "feed", into=into, keep=["id", "y"])
        assert scoring.wait(rows=50, timeout=300) == 50
        land(folder, "f2.parquet", readings(70, 100, 12))
        assert scoring.wait(rows=120, timeout=300) == 120
        scoring.stop()
    finally:
        lake.stop()
    land(folder, "f3.parquet", readings(30, 200, 13))  # lands while the lake is down
    lake = collab.Lake.launch("quay", data_dir=data_dir)
    try:
        status = lake.stream_status("feed", wait=True)
        assert (status["files_taken"], status["rows_taken"]) == (3, 150)
        scoring = lake.score(model, "feed", into=into, keep=["id", "y"])
        assert scoring.running and scoring.wait(rows=150, timeout=300) == 150
        land(folder, "f4.parquet", readings(20, 300, 14))
        assert scoring.wait(rows=170, timeout=300) == 170
        assert scoring.wait() == 170
        scoring.stop()
        rows = kept(lake, "feed")
        out = pd.read_parquet(into)
    finally:
        lake.stop()
    ids = [*range(50), *range(100, 170), *range(200, 230), *range(300, 320)]
    assert sorted(rows["id"]) == ids
    assert sorted(out["id"]) == ids  # each row scored once across the restart
    landed = pd.concat(
        [readings(50, 0, 11), readings(70, 100, 12), readings(30, 200, 13), readings(20, 300, 14)]
    ).set_index("id")
    proba = model.predict_proba(landed.loc[out["id"], ["x1", "x2"]])
    assert np.allclose(out["probability_1"].to_numpy(), proba[:, 1])


def test_add_stream_refuses_what_it_cannot_read(setup, tmp_path):
    with pytest.raises(CollabError, match="no folder at"):
        setup.lake.add_stream("ghost", tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CollabError, match="holds no file yet"):
        setup.lake.add_stream("ghost", empty)
    with pytest.raises(CollabError, match="format must be one of parquet, csv, json, delta"):
        setup.lake.add_stream("ghost", empty, format="orc", schema="a INT")
    with pytest.raises(CollabError, match="is not a column list Spark reads"):
        setup.lake.add_stream("ghost", empty, schema="a NOTATYPE")
    with pytest.raises(CollabError, match="is not a Delta table"):
        setup.lake.add_stream("ghost", empty, format="delta")
    from deltalake import write_deltalake

    write_deltalake(tmp_path / "wards", readings(10, 0, 1), partition_by=["y"])
    with pytest.raises(CollabError, match=r"is partitioned \(by y\); a stream reads an unparti"):
        setup.lake.add_stream("ghost", tmp_path / "wards", format="delta")
    with pytest.raises(CollabError, match="already hosts a table 'readings'"):
        setup.lake.add_stream("readings", empty, schema="a INT")
    assert "ghost" not in setup.lake.tables


def test_a_job_reads_the_rows_that_had_arrived_when_it_started(setup):
    state = setup.lake._state
    record = state.table("readings")
    started = job_source(state, "job-a", record)
    more = readings(25, 4000, 9)
    land(setup.folder, "day-007.parquet", more)
    setup.lake.stream_status("readings", wait=True)
    setup.landed.append(more)
    now = state.table("readings")
    assert now["source"] != started and now["rows"] == record["rows"] + 25
    assert job_source(state, "job-a", now) == started  # its later rounds: the same rows
    assert job_source(state, "job-b", now) == now["source"]  # a new job: every row arrived
    assert len(engine.read(started, "stream").toPandas()) == record["rows"]


@pytest.mark.http
@pytest.mark.slow
def test_a_served_lake_hosts_a_stream_its_jobs_read_as_rows_arrive(ports, tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    first = readings(60, 0, 21)
    land(folder, "f1.parquet", first)
    lake = collab.Lake.launch("pier", port=ports())
    try:
        lake.add_stream(
            "feed",
            folder,
            bounds={"x1": (-5, 5)},
            policy=collab.Policy(min_rows=20, auto_approve_statistics=True),
        )
        lake.add_scientist(*SCIENTIST)
        fed = collab.connect([lake.url], email=SCIENTIST[0], password=SCIENTIST[1])
        assert fed.streams == {"pier": ["feed"]}
        lake.stream_status("feed", wait=True)
        assert fed.describe("feed", ["x1"], timeout=300).loc["x1", "count"] == 60
        land(folder, "f2.parquet", readings(45, 100, 22))
        lake.stream_status("feed", wait=True)
        # the Datasite's own process reads the rows the owner's process admitted
        described = fed.describe("feed", ["x2"], timeout=300)
        assert described.loc["x2", "count"] == 105
    finally:
        lake.stop()


def test_a_json_stream_reads_its_columns_from_the_files_present(setup, tmp_path):
    folder = tmp_path / "events"
    folder.mkdir()
    land(folder, "e1.json", pd.DataFrame({"id": [1, 2], "score": [0.5, 1.5]}))
    schema = setup.lake.add_stream("events", folder, format="json")
    assert [(c.name, c.type) for c in schema.columns] == [("id", "bigint"), ("score", "double")]
    land(folder, "e2.json", pd.DataFrame({"id": [3], "score": ["high"]}))  # text: set aside
    land(folder, "e3.json", pd.DataFrame({"id": [4], "score": [2.5], "note": ["x"]}))
    land(folder, "e4.json", pd.DataFrame({"id": [5], "score": [3.5]}))
    status = setup.lake.stream_status("events", wait=True)
    assert (status["files_taken"], status["rows_taken"], status["files_set_aside"]) == (2, 3, 2)
    files = status["files"]
    reasons = dict(zip(files["file"].map(lambda f: Path(f).name), files["reason"], strict=True))
    assert reasons["e2.json"].startswith("unreadable:")
    assert reasons["e3.json"] == "the file has column(s) the stream does not: note"
    assert sorted(kept(setup.lake, "events")["id"]) == [1, 2, 5]


def test_a_stream_reads_pandas_datetimes_as_timestamps_as_a_table_does(setup, tmp_path):
    folder = tmp_path / "visits"
    folder.mkdir()
    seen = pd.to_datetime(["2024-03-01 08:30:00.123456789", "2024-03-02 09:00:00.5"])
    land(folder, "v1.parquet", pd.DataFrame({"id": [1, 2], "seen": seen}))  # nanoseconds
    schema = setup.lake.add_stream("visits", folder)
    types = [(c.name, c.type) for c in schema.columns]
    assert types == [("id", "bigint"), ("seen", "timestamp_ntz")]
    land(folder, "v2.parquet", pd.DataFrame({"id": [3, 4], "seen": seen}))
    assert setup.lake.stream_status("visits", wait=True)["rows_taken"] == 4
    rows = kept(setup.lake, "visits").sort_values("id")
    assert rows["seen"].tolist() == [*seen.floor("us"), *seen.floor("us")]


def test_a_parquet_file_is_kept_as_it_is_only_when_read_to_its_end(setup, tmp_path):
    from collab.engine._streams import admit_file, read_kept, write_schema_file

    spark = engine.spark_session()
    schema = spark.read.parquet(str(setup.folder / "day-001.parquet")).schema
    store = tmp_path / "kept"
    write_schema_file(store, schema)
    whole, narrow, damaged = (tmp_path / n for n in ("whole.parquet", "narrow.parquet", "bad"))
    readings(50, 0, 7).to_parquet(whole, index=False)
    readings(40, 100, 8).astype({"id": "int32"}).to_parquet(narrow, index=False)  # widened
    data = bytearray(whole.read_bytes())
    data[4:400] = bytes(396)  # the pages' bytes lost, the footer (its columns) intact
    damaged.write_bytes(bytes(data))

    outcomes = [
        admit_file(spark, f"file:{path}", "parquet", schema, store, 7, i)
        for i, path in enumerate((whole, narrow, damaged))
    ]
    assert [(o.taken, o.rows) for o in outcomes] == [(True, 50), (True, 40), (False, 0)]
    assert outcomes[2].reason.startswith("unreadable")
    assert sorted(p.name for p in store.iterdir()) == [
        "b0000000007-00000.parquet",
        "b0000000007-00001.parquet",
        "schema.parquet",
    ]
    assert not list((tmp_path / "staging").iterdir())
    rows = read_kept(spark, engine.stream_source(store, 7)).toPandas()
    assert sorted(rows["id"]) == [*range(50), *range(100, 140)]
    assert rows.dtypes["id"] == "int64"


def test_an_updates_kept_rows_read_without_spark_are_the_rows_spark_reads(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from collab.engine._rows import rows_from_batches
    from collab.engine._streams import kept_arrays, stream_range_source
    from collab.engine._tables import as_double_struct

    kept = tmp_path / "kept"
    kept.mkdir()
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("ward", pa.int32()),
            ("dose", pa.float32()),
            ("sick", pa.bool_()),
            ("y", pa.float64()),
        ]
    )
    pq.write_table(schema.empty_table(), kept / "schema.parquet")
    batches = {
        0: {"id": [1, 2], "ward": [3, 1], "dose": [0.5, 1.5], "sick": [True, False], "y": [1, 0]},
        1: {
            "id": [3, 4, 5, 6],
            "ward": [2, None, 7, 1],
            "dose": [None, 2.25, 1.0, 3.0],
            "sick": [False, None, True, True],
            "y": [0.0, 1.0, None, 2.0],
        },
        2: {"id": [7], "ward": [1], "dose": [0.0], "sick": [False], "y": [1.0]},
    }
    for batch, columns in batches.items():
        pq.write_table(pa.table(columns, schema=schema), kept / f"b{batch:010d}-00000.parquet")
    source = stream_range_source(kept, 0, 2)  # batches 1 and 2
    columns = ("ward", "dose", "sick", "y")
    codes = {"ward": [1, 2.0, 3], "y": [0, 1]}  # 7 is outside ward's categories; 2.0 in y's
    X, y = kept_arrays(source, columns, codes, True)()
    frame = as_double_struct(engine.read(source, "stream"), columns, codes)
    spark_X, spark_y = rows_from_batches(iter(frame.toArrow().to_batches()), len(columns))
    np.testing.assert_array_equal(X, spark_X)
    np.testing.assert_array_equal(y, spark_y)
    assert len(y) == 4 and y.tolist() == [0.0, 1.0, 2.0, 1.0]  # the missing label left out
    # a column Spark alone reads alike (text categories) is left to Spark
    assert kept_arrays(source, columns, {"ward": ["1", "2"]}, True) is None
    unlabelled = kept_arrays(source, ("dose",), {}, False)()
    assert unlabelled[1].tolist() == [1.0] * 5


def test_a_delta_table_is_a_stream_of_its_appended_versions_each_once_across_a_restart(
    tmp_path,
):
    from deltalake import DeltaTable, write_deltalake

    table = str(tmp_path / "orders")
    data_dir = tmp_path / "lake"
    appended = [readings(40, 0, 21), readings(30, 100, 22), readings(20, 200, 23)]
    for frame in appended:  # versions 0, 1 and 2, before the stream is hosted
        write_deltalake(table, frame, mode="append")

    def append(frame: pd.DataFrame) -> None:
        write_deltalake(table, frame, mode="append")
        appended.append(frame)

    def admitted(lake: collab.Lake) -> pd.DataFrame:
        return kept(lake, "orders").sort_values("id").reset_index(drop=True)

    def expected() -> pd.DataFrame:
        return pd.concat(appended).sort_values("id").reset_index(drop=True)

    lake = collab.Lake.launch("wharf", data_dir=data_dir)
    try:
        schema = lake.add_stream("orders", table, format="delta", private_columns=["id"])
        # the columns from the Delta table's schema; a 0/1 column of its rows is a yes/no label
        assert [(c.name, c.kind) for c in schema.columns] == [
            ("id", "numeric"),
            ("x1", "numeric"),
            ("x2", "numeric"),
            ("y", "binary"),
        ]
        status = lake.stream_status("orders", wait=True)
        assert (status["files_taken"], status["rows_taken"]) == (3, 90)
        append(readings(25, 300, 24))  # version 3
        lake.stream_status("orders", wait=True)
        DeltaTable(table).delete("x1 > 0.5")  # version 4 removes (and rewrites) rows
        append(readings(15, 400, 25))  # version 5
        status = lake.stream_status("orders", wait=True)
        assert status["running"] and status["error"] is None
        assert (status["files_taken"], status["rows_taken"], status["files_set_aside"]) == (
            5,
            130,
            1,
        )
        aside = status["files"][~status["files"]["taken"].astype(bool)].iloc[0]
        assert aside["batch"] == 4 and aside["reason"] == (
            "version 4 removes rows: a stream takes appended rows only"
        )
        pd.testing.assert_frame_equal(admitted(lake), expected())
    finally:
        lake.stop()
    append(readings(10, 500, 26))  # version 6, while the lake is down
    wider = readings(10, 600, 27).assign(ward=3)
    write_deltalake(table, wider, mode="append", schema_mode="merge")  # version 7
    # a crash after versions 3 to 6 were kept but before they were marked admitted: they are
    # admitted again, under the same kept names
    marker = data_dir / "streams" / "orders" / "checkpoint" / "delta-version.json"
    assert json.loads(marker.read_text()) == {"version": 5}
    marker.write_text(json.dumps({"version": 2}))
    lake = collab.Lake.launch("wharf", data_dir=data_dir)
    try:
        status = lake.stream_status("orders", wait=True)
        assert (status["files_taken"], status["rows_taken"], status["files_set_aside"]) == (
            6,
            140,
            2,
        )
        files = status["files"].set_index("batch")
        assert files.loc[7, "reason"] == "the file has column(s) the stream does not: ward"
        pd.testing.assert_frame_equal(admitted(lake), expected())  # each appended row once
        audit = lake.audit
        set_aside = audit[audit["action"] == "stream file set aside"]["detail"].map(json.loads)
        reasons = {d["reason"] for d in set_aside}
        assert reasons == {
            "version 4 removes rows: a stream takes appended rows only",
            "the file has column(s) the stream does not: ward",
        }
        assert json.loads(marker.read_text()) == {"version": 7}
    finally:
        lake.stop()
