"""Spark computes the same sums as numpy over the same rows, whatever the partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from collab import engine
from collab.plans import LogisticRegression
from collab.plans._steps import Standardizer, local_update, table_stats


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

    stats = engine.compute_stats(str(folder), "parquet", plan)
    np.testing.assert_allclose(stats, table_stats(X, y), rtol=1e-12)

    std = Standardizer.from_stats(stats, 3)
    w = np.array([0.3, -0.2, 0.1, 0.05])
    update = engine.compute_update(str(folder), "parquet", plan, w, std)
    np.testing.assert_allclose(update, local_update(X, y, w, std, plan), rtol=1e-9, atol=1e-9)
