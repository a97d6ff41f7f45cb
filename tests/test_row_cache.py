"""Rows kept between rounds never change a step's result: not when kept, not when lost."""

from __future__ import annotations

import shutil
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyspark import cloudpickle

from collab import engine
from collab.engine import _rows
from collab.engine._job_state import StateWhere, load_state, save_state
from collab.engine._step import last_step, row_cache
from collab.engine._tables import TABLE_CACHE
from collab.plans import LogisticRegression, Standardizer
from collab.plans._stats import stats_size, table_stats

# the steps below run in Spark's Python workers, which cannot import this test module
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pd.DataFrame]:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(rng.normal(size=(3000, 4)), columns=["a", "b", "c", "d"])
    frame["y"] = (frame["a"] - frame["c"] > 0).astype(float)
    frame.loc[::17, "b"] = np.nan
    frame.loc[::31, "y"] = np.nan
    folder = tmp_path_factory.mktemp("rows") / "t"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False)
    return str(folder), frame


def plan(**settings: object) -> LogisticRegression:
    return LogisticRegression(table="t", features=["a", "b", "c", "d"], label="y", **settings)


def request(w: np.ndarray) -> dict[str, object]:
    return {"weights": list(w), "label_mean": 0.0, "label_std": 1.0}


def expected(frame: pd.DataFrame, p: LogisticRegression, w: np.ndarray) -> np.ndarray:
    X, y = frame[list(p.features)].to_numpy(), frame["y"].to_numpy()
    keep = ~np.isnan(y)
    std = Standardizer.from_stats(table_stats(X, y))
    return p.local_update(std.transform(X[keep]), y[keep], request(w)).flat()


def compute_stats(source: str, p: LogisticRegression) -> np.ndarray:
    rows = engine.table_rows(source, "parquet", p.columns)
    return rows.total(lambda X, y: table_stats(X, y).flat(), stats_size(len(p.features)), None)


def compute_update(
    source: str, p: LogisticRegression, w: np.ndarray, std: Standardizer
) -> np.ndarray:
    rows = engine.table_rows(source, "parquet", p.columns)
    size = p.update_size(len(p.features))
    return rows.total(lambda Z, y: p.local_update(Z, y, request(w)).flat(), size, std)


def standardizer(stats: np.ndarray) -> Standardizer:
    from collab.plans import Update

    return Standardizer.from_stats(Update.from_flat(stats, 2))


def test_kept_rows_give_the_streamed_result_and_lost_rows_are_streamed_again(table):
    source, frame = table
    p = plan(local_epochs=1)
    TABLE_CACHE.forget(source)
    stats = compute_stats(source, p)
    assert last_step().streamed_partitions >= 1
    std = standardizer(stats)
    w = np.array([0.2, -0.1, 0.3, 0.0, 0.1])

    first = compute_update(source, p, w, std)
    assert last_step().kept_blocks >= 1 and last_step().streamed_partitions == 0
    np.testing.assert_allclose(first, expected(frame, p, w), rtol=1e-9, atol=1e-9)

    again = compute_update(source, p, w, std)
    np.testing.assert_array_equal(again, first)

    # a worker restarted on another machine, or the budget dropped the files
    token = engine.table_rows(source, "parquet", p.columns).token
    shutil.rmtree(Path(row_cache().root) / token)
    lost = compute_update(source, p, w, std)
    assert last_step().streamed_partitions >= 1
    np.testing.assert_array_equal(lost, first)
    compute_update(source, p, w, std)
    assert last_step().streamed_partitions == 0  # kept again


def test_mini_batch_steps_do_not_depend_on_what_was_kept(table):
    source, _ = table
    p = plan(local_epochs=3, batch_size=64)
    TABLE_CACHE.forget(source)
    stats = compute_stats(source, p)
    std = standardizer(stats)
    w = np.zeros(5)
    kept = compute_update(source, p, w, std)
    TABLE_CACHE.forget(source)  # a new token: nothing is kept, everything streams
    streamed = compute_update(source, p, w, std)
    assert last_step().streamed_partitions >= 1
    np.testing.assert_array_equal(kept, streamed)


