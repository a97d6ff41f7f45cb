"""A job's schedule (:class:`collab.protocol.Schedule`): the rules every lake and every mock
lake admit executions by, for a job of a fixed number of rounds and for an open-ended one."""

from __future__ import annotations

import pytest

import collab
from collab.plans import LogisticRegression
from collab.protocol import MemoryExecutions, Phase, Schedule, digest


def claim(executions, schedule, phase, round_, message="m"):
    return executions.claim_execution(
        "j" * 32, phase, round_, schedule=schedule, message_hash=digest(message)
    )


def test_a_plans_schedule_lists_its_phases_in_order_with_their_limits_and_slots():
    plan = LogisticRegression(table="t", features=["a", "b"], label="y", rounds=4, validation=0.2)
    schedule = Schedule.of(plan)
    assert schedule.rounds == 4
    assert schedule.phases == (
        Phase.KEYS,
        Phase.DEAL,
        Phase.RECEIVE,
        Phase.STATS,
        Phase.ROUND,
        Phase.EVALUATE,
        Phase.UNMASK,
    )
    assert [schedule.limit(p) for p in schedule.phases] == [1, 1, 1, 1, 4, 1, 6]
    assert schedule.masking_slots == 6 and schedule.evaluation_slot == 5
    assert schedule.is_first_exchange(Phase.KEYS, 1)
    assert not schedule.is_first_exchange(Phase.ROUND, 1)
    assert schedule.resume_round(2) == 3
    plain = Schedule.of(
        LogisticRegression(
            table="t",
            features=["a"],
            label="y",
            rounds=4,
            secure_aggregation=False,
            validation=0,
        )
    )
    assert plain.phases == (Phase.STATS, Phase.ROUND)
    assert plain.is_first_exchange("stats", 1) and not plain.is_first_exchange("stats", 2)


def test_rounds_run_once_each_in_order_and_a_replay_gets_the_stored_answer():
    schedule, runs = Schedule(rounds=3), MemoryExecutions()
    assert claim(runs, schedule, "round", 1) is None
    runs.store_result("j" * 32, "round", 1, {"vector": [1.0]})
    assert claim(runs, schedule, "round", 1) == {"vector": [1.0]}  # the same message again
    with pytest.raises(collab.PolicyViolation, match="replayed with changed inputs"):
        claim(runs, schedule, "round", 1, "changed")
    with pytest.raises(collab.PolicyViolation, match="next one this lake will run is 2"):
        claim(runs, schedule, "round", 3)  # skipped
    assert claim(runs, schedule, "round", 2) is None
    assert claim(runs, schedule, "round", 3) is None
    with pytest.raises(collab.PolicyViolation, match="approved for 3 round execution"):
        claim(runs, schedule, "round", 4)  # extra
    with pytest.raises(collab.PolicyViolation, match="approved for 1 stats execution"):
        claim(runs, schedule, "stats", 2)
    # reveals skip a slot (a DP plan has no statistics to reveal) but never go back
    assert claim(runs, schedule, "unmask", 2) is None
    with pytest.raises(collab.PolicyViolation, match="once each and in order"):
        claim(runs, schedule, "unmask", 1)
    with pytest.raises(collab.PolicyViolation, match="outside them"):
        schedule.check_round("j" * 32, 0)


def test_an_open_ended_schedule_runs_rounds_until_its_cap_or_without_one():
    open_ended = Schedule(rounds=None, statistics=False)
    runs = MemoryExecutions()
    for r in range(1, 1001):
        assert open_ended.runs_round(r)
        assert claim(runs, open_ended, "round", r, f"update {r}") is None
    assert open_ended.limit(Phase.ROUND) is None and open_ended.limit(Phase.UNMASK) is None
    with pytest.raises(collab.PolicyViolation, match="next one this lake will run is 1001"):
        claim(runs, open_ended, "round", 1003)
    with pytest.raises(collab.PolicyViolation, match="changed inputs"):
        claim(runs, open_ended, "round", 1000, "another update")
    with pytest.raises(collab.PolicyViolation, match="runs rounds from 1; round 0"):
        open_ended.check_round("j" * 32, 0)
    with pytest.raises(collab.PlanError, match="give the job a cap"):
        open_ended.masking_slots  # noqa: B018
    capped = Schedule(rounds=1000, secure=True, statistics=False)
    assert capped.masking_slots == 1002 and not capped.runs_round(1001)
    runs = MemoryExecutions()
    for r in range(1, 1001):
        claim(runs, capped, "round", r, f"update {r}")
    with pytest.raises(collab.PolicyViolation, match="approved for 1000 round"):
        claim(runs, capped, "round", 1001)


def test_a_lakes_records_admit_as_the_schedule_and_leave_every_connection_synced(tmp_path):
    """A lake's claims and stored answers are committed unsynced (the release's audit entry,
    synced, follows them): they admit executions as the schedule does, read back from a new
    connection, and a connection is left syncing every commit, a failed one's too."""
    from collab.lake._state import LakeState

    state, schedule = LakeState(tmp_path / "state.db"), Schedule(rounds=2)
    assert claim(state, schedule, "round", 1) is None
    state.store_result("j" * 32, "round", 1, {"vector": [1.0]})
    state.log("lake", "release", job="j" * 32, round=1)
    assert claim(state, schedule, "round", 1) == {"vector": [1.0]}
    with pytest.raises(collab.PolicyViolation, match="replayed with changed inputs"):
        claim(state, schedule, "round", 1, "changed")
    state.set_masking("secagg:j", {"seed": 1})
    synchronous = "PRAGMA synchronous"
    assert state._db().execute(synchronous).fetchone()[0] == 2  # FULL
    reopened = LakeState(tmp_path / "state.db")
    assert reopened.last_execution("j" * 32, "round") == 1
    assert reopened.setting("secagg:j") == {"seed": 1}
    assert reopened.verify_audit() is None
    assert claim(reopened, schedule, "round", 2) is None
    with pytest.raises(collab.PolicyViolation, match="approved for 2 round execution"):
        claim(reopened, schedule, "round", 3)
    assert reopened._db().execute(synchronous).fetchone()[0] == 2


def test_a_lakes_masking_party_reads_as_stored_after_a_step_that_failed_half_way(tmp_path):
    """The runner parses a job's masking party once per stored text: a step that changed its
    copy and failed before saving leaves the party as stored, and a party another connection
    (the owner's process) stored is read anew."""
    from collab.lake._runner import _StoredMasking
    from collab.lake._state import LakeState
    from collab.secure import MaskingParty

    job = "j" * 32
    store = _StoredMasking(LakeState(tmp_path / "state.db"), job)
    assert store.load() is None
    party = MaskingParty.create("a", job)
    party.revealed = {"b": [0]}
    store.save(party)
    failed = store.load()
    failed.revealed["b"] = "s"
    failed.held["c"] = {"s": "0x1"}
    assert store.load().to_dict() == party.to_dict()
    changed = MaskingParty.from_dict(party.to_dict())
    changed.revealed = {"b": [0, 1]}
    LakeState(tmp_path / "state.db").set_masking(f"secagg:{job}", changed.to_dict())
    assert store.load().revealed == {"b": [0, 1]}
