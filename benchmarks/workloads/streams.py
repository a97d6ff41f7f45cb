"""Streams: three in-process lakes whose folders receive files; how long from a file landing
to its rows admitted, to the followed model updated on them (``fed.follow``), and to those
rows scored."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._collab import approve_job
from .._context import Context

STREAM = "readings"


def _rows(n: int, start: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (x @ np.array([1.0, -0.5, 0.25, 0.0]) + rng.normal(scale=0.5, size=n) > 0).astype(int)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(4)])
    return frame.assign(id=np.arange(start, start + n), y=y)


def _land(folder: Path, name: str, frame: pd.DataFrame) -> float:
    """Write under a hidden name and rename: the file appears whole. When it appeared."""
    hidden = folder / f".{name}"
    frame.to_parquet(hidden, index=False)
    os.replace(hidden, folder / name)
    return time.perf_counter()


def _until(check: Any, timeout: float = 600.0) -> float:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the stream did not take the landed rows in time")
        time.sleep(0.02)
    return time.perf_counter()


def streams(ctx: Context) -> dict[str, Any]:
    """Per update: files of ``stream_rows`` rows land on each of 3 lakes at once; admission
    (the newest file landing to its rows taken on every lake, polled every 20 ms), then the
    update of a followed logistic regression (``fed.follow``, ``stream_rounds`` rounds an
    update, warm-started, over the new rows): the wait for the job to see the rows (its
    readiness poll), the update's set-up and test-then-train, and its rounds' own time (from
    the model's history); and one lake's scoring of its stream (a file landing to its rows
    written)."""
    import collab

    s = ctx.suite
    lakes = ctx.lakes(3)
    chosen = lakes.lakes[:3]
    root = ctx.root / "streams"
    folders = []
    for i, lake in enumerate(chosen):
        folder = root / lake.name
        folder.mkdir(parents=True, exist_ok=True)
        _land(folder, "f0000.parquet", _rows(s.stream_rows, 0, 100 * i))
        if STREAM not in lake.tables:
            lake.add_stream(STREAM, folder, private_columns=["id"])
        lake.stream_status(STREAM, wait=True)
        folders.append(folder)
    fed = lakes.federation(3)
    plan = collab.plans.LogisticRegression(
        table=STREAM,
        features=[f"x{i}" for i in range(4)],
        label="y",
        rounds=s.stream_rounds,
        local_epochs=5,
        learning_rate=0.5,
        validation=0,
    )
    job = fed.follow(plan, every_rows=s.stream_rows, max_updates=s.stream_updates + 1)
    approve_job(chosen, job)  # type: ignore[arg-type]
    job.wait(updates=1, timeout=900)  # the first file: the job's first update, untimed
    updates = []
    for u in range(1, s.stream_updates + 1):
        expected = [lake.stream_status(STREAM)["rows_taken"] + s.stream_rows for lake in chosen]
        landed = [
            _land(folder, f"f{u:04d}.parquet", _rows(s.stream_rows, u * s.stream_rows, 100 * i + u))
            for i, folder in enumerate(folders)
        ]
        newest = max(landed)
        admitted = _until(
            lambda expected=expected: all(
                lake.stream_status(STREAM)["rows_taken"] >= want
                for lake, want in zip(chosen, expected, strict=True)
            )
        )
        job.wait(updates=u + 1, timeout=900)
        done = time.perf_counter()
        update = job.updates.iloc[-1]
        model = job.model
        rounds = float(sum(row["seconds"] for row in model.history))
        updates.append(
            {
                "update": u,
                "rows": int(update["new_rows"]),
                "admission_seconds": admitted - newest,
                "waiting_seconds": (done - admitted) - float(update["seconds"]),
                "test_and_setup_seconds": float(update["seconds"]) - rounds,
                "rounds_seconds": rounds,
                "beyond_rounds_seconds": (done - newest) - rounds,
                "latency_seconds": done - newest,
            }
        )
        ctx.log(f"streams: update {u}: {updates[-1]['latency_seconds']:.2f} s")
    job.stop()
    scoring_lake, folder = chosen[0], folders[0]
    into = root / "scored"
    scoring = scoring_lake.score(model, STREAM, into=into, keep=["id"])
    scoring.wait(rows=scoring_lake.stream_status(STREAM)["rows_taken"], timeout=600)
    scored = []
    for u in range(s.stream_updates):
        before = scoring.rows
        landed = _land(folder, f"s{u:04d}.parquet", _rows(s.stream_rows, 10**6 + u * 10**4, u))
        scoring.wait(rows=before + s.stream_rows, timeout=600)
        scored.append(time.perf_counter() - landed)
    scoring.stop()

    def median(key: str) -> float:
        return statistics.median(update[key] for update in updates)

    return {
        "lakes": 3,
        "rows_per_file": s.stream_rows,
        "rounds": s.stream_rounds,
        "updates": updates,
        "median_latency_seconds": median("latency_seconds"),
        "median_admission_seconds": median("admission_seconds"),
        "median_rounds_seconds": median("rounds_seconds"),
        "median_waiting_seconds": median("waiting_seconds"),
        "median_test_and_setup_seconds": median("test_and_setup_seconds"),
        "median_beyond_rounds_seconds": median("beyond_rounds_seconds"),
        "scoring_latency_seconds": scored,
        "median_scoring_latency_seconds": statistics.median(scored),
    }