def test_lakes_stepping_at_once_share_the_processs_step_threads(table):
    """Ten lakes of one process step on kept rows at once: each step's blocks run on the
    calling thread and on the process's step threads, which are not started again for each
    step, and every step's sum is the one it gives alone."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    source, frame = table
    p = plan()
    TABLE_CACHE.forget(source)
    rows = engine.table_rows(source, "parquet", p.columns)
    ran: list[tuple[str, int]] = []

    def count(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        ran.append((threading.current_thread().name, threading.get_ident()))
        return np.array([float(len(y)), float(np.sum(X[:, 0] * y))])

    rows.total(count, 2, None)  # streamed, and the rows kept
    alone = rows.total(count, 2, None)
    assert last_step().kept_blocks >= 2 and last_step().streamed_partitions == 0
    labelled = frame[~frame["y"].isna()]
    assert alone[0] == len(labelled)
    np.testing.assert_allclose(alone[1], float((labelled["a"] * labelled["y"]).sum()))

    def steps() -> set[int]:
        ran.clear()
        with ThreadPoolExecutor(10, thread_name_prefix="lake") as lakes:
            totals = list(lakes.map(lambda _: rows.total(count, 2, None), range(10)))
        for total in totals:
            np.testing.assert_array_equal(total, alone)
        assert all(name.startswith(("lake", "collab-step")) for name, _ in ran), ran
        return {ident for name, ident in ran if name.startswith("collab-step")}

    from collab.engine._step import _parallelism

    assert len(steps() | steps()) <= _parallelism()  # the same few threads, each time


def _one_blas_thread_per_block(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    from collab.engine._blas import _blas_libraries

    return np.array([1.0, float(all(library.get() == 1 for library in _blas_libraries()))])


def test_a_block_is_computed_with_one_blas_thread_on_either_path(table):
    """Several threads (and lakes) step at once; BLAS's own threads on top only contend, and
    how BLAS splits a product changes the order of its sums: one thread, whichever path."""
    from collab.engine._blas import _blas_libraries

    libraries = _blas_libraries()
    if not libraries:
        pytest.skip("no OpenBLAS with its own threads in this environment")
    before = [library.get() for library in libraries]
    source, _ = table
    p = plan()
    TABLE_CACHE.forget(source)
    rows = engine.table_rows(source, "parquet", p.columns)
    streamed = rows.total(_one_blas_thread_per_block, 2, None)
    assert last_step().streamed_partitions >= 1
    kept = rows.total(_one_blas_thread_per_block, 2, None)
    assert last_step().kept_blocks >= 1 and last_step().streamed_partitions == 0
    assert streamed[1] == streamed[0] >= 1  # every block saw one BLAS thread
    assert kept[1] == kept[0] >= 1
    assert [library.get() for library in libraries] == before  # given back after the step


def test_blas_gets_its_threads_back_when_the_last_of_concurrent_steps_ends():
    import threading

    from collab.engine._blas import _blas_libraries, one_blas_thread

    libraries = _blas_libraries()
    if not libraries:
        pytest.skip("no OpenBLAS with its own threads in this environment")
    before = [library.get() for library in libraries]
    inside, leave = threading.Event(), threading.Event()

    def other_step() -> None:
        with one_blas_thread():
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=other_step)
    thread.start()
    try:
        assert inside.wait(30)
        with one_blas_thread():
            assert [library.get() for library in libraries] == [1] * len(libraries)
        # the other step still runs: still one thread
        assert [library.get() for library in libraries] == [1] * len(libraries)
    finally:
        leave.set()
        thread.join(30)
    assert [library.get() for library in libraries] == before


def test_the_budget_bounds_what_is_kept(tmp_path):
    cache = _rows.RowCache(max_bytes=1000, root=str(tmp_path))
    for token in ("a", "b"):
        (tmp_path / token).mkdir()
        cache.filled(token, ((0, 10),), 600)
    assert not (tmp_path / "a").exists() and (tmp_path / "b").exists()  # oldest dropped
    cache.filled("c", ((0, 10),), 5000)
    assert cache.table("c").too_big and cache.nbytes <= 1000
    cache.clear()
    assert not tmp_path.exists()


def test_blocks_cover_a_partition_in_order():
    for n in (0, 1, _rows.BLOCK_ROWS, _rows.BLOCK_ROWS + 1, 5 * _rows.BLOCK_ROWS - 3):
        blocks = _rows.blocks_of(n)
        assert blocks[0][0] == 0 and blocks[-1][1] == n
        assert all(a[1] == b[0] for a, b in pairwise(blocks))
        assert all(stop - start <= _rows.BLOCK_ROWS for start, stop in blocks)


def test_a_job_states_empty_entry_is_kept_with_the_others(tmp_path):
    """A tree's root level records no splits yet (an empty array): writing it must not count
    as running out of room, which would drop the block's bin codes and scores and make the
    next round rebuild them (and replay every finished tree). An entry keeps its order (bin
    codes are read column by column)."""
    where = StateWhere(str(tmp_path), "token", "job")
    codes = np.asfortranarray(np.arange(12, dtype=np.uint8).reshape(4, 3))
    after = {"codes": codes, "splits": np.zeros((0, 5), dtype=np.int64), "score": np.ones(4)}
    save_state(where, 0, 1, {}, after)
    kept = load_state(where, 0, 1)
    assert sorted(kept) == ["codes", "score", "splits"]
    np.testing.assert_array_equal(kept["codes"], codes)
    assert kept["codes"].flags.f_contiguous
    np.testing.assert_array_equal(kept["score"], np.ones(4))
    assert kept["splits"].shape == (0, 5)
    # the next round changes one entry: the rest stays as it was
    save_state(where, 0, 1, kept, {**kept, "score": np.full(4, 2.0)})
    again = load_state(where, 0, 1)
    np.testing.assert_array_equal(again["codes"], codes)
    np.testing.assert_array_equal(again["score"], np.full(4, 2.0))


def test_a_job_states_folder_removed_while_it_is_written_leaves_nothing_kept(tmp_path):
    """A job's state removed (its job ended on another lake of the process, the budget)
    while a step writes it: the write keeps nothing, and the next round rebuilds. A removal
    between ``makedirs``' ``mkdir`` and its check shows as "file exists"; a file where the
    block's folder goes is seen by ``makedirs`` the same way, every time."""
    where = StateWhere(str(tmp_path), "token", "job")
    Path(where.folder).mkdir(parents=True)
    Path(where.block(0, 0)).write_bytes(b"")
    save_state(where, 0, 0, {}, {"score": np.ones(4)})  # no error: nothing is kept
    assert load_state(where, 0, 0) == {}
    assert [p.name for p in Path(where.folder).iterdir()] == ["0.0"]  # no temporary file left


