"""fed.follow: a standing job whose model keeps training as three lakes' streams fill."""

from __future__ import annotations

import signal
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from lake_processes import ADMIN_PASSWORD, SCIENTIST, lake_env
from lake_processes import start as serve
from test_streams import land

import collab
from collab._display import html, request_report
from collab._errors import BudgetExceeded, LakeError, RequestDenied
from collab.plans._drift import DriftWarning, PageHinkley
from collab.scientist._parties import RemoteParty
from collab.widgets import FollowDashboard

LAKES = ("north", "south", "east")
SCHEMA = "id BIGINT, x1 DOUBLE, x2 DOUBLE, y BIGINT"
EVERY = 100


def rows(n: int, start: int, seed: int, *, inverted: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (1.5 * x[:, 0] - x[:, 1] + rng.normal(scale=0.4, size=n) > 0).astype("int64")
    if inverted:
        y = 1 - y
    return pd.DataFrame({"id": np.arange(start, start + n), "x1": x[:, 0], "x2": x[:, 1], "y": y})


@dataclass
class Setup:
    lakes: list[collab.Lake]
    fed: collab.Federation
    folders: dict[tuple[str, str], Path]
    landed: dict[tuple[str, str], list[pd.DataFrame]]

    def land(self, stream: str, lake: int, frame: pd.DataFrame) -> None:
        key = (LAKES[lake], stream)
        land(self.folders[key], f"f{len(self.landed[key]):03d}.parquet", frame)
        self.landed[key].append(frame)

    def approve(self, job: collab.FollowJob) -> None:
        for lake in self.lakes:
            for request in lake.requests:
                if request.job_id == job.job_id:
                    request.approve()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("follow")
    lakes, folders = [], {}
    try:
        for name in LAKES:
            lake = collab.Lake.launch(name, data_dir=root / name / "lake")
            lakes.append(lake)
            for stream in ("steady", "shifting", "private", "partial"):
                folder = root / name / stream
                folder.mkdir(parents=True)
                folders[(name, stream)] = folder
                lake.add_stream(
                    stream,
                    folder,
                    schema=SCHEMA,
                    private_columns=["id"],
                    bounds={"x1": (-4, 4), "x2": (-4, 4)},
                    categories={"y": [0, 1]},
                    policy=collab.Policy(
                        min_rows=10, max_epsilon=2.5 if stream == "private" else None
                    ),
                )
            lake.add_scientist(*SCIENTIST, name="Ada")
        fed = collab.connect(lakes, email=SCIENTIST[0], password=SCIENTIST[1])
        yield Setup(lakes, fed, folders, {k: [] for k in folders})
    finally:
        for lake in lakes:
            lake.stop()


def plan(table: str, **settings) -> collab.plans.LogisticRegression:
    return collab.plans.LogisticRegression(
        table=table, features=["x1", "x2"], label="y", rounds=8, learning_rate=0.5, **settings
    )


def test_a_followed_model_trains_on_each_landed_row_once_and_matches_scikit_learn(setup):
    job = setup.fed.follow(plan("steady"), every_rows=EVERY, max_updates=5)
    assert job.status == "waiting"
    dashboard = FollowDashboard(job, poll=0.2)
    assert dashboard.progress.value == 0 and dashboard.count.value == "0 / 5 updates"
    (request,) = [r for r in setup.lakes[0].requests if r.job_id == job.job_id]
    summary = request.summary()
    assert summary["follow"] == "every 100 new rows, at most 5 updates, no expiry"
    card = html(request_report(summary))
    assert "follows the stream" in card and "every 100 new rows, at most 5 updates" in card
    setup.approve(job)
    seed = 0
    for update in range(1, 6):
        if update == 3:  # north stops mid-stream; a file lands while it is down
            north = setup.lakes[0]
            north.stop()
            seed += 1
            setup.land("steady", 0, rows(EVERY, 1000 * seed, seed))
            time.sleep(2)
            reopened = collab.Lake.launch(north.name, data_dir=north.data_dir)
            setup.lakes[0] = reopened
            setup.fed._logins[north.name] = partial(reopened._datasite.login, *SCIENTIST)
        if update == 4:  # a file with another schema: set aside, and the job goes on
            misfit = rows(50, 77_000, 77).drop(columns=["x2"])
            land(setup.folders[("south", "steady")], "export.parquet", misfit)
        for lake in range(3):  # files land in turns; an update waits for all three
            if update == 3 and lake == 0:
                continue
            seed += 1
            setup.land("steady", lake, rows(EVERY + 20 * lake, 1000 * seed, seed))
            if lake < 2:
                assert len(job.updates) == update - 1
        job.wait(updates=update, timeout=300)
    job.wait(timeout=60)
    assert job.status == "done" and job.reason == "made its 5 update(s)"
    updates = job.updates
    landed = {name: pd.concat(setup.landed[(name, "steady")]) for name in LAKES}
    assert list(updates["update"]) == [1, 2, 3, 4, 5]
    assert list(updates["new_rows"]) == [3 * EVERY + 60] * 5
    assert updates["new_rows"].sum() == sum(len(f) for f in landed.values())
    assert list(updates["lakes"]) == [", ".join(LAKES)] * 5
    assert np.isnan(updates.loc[0, "before_accuracy"])
    assert (updates["before_accuracy"].iloc[1:] > 0.85).all()
    assert not updates["drift"].any()
    assert (updates["latency"] > 0).all() and (updates["seconds"] > 0).all()
    # each lake's records: contiguous ranges of batches, every taken row in one update
    for lake in setup.lakes:
        ranges = lake.followed(job.job_id)
        assert list(ranges["rows"]) == [len(f) for f in setup.landed[(lake.name, "steady")]]
        assert list(ranges["after"].iloc[1:]) == list(ranges["upto"].iloc[:-1])
        assert ranges["after"].iloc[0] == -1
        approved = lake.audit[lake.audit["action"] == "approve"]["detail"].iloc[-1]
        assert "every 100 new rows, at most 5 updates" in approved
    assert len(job.models) == 5 and job.model is job.models[-1]
    shown = job._repr_html_()
    assert "made its 5 update(s)" in shown and "before_accuracy" in shown
    assert "5 of 5 updates, every 100 new rows" in shown
    # the dashboard followed the updates and shows how the job ended
    assert dashboard.wait(timeout=30)
    assert dashboard.progress.value == 5 and dashboard.progress.bar_style == "success"
    assert (
        dashboard.count.value == "5 / 5 updates"
        and "made its 5 update(s)" in dashboard.header.value
    )
    assert dashboard.curves.value[:4] == b"\x89PNG" and dashboard.table.value.count("<tr>") == 6
    status = setup.lakes[1].stream_status("steady")
    assert status["files_set_aside"] == 1 and status["rows_taken"] == len(landed["south"])
    everything = pd.concat(landed.values())
    from sklearn.linear_model import LogisticRegression

    reference = LogisticRegression().fit(everything[["x1", "x2"]], everything["y"])
    ours = (job.model.predict(everything[["x1", "x2"]]) == everything["y"]).mean()
    theirs = reference.score(everything[["x1", "x2"]], everything["y"])
    assert abs(ours - theirs) <= 0.01


def test_inverted_labels_are_flagged_as_drift_and_a_revoked_job_stops(setup):
    job = setup.fed.follow(
        plan("shifting", secure_aggregation=False), every_rows=EVERY, max_updates=20
    )
    setup.approve(job)
    seed = 500
    with pytest.warns(DriftWarning, match="drift at update 6"):  # where the reader waits
        for update in range(1, 9):
            for lake in range(3):
                seed += 1
                setup.land("shifting", lake, rows(EVERY, 1000 * seed, seed, inverted=update >= 6))
            job.wait(updates=update, timeout=300)
    assert "drift at update 6" in collab._display.text(collab._display.follow_report(job))
    drift = job.updates.set_index("update")["drift"]
    assert not drift.loc[:5].any()  # the steady part
    assert drift.loc[6]
    assert job.updates.loc[5, "before_accuracy"] < 0.3  # update 6: the old model on new labels
    for request in setup.lakes[1].all_requests("approved"):
        if request.job_id == job.job_id:
            request.deny("this stream's labels changed meaning")
    for lake in range(3):
        setup.land("shifting", lake, rows(EVERY, 90_000 + lake * 1000, 90 + lake))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DriftWarning)
        job.wait(timeout=120)
    assert job.status == "stopped" and len(job.updates) == 8
    assert "revoked" in job.reason and "labels changed meaning" in job.reason


