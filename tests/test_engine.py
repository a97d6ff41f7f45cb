"""Spark computes the same sums as numpy over the same rows, whatever the partitioning."""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd

from collab import engine
from collab.plans import LogisticRegression, Standardizer
from collab.plans._stats import stats_size, table_stats

REQUEST_OF = {"label_mean": 0.0, "label_std": 1.0}


def test_inspection_reads_types_rows_and_binary_columns(clinic_tables):
    facts = engine.inspect(str(clinic_tables["visits"]), "parquet")
    assert facts.rows == 120
    assert facts.types["note"] == "string" and facts.types["score"] == "double"
    assert "outcome" in facts.binary and "stage" not in facts.binary
    assert "score" not in facts.binary


def test_stats_and_update_over_partitions_equal_numpy(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(5000, 3)), columns=["a", "b", "c"])
    frame["y"] = (frame["a"] > 0).astype(float)
    frame.loc[::13, "b"] = np.nan
    frame.loc[::29, "y"] = np.nan
    folder = tmp_path / "split"
    folder.mkdir()
    for i, part in enumerate(np.array_split(frame, 4)):  # four files -> several partitions
        part.to_parquet(folder / f"part-{i}.parquet", index=False)
    plan = LogisticRegression(table="t", features=["a", "b", "c"], label="y", local_epochs=1)
    X, y = frame[["a", "b", "c"]].to_numpy(), frame["y"].to_numpy()

    rows = engine.table_rows(str(folder), "parquet", plan.columns)
    stats = rows.total(lambda X, y: table_stats(X, y).flat(), stats_size(3), None)
    np.testing.assert_allclose(stats, table_stats(X, y).flat(), rtol=1e-12)

    std = Standardizer.from_stats(table_stats(X, y))
    request = {"weights": [0.3, -0.2, 0.1, 0.05], **REQUEST_OF}
    update = rows.total(
        lambda Z, y: plan.local_update(Z, y, request).flat(), plan.update_size(3), std
    )
    keep = ~np.isnan(y)
    expected = plan.local_update(std.transform(X[keep]), y[keep], request).flat()
    np.testing.assert_allclose(update, expected, rtol=1e-9, atol=1e-9)


def test_a_local_session_starts_small_and_forks_its_workers_from_collabs_daemon():
    from collab.engine._spark import DEFAULT_CONF, session_conf

    java = "spark.driver.extraJavaOptions"
    local = session_conf("local[*]")
    assert local["spark.python.daemon.module"] == "collab.engine._daemon"
    assert local["spark.local.dir"] == tempfile.gettempdir()
    assert local[java].split() == [
        "-Dlog4j2.level=ERROR",
        f"-Djava.io.tmpdir={tempfile.gettempdir()}",
        "-XX:+UseSerialGC",
        "-Xms64m",
        "-Xmn32m",
        "-XX:MinHeapFreeRatio=10",
        "-XX:MaxHeapFreeRatio=20",
        "-XX:TieredStopAtLevel=1",
    ]
    # a heap the caller sized keeps the JVM's default collector; the caller's options win
    sized = session_conf("local[2]", {"spark.driver.memory": "8g"})
    assert sized[java].split() == [DEFAULT_CONF[java], f"-Djava.io.tmpdir={tempfile.gettempdir()}"]
    assert sized["spark.driver.memory"] == "8g"
    assert session_conf("local[*]", {java: "-Dx=1"})[java] == "-Dx=1"
    remote = session_conf("sc://localhost:15002")
    assert "spark.python.daemon.module" not in remote and remote[java] == DEFAULT_CONF[java]

    # this process's session: each task runs in a worker forked by collab's daemon, which had
    # imported collab before forking it
    def parent(batches):
        import os
        import sys

        import pyarrow as pa

        with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:
            command = fh.read().replace(b"\0", b" ").decode()
        for _ in batches:
            pass
        yield pa.RecordBatch.from_arrays(
            [pa.array([command]), pa.array(["collab._errors" in sys.modules])], ["cmd", "kept"]
        )

    spark = engine.spark_session()
    if not str(spark.sparkContext.master).startswith("local"):
        return
    rows = spark.range(4, numPartitions=2).mapInArrow(parent, "cmd string, kept boolean")
    for row in rows.collect():
        assert "-m collab.engine._daemon" in row["cmd"]
        assert row["kept"]
    # its scratch is where this process's is (the tests' own folder, removed after the run)
    system = spark.sparkContext._jvm.java.lang.System
    assert system.getProperty("java.io.tmpdir") == tempfile.gettempdir()
    assert spark.sparkContext.getConf().get("spark.local.dir") == tempfile.gettempdir()
