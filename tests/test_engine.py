"""Spark computes the same sums as numpy over the same rows, whatever the partitioning."""

from __future__ import annotations

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