def test_with_min_lakes_an_update_starts_with_the_lakes_that_hold_the_rows(setup):
    job = setup.fed.follow(plan("partial"), every_rows=EVERY, max_updates=2, min_lakes=2)
    setup.approve(job)
    setup.land("partial", 2, rows(40, 60_000, 60))  # east: fewer than every_rows
    setup.land("partial", 0, rows(EVERY, 61_000, 61))
    setup.land("partial", 1, rows(EVERY, 62_000, 62))
    job.wait(updates=1, timeout=300)
    setup.land("partial", 2, rows(60, 63_000, 63))  # east's 40 rows waited for these
    setup.land("partial", 0, rows(EVERY, 64_000, 64))
    job.wait(timeout=300)
    assert job.status == "done"
    updates = job.updates
    assert list(updates["lakes"]) == ["north, south", "north, east"]
    assert list(updates["new_rows"]) == [2 * EVERY, 2 * EVERY]
    north, south, east = (lake.followed(job.job_id) for lake in setup.lakes)
    assert list(north["update"]) == [1, 2] and list(north["rows"]) == [EVERY, EVERY]
    assert list(south["update"]) == [1] and list(south["rows"]) == [EVERY]
    # east's two files, each trained on once: both in update 2
    assert list(east["update"]) == [2] and list(east["rows"]) == [40 + 60]
    assert (east["after"].iloc[0], east["upto"].iloc[0]) == (-1, 1)


