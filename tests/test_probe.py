"""collab.probe: the timings benchmarks read, over lakes run here as arrays (no Spark)."""

from __future__ import annotations

import threading
import uuid

import numpy as np
import pytest

import collab
import collab.probe
import collab.secure
from collab.plans import LogisticRegression, Standardizer
from collab.protocol import ArrayRows, Stats
from collab.scientist._job import train
from collab.scientist._parties import RemoteParty

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def rows() -> list[tuple[np.ndarray, np.ndarray]]:
    """Two lakes' rows of a signal a linear model separates."""
    rng = np.random.default_rng(7)
    out = []
    for n in (300, 200):
        X = rng.normal(size=(n, len(FEATURES))) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
        y = (X @ [1.0, -0.5, 2.0] + 0.3 > 0).astype(float)
        out.append((X, y))
    return out


def plan(**settings: object) -> LogisticRegression:
    base = {"rounds": 3, "local_epochs": 2, "learning_rate": 0.5, "validation": 0.0}
    return LogisticRegression(table="t", features=FEATURES, label="y", **{**base, **settings})


def lakes(p: LogisticRegression, rows: list[tuple[np.ndarray, np.ndarray]]) -> list:
    job_id = uuid.uuid4().hex
    return [
        collab.probe.local_lake(f"lake-{i}", p, ArrayRows(X, y), job_id=job_id)
        for i, (X, y) in enumerate(rows)
    ]


def test_timing_reports_the_crypto_of_a_job_trained_here_then_undoes_itself(rows):
    patched = (RemoteParty.compute, collab.secure.unmask, collab.secure.MaskingParty.mask)
    events: list[collab.probe.Event] = []
    p = plan(secure_aggregation=True)
    seen: list[int] = []
    with collab.probe.timing(events.append):
        model, history = collab.probe.train_here(
            p, lakes(p, rows), on_progress=lambda progress: seen.append(progress.rounds_done)
        )
    kinds = {e.kind for e in events}
    assert "crypto" in kinds and kinds <= set(collab.probe.KINDS)
    assert "call" not in kinds and "step" not in kinds  # no PySyft, no Spark here
    assert all(e.end >= e.start and e.seconds >= 0 for e in events)
    assert [r.round for r in history] == list(range(1, p.total_rounds + 1))
    assert seen[-1] == p.total_rounds and sorted(set(seen)) == list(range(p.total_rounds + 1))
    assert model.predict(rows[0][0]).shape == (len(rows[0][1]),)
    # the functions are collab's own again, and no more events arrive
    assert (RemoteParty.compute, collab.secure.unmask, collab.secure.MaskingParty.mask) == patched
    before = len(events)
    collab.probe.train_here(p, lakes(p, rows))
    assert len(events) == before


def test_a_local_lake_answers_statistics_as_the_coordinator_reads_them(rows):
    p = plan(secure_aggregation=False)
    (lake,) = lakes(p, rows[:1])
    answer = lake.compute(Stats(p.hash, 1, [lake.name]).to_dict())
    update = collab.probe.stats_update(answer)
    X, y = rows[0]
    assert update.rows == len(y)
    std = Standardizer.from_stats(update)
    np.testing.assert_allclose(std.mean, X.mean(axis=0), rtol=1e-9)


def test_follow_hears_every_round_of_a_job_before_its_waiters(rows):
    p = plan(secure_aggregation=False)
    gate = threading.Event()
    parties = lakes(p, rows)

    def run(job: collab.Job):  # trains once the test follows the job
        gate.wait()
        return train(job, parties)

    job = collab.Job(p, uuid.uuid4().hex, [q.name for q in parties], run)
    reports: list[tuple[int, bool]] = []
    collab.probe.follow(
        job, lambda progress: reports.append((progress.rounds_done, progress.state is not None))
    )
    gate.set()
    model = job.result(progress=False, timeout=120)
    rounds = [done for done, _ in reports]
    assert rounds == sorted(rounds) and set(range(1, p.total_rounds + 1)) <= set(rounds)
    assert all(has_state for done, has_state in reports if done > 0)
    assert model.predict(rows[1][0]).shape == (len(rows[1][1]),)


def test_one_call_at_a_time_puts_back_the_scientists_call():
    original = RemoteParty.compute
    with collab.probe.one_call_at_a_time():
        assert RemoteParty.compute is not original
    assert RemoteParty.compute is original


def test_kept_rows_and_forget_of_a_table_never_read():
    kept = collab.probe.kept_rows()
    assert kept.nbytes >= 0
    collab.probe.forget("/nowhere/never-read.parquet")  # nothing kept: nothing changes
    assert collab.probe.kept_rows().nbytes == kept.nbytes
    seen: list[float] = []
    thread = threading.Thread(target=lambda: seen.append(collab.probe.last_step().seconds))
    thread.start()
    thread.join()
    assert seen == [0.0]  # a thread that made no step has no step times