def test_a_lakes_job_end_drops_its_own_tables_state_only(tmp_path):
    """Lakes of one process (a demo) run one job on their own tables: the lake whose last
    round ends first must not remove the state another lake still computes that round with.
    A job ended or denied for the whole process goes from every table."""
    cache = _rows.RowCache(root=str(tmp_path))
    wheres = {token: StateWhere(str(tmp_path), token, "job") for token in ("mary", "jude")}
    for token, where in wheres.items():
        cache.filled(token, ((0, 4),), 64)
        save_state(where, 0, 0, {}, {"score": np.ones(4)})
        cache.job_state(token, "job", 128)
    cache.drop_job("job", "mary")
    assert not Path(wheres["mary"].folder).exists()
    assert sorted(load_state(wheres["jude"], 0, 0)) == ["score"]
    # a step of the ended job still running on the first lake removes what it wrote
    save_state(wheres["mary"], 0, 0, {}, {"score": np.ones(4)})
    cache.job_state("mary", "job", 128)
    assert not Path(wheres["mary"].folder).exists()
    cache.job_state("jude", "job", 128)  # the other lake's next round keeps its state
    assert cache.table("jude").job_bytes == {"job": 128}
    assert sorted(load_state(wheres["jude"], 0, 0)) == ["score"]
    cache.drop_job("job")
    assert not Path(wheres["jude"].folder).exists() and cache.nbytes == 128


def test_a_job_state_packed_for_sparks_cache_reads_back_as_it_was():
    """Where rows are not kept, a block's labels and state travel as one value of a Spark
    DataFrame; read back, every entry has its values, type, shape and order."""
    from collab.engine._job_state import pack, unpack

    codes = np.asfortranarray(np.arange(21, dtype=np.uint8).reshape(7, 3))
    state = {
        "codes": codes,
        "score": np.linspace(-1.0, 1.0, 7),
        "node": np.arange(7, dtype=np.int32),
        "splits": np.zeros((0, 5), dtype=np.int64),
        "flags": np.array([True, False]),
    }
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    packed = pack(state, y)
    # inside an Arrow column a value need not start at an aligned address
    back, labels = unpack(memoryview(b"x" + packed.tobytes())[1:])
    np.testing.assert_array_equal(labels, y)
    assert sorted(back) == sorted(state)
    for name, array in state.items():
        np.testing.assert_array_equal(back[name], array)
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
    assert back["codes"].flags.f_contiguous
    with pytest.raises(TypeError, match="named numpy array"):
        pack({"no-dash": np.ones(2)}, y)