@pytest.mark.http
@pytest.mark.slow
def test_a_served_lake_that_stops_and_reopens_mid_stream_trains_each_row_once(
    setup, ports, tmp_path
):
    """One lake of the job is served (``collab lake serve`` with the stream in its lake.toml,
    in a process of its own): it stops on SIGTERM after update 1, a file lands while it is
    down, and it is served again."""
    folders = {"north": tmp_path / "north-tide", "quay": tmp_path / "quay-tide"}
    for folder in folders.values():
        folder.mkdir()
    url, data_dir = f"http://127.0.0.1:{(port := ports())}", tmp_path / "quay"
    config = tmp_path / "lake.toml"
    config.write_text(
        f'[lake]\nname = "quay"\nport = {port}\nhost = "127.0.0.1"\ndata_dir = "{data_dir}"\n\n'
        f'[[streams]]\nname = "tide"\npath = "{folders["quay"]}"\nschema = "{SCHEMA}"\n'
        'private_columns = ["id"]\nbounds = { x1 = [-4, 4], x2 = [-4, 4] }\n'
        "categories = { y = [0, 1] }\n[streams.policy]\nmin_rows = 10\n\n"
        f'[[scientists]]\nemail = "{SCIENTIST[0]}"\nname = "Ada"\n'
    )
    landed: dict[str, list[pd.DataFrame]] = {"north": [], "quay": []}

    def put(lake: str, n: int) -> None:
        count = sum(map(len, landed.values()))
        frame = rows(n, 100_000 + 1000 * count, 200 + count)
        land(folders[lake], f"f{len(landed[lake]):03d}.parquet", frame)
        landed[lake].append(frame)

    def stop(process) -> None:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0

    env = lake_env()
    process = serve(config, env)
    try:
        north = setup.lakes[0]
        north.add_stream(
            "tide",
            folders["north"],
            schema=SCHEMA,
            private_columns=["id"],
            bounds={"x1": (-4, 4), "x2": (-4, 4)},
            categories={"y": [0, 1]},
            policy=collab.Policy(min_rows=10),
        )
        fed = collab.connect([north, url], email=SCIENTIST[0], password=SCIENTIST[1])
        assert "tide" in fed.streams["north"] and fed.streams["quay"] == ["tide"]
        job = fed.follow(plan("tide"), every_rows=EVERY, max_updates=3)
        for lake in (north, collab.Lake.attach(data_dir, url, ADMIN_PASSWORD)):
            for request in lake.requests:
                if request.job_id == job.job_id:
                    request.approve()
        put("north", EVERY)
        put("quay", EVERY + 10)
        job.wait(updates=1, timeout=300)
        stop(process)  # quay stops after update 1; a file lands while it is down
        put("quay", EVERY + 20)
        process = serve(config, env)
        put("north", EVERY)
        job.wait(updates=2, timeout=300)
        put("north", EVERY)
        put("quay", EVERY + 30)
        job.wait(timeout=300)
        quay = collab.Lake.attach(data_dir, url, ADMIN_PASSWORD)
        ranges = quay.followed(job.job_id)
        actions = list(quay.audit["action"])
    finally:
        stop(process)
    assert job.status == "done" and job.reason == "made its 3 update(s)"
    updates = job.updates
    assert list(updates["lakes"]) == ["north, quay"] * 3
    assert list(updates["new_rows"]) == [2 * EVERY + 10, 2 * EVERY + 20, 2 * EVERY + 30]
    assert updates["new_rows"].sum() == sum(len(f) for f in (*landed["north"], *landed["quay"]))
    # the served lake's records: each landed file in one update, the ranges contiguous
    assert list(ranges["rows"]) == [EVERY + 10, EVERY + 20, EVERY + 30]
    assert ranges["after"].iloc[0] == -1
    assert list(ranges["after"].iloc[1:]) == list(ranges["upto"].iloc[:-1])
    assert "lake reopened" in actions and actions.count("approve") == 1
    assert list(north.followed(job.job_id)["rows"]) == [EVERY] * 3


