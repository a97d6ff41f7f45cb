"""The round channel: after a job's first exchange over PySyft, its rounds travel over the
channel the lakes' tickets open, and each lake still checks, counts and records every one."""

from __future__ import annotations

import json
import time

import pytest

import collab
from collab.transport._channel import PROCESS_ID, ChannelLost, InProcessChannel, Ticket, new_token


def releases(lake: collab.Lake, job_id: str) -> list[dict]:
    log = lake.audit
    rows = log[(log["action"] == "release") & log["detail"].str.contains(job_id, regex=False)]
    return [json.loads(detail) for detail in rows["detail"]]


def test_after_the_first_exchange_every_round_travels_over_the_channel_and_is_audited(
    iid_demo, trained
):
    job, _ = trained
    for lake in iid_demo.lakes:
        entries = releases(lake, job.job_id)
        rounds = [e for e in entries if e["phase"] == "round"]
        assert [e["round"] for e in rounds] == list(range(1, 31))  # each once, in order
        assert entries[0]["phase"] == "keys" and entries[0]["via"] == "pysyft"
        assert {e["via"] for e in entries[1:]} == {"channel"}
        assert all(e["seconds"] >= 0 for e in entries)
        assert lake.verify_audit()


def test_without_the_channel_every_round_travels_over_pysyft(iid_demo):
    fed = iid_demo.federation
    fed.round_channel = False
    try:
        job = fed.submit(iid_demo.plan(rounds=2))
        iid_demo.approve_all()
        job.result(progress=False, timeout=600)
    finally:
        fed.round_channel = True
    for lake in iid_demo.lakes:
        entries = releases(lake, job.job_id)
        assert len(entries) > 2 and {e["via"] for e in entries} == {"pysyft"}


def test_a_ticket_no_lake_issued_opens_nothing(iid_demo, trained):
    forged = InProcessChannel(Ticket(new_token(), PROCESS_ID))
    job, _ = trained
    before = [len(releases(lake, job.job_id)) for lake in iid_demo.lakes]
    with pytest.raises(ChannelLost, match="no such ticket"):
        forged.send(json.dumps({"plan": job.plan.hash, "round": 1, "phase": "keys"}))
    assert [len(releases(lake, job.job_id)) for lake in iid_demo.lakes] == before


def test_an_owner_who_denies_a_running_job_stops_it_at_its_next_round(iid_demo):
    job = iid_demo.federation.submit(iid_demo.plan(rounds=500))
    iid_demo.approve_all()
    deadline = time.monotonic() + 300
    while job.rounds_done < 3 and not job.done and time.monotonic() < deadline:
        time.sleep(0.01)
    lake = iid_demo.lakes[1]
    request = next(r for r in lake.all_requests("approved") if r.job_id == job.job_id)
    request.deny("consent withdrawn by the ethics board")
    with pytest.raises(collab.PolicyViolation, match="consent withdrawn") as stopped:
        job.result(progress=False, timeout=300)
    assert stopped.value.lake == lake.name
    assert 3 <= job.rounds_done < 500
    refused = lake.audit.query("action == 'execution refused'")
    assert refused["detail"].str.contains(job.job_id).any()
    assert len([e for e in releases(lake, job.job_id) if e["phase"] == "round"]) <= (
        job.rounds_done + 1
    )


def test_lakes_in_this_process_answer_at_most_one_round_call_per_core_at_once(iid_demo):
    import os
    import threading

    from collab.transport import _channel

    lakes_endpoint = _channel._endpoint
    lock, running, most = threading.Lock(), [0], [0]

    def counted(token: str, message: str):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.02)  # the lakes' calls overlap whenever they may
            return lakes_endpoint(token, message)
        finally:
            with lock:
                running[0] -= 1

    _channel.serve_in_process(counted)
    try:
        job = iid_demo.federation.submit(iid_demo.plan(rounds=3))
        iid_demo.approve_all()
        job.result(progress=False, timeout=600)
    finally:
        _channel.serve_in_process(lakes_endpoint)
    assert most[0] == min(os.cpu_count() or 1, len(iid_demo.lakes))