def test_rows_not_read_can_be_cut_and_counted_and_any_other_use_asks_for_the_rows():
    from collab.engine._job_state import NeedsRows, RowsElsewhere

    rows = RowsElsewhere(5)
    assert len(rows[np.array([True, False, True, True, False])]) == 3
    assert len(rows[1:3]) == 2 and len(rows[np.array([4, 0])]) == 2
    for use in (
        lambda: np.asarray(rows),
        lambda: rows[:, 0],
        lambda: rows[2],
        lambda: rows.shape,
        lambda: np.isnan(rows),
        lambda: np.column_stack([rows]),
    ):
        with pytest.raises(NeedsRows):
            use()


def test_a_job_state_in_sparks_cache_serves_a_round_alone_or_the_round_reads_the_rows(table):
    """Rows not kept: a round reads only the job's state DataFrame while the step's state
    holds what it needs; a step that uses the rows makes the round read the table again."""
    from collab.engine._job_state import spark_states

    source, frame = table
    p = plan()
    rows = engine.table_rows(source, "parquet", p.columns)
    labelled = frame[~frame["y"].isna()]
    expected = [float(np.nansum(labelled[list(p.features)].to_numpy())), float(len(labelled))]

    def reads_rows(X: np.ndarray, y: np.ndarray, state: dict) -> np.ndarray:
        return np.array([float(np.nansum(X)), float(len(y))])

    def keeps_sums(X: np.ndarray, y: np.ndarray, state: dict) -> np.ndarray:
        if "sums" not in state:
            state["sums"] = reads_rows(X, y, state)
        return state["sums"].copy()

    cache = row_cache()
    budget, cache.max_bytes = cache.max_bytes, 0
    try:
        first = rows.total(keeps_sums, 2, None, "job-a")
        assert last_step().streamed_partitions >= 1 and last_step().state_blocks == 0
        again = rows.total(keeps_sums, 2, None, "job-a")
        assert last_step().state_blocks >= 1 and last_step().streamed_partitions == 0
        assert spark_states().rounds("job-a") == {rows.token: (1, 1)}
        reread = rows.total(reads_rows, 2, None, "job-a")
        assert last_step().spark_jobs == 2 and last_step().streamed_partitions >= 1
        assert spark_states().frame("job-a", rows.token) is None  # it kept nothing
    finally:
        cache.max_bytes = budget
        engine.drop_job_state("job-a")
    for total in (first, again, reread):
        np.testing.assert_allclose(total, expected, rtol=1e-12)


def test_a_kept_file_is_mapped_once_and_never_read_stale(tmp_path):
    """Rounds read a block's files again and again: a file unchanged since it was mapped is
    the mapping already held; a replaced file is read anew; a removed one is gone, and the
    mappings under a removed folder are let go (they would hold its shared memory)."""
    where = StateWhere(str(tmp_path), "token", "job")
    save_state(where, 0, 0, {}, {"score": np.ones(5), "node": np.zeros(5, dtype=np.int32)})
    first = load_state(where, 0, 0)
    again = load_state(where, 0, 0)
    assert first["score"] is again["score"] and first["node"] is again["node"]
    assert type(first["score"]) is np.ndarray and not first["score"].flags.writeable
    save_state(where, 0, 0, again, {**again, "score": np.full(5, 3.0)})
    moved = load_state(where, 0, 0)
    np.testing.assert_array_equal(moved["score"], np.full(5, 3.0))
    assert moved["node"] is first["node"]  # not rewritten: still the same mapping
    np.testing.assert_array_equal(first["score"], np.ones(5))  # a reader's old values hold
    save_state(where, 0, 0, moved, {"node": moved["node"]})  # an entry removed
    assert sorted(load_state(where, 0, 0)) == ["node"]
    cache = _rows.RowCache(max_bytes=1 << 20, root=str(tmp_path))
    cache.drop_job("job")  # its folder removed (the table is not one it counts: none is)
    cache.drop("token")
    assert load_state(where, 0, 0) == {}
    assert not [p for p in _rows._mapped if p.startswith(str(tmp_path))]