class LosesOneAnswer(RemoteParty):
    """South's answer to update 2's third round is lost on the way back (after the lake
    computed and recorded it)."""

    lost: ClassVar[list[str]] = []

    def compute(self, message):
        answer = super().compute(message)
        key = f"{message.get('update')}:{message['phase']}:{message['round']}"
        if self.name == "south" and key == "2:round:3" and not self.lost:
            self.lost.append(key)
            raise LakeError(self.name, "the connection dropped before the answer arrived")
        return answer


def test_dp_updates_spend_the_budget_and_stop_at_it_and_a_failed_update_runs_again(
    setup, monkeypatch
):
    monkeypatch.setattr("collab.scientist._follow.RemoteParty", LosesOneAnswer)
    dp_plan = plan("private", dp=collab.DP(epsilon=1.0, delta=1e-5), secure_aggregation=False)
    job = setup.fed.follow(dp_plan, every_rows=EVERY, max_updates=10)
    setup.approve(job)
    seed = 800
    for update in range(1, 4):
        for lake in range(3):
            seed += 1
            setup.land("private", lake, rows(EVERY, 1000 * seed, seed))
        if update < 3:
            job.wait(updates=update, timeout=300)
    job.wait(timeout=300)
    # the owners' 2.5: the approval paid for update 1, update 2 spent 1 more, update 3 cannot
    assert job.status == "stopped" and len(job.updates) == 2
    assert isinstance(job.error, BudgetExceeded) and "budget" in job.reason
    budget = setup.lakes[0].budget(SCIENTIST[0]).set_index("table")
    assert budget.loc["private", "epsilon spent"] == 2.0
    assert not isinstance(job.error, RequestDenied)
    # update 2 ran again after the lost answer: south replayed its recorded round (no new
    # noisy release, nothing charged twice), and every row still trained once
    assert LosesOneAnswer.lost == ["2:round:3"]
    for lake in setup.lakes:  # (new_rows is a DP-noised count here; the lakes' records)
        assert list(lake.followed(job.job_id)["rows"]) == [EVERY, EVERY]
    south = setup.lakes[1]
    assert south._state.executions(f"{job.job_id}-u2", "round") == 8
    repeated = south.audit[south.audit["action"] == "release repeated"]["detail"]
    assert any(f'"job": "{job.job_id}"' in d and '"round": 3' in d for d in repeated)


def test_page_hinkley_flags_a_jump_not_the_noise():
    rng = np.random.default_rng(3)
    steady = PageHinkley()
    assert not any(steady.update(v) for v in 0.3 + 0.03 * rng.normal(size=40))
    jumping = PageHinkley()
    flags = [jumping.update(v) for v in [0.3, 0.32, 0.29, 0.31, 0.3, 1.4]]
    assert flags == [False] * 5 + [True]


def test_an_update_pins_its_new_rows_and_a_window_reaches_back_for_more(tmp_path):
    from collab.lake._follow import follow_schedule, pinned_sources, ready, update_id
    from collab.lake._state import LakeState

    state = LakeState(tmp_path / "state.db")
    files = {f"f{b}": {"batch": b, "taken": b != 2, "rows": 10, "at": 100.0 + b} for b in range(5)}
    state.set_setting("stream:t", {"files": files})
    record = {"stream": {"path": "landing"}, "source": "stream:/kept#4"}
    windowed = plan("t").__class__(
        table="t", features=["x1"], label="y", follow={"every_rows": 15, "window": 35}
    )
    spent = []
    first = ready(state, "j" * 32, windowed, record, 1, lambda *a: spent.append(a))
    assert first == {"ready": True, "landed": 104.0}
    train, test = pinned_sources(state, "j" * 32, windowed, record, 1)
    assert (train, test) == ("stream:/kept#-1..4", "stream:/kept#-1..4")

    def ran(update: int) -> None:  # the update's first round ran on this lake
        run, schedule = update_id("j" * 32, update), follow_schedule(windowed)
        state.claim_execution(run, "round", 1, schedule=schedule, message_hash="m")

    ran(1)
    assert ready(state, "j" * 32, windowed, record, 2, None) == {"ready": False}
    files["f5"] = {"batch": 5, "taken": True, "rows": 20, "at": 105.0}
    state.set_setting("stream:t", {"files": files})
    record["source"] = "stream:/kept#5"
    assert ready(state, "j" * 32, windowed, record, 2, None)["ready"]
    train, test = pinned_sources(state, "j" * 32, windowed, record, 2)
    # the new rows are batch 5's; the window of 35 rows reaches back to batches 3 and 4
    assert (train, test) == ("stream:/kept#2..5", "stream:/kept#4..5")
    assert spent == []  # no DP: nothing charged
    # with min_lakes, update 3 may start without this lake after it answered yes: asked about
    # update 4, it gives update 3's rows back and pins them with the newer ones
    ran(2)
    files["f6"] = {"batch": 6, "taken": True, "rows": 20, "at": 106.0}
    state.set_setting("stream:t", {"files": files})
    record["source"] = "stream:/kept#6"
    assert ready(state, "j" * 32, windowed, record, 3, None)["ready"]
    files["f7"] = {"batch": 7, "taken": True, "rows": 5, "at": 107.0}
    state.set_setting("stream:t", {"files": files})
    record["source"] = "stream:/kept#7"
    assert ready(state, "j" * 32, windowed, record, 4, None)["ready"]
    book = state.setting(f"follow:{'j' * 32}:t")
    assert sorted(book["updates"], key=int) == ["1", "2", "4"]
    assert (book["updates"]["4"]["after"], book["updates"]["4"]["rows"]) == (5, 25)
