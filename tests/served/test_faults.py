"""Faults and load against served lakes: kills, resumes, bad requests, 20 scientists."""

from __future__ import annotations

import glob
import json
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from lake_processes import process_on_port

import collab
from collab.plans import GradientBoostedTrees
from collab.scientist._parties import RemoteParty
from collab.transport._channel import CHANNEL_PATH

pytestmark = [pytest.mark.http, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _plan(family: str, demo):
    """A plan of ``family`` on the demo's table, long enough in rounds (which over the round
    channel take milliseconds) that a lake can be killed mid-job."""
    if family == "trees":
        return GradientBoostedTrees(
            table=demo.table, features=demo.features, label=demo.label, n_trees=12, max_depth=3
        )
    return demo.plan(rounds=150, local_epochs=1)


@pytest.mark.parametrize("family", ["logistic", "trees"])
def test_a_killed_lake_is_named_and_the_job_resumes_to_the_uninterrupted_model(
    tmp_path, ports, family
):
    served_ports = [ports(), ports()]
    demo = collab.demo.hospitals(n=2, seed=1, ports=served_ports, data_dir=tmp_path)
    try:
        plan = _plan(family, demo)
        job = demo.federation.submit(plan)
        demo.approve_all()
        deadline = time.monotonic() + 300
        while job.rounds_done < 5 and not job.done and time.monotonic() < deadline:
            time.sleep(0.01)
        victim = demo.lakes[1]
        process_on_port(served_ports[1]).kill()  # no goodbye: the process just dies
        with pytest.raises(collab.LakeError) as failure:
            job.result(progress=False, timeout=120)
        assert failure.value.lake == victim.name
        done_before = job.rounds_done
        assert 5 <= done_before < plan.total_rounds

        reopened = collab.Lake.launch(victim.name, port=served_ports[1], data_dir=victim.data_dir)
        demo.lakes[1] = reopened
        assert reopened._state.approval(job.job_id).status == "approved"
        model = job.resume().result(progress=False, timeout=900)
        rounds = job.rounds_done
        # the trees' state each lake kept for the job (rebuilt by the reopened lake) is gone
        # after the last round, and so is what the killed process left in shared memory
        assert glob.glob(f"/dev/shm/collab-rows-*/*/job-{job.job_id}") == []
        assert rounds > done_before and list(job.history["round"]) == list(range(1, rounds + 1))
        log = reopened.audit
        assert "lake reopened" in set(log["action"]) and reopened.verify_audit()
        test = demo.test_set()
    finally:
        demo.close()

    with collab.demo.hospitals(n=2, seed=1) as twin:  # the same rows, never interrupted
        twin_job = twin.federation.submit(_plan(family, twin))
        twin.approve_all()
        uninterrupted = twin_job.result(progress=False, timeout=900)
    assert twin_job.rounds_done == rounds
    X = test[twin.features]
    np.testing.assert_allclose(
        model.predict_proba(X), uninterrupted.predict_proba(X), rtol=0, atol=1e-9
    )
    assert (model.predict(X) == uninterrupted.predict(X)).all()


def test_a_port_in_use_is_named_and_the_lake_starts_afresh_on_another(tmp_path, ports):
    taken = ports()
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", taken))
        other_program.listen()
        with pytest.raises(collab.LakeError, match=f"port {taken} on 127.0.0.1 is not free"):
            collab.Lake.launch("st-luke", port=taken, data_dir=tmp_path)

    with collab.Lake.launch("st-luke", port=ports(), data_dir=tmp_path) as lake:
        assert list(lake.audit["action"]) == ["lake started"]  # not a reopening of nothing
        lake.add_scientist("ada@uni.edu", "password-0000", name="Ada")
        assert collab.connect([lake.url], email="ada@uni.edu", password="password-0000").tables == {
            "st-luke": []
        }


@pytest.fixture(scope="module")
def busy_lake(tmp_path_factory, patients_parquet, ports):
    lake = collab.Lake.launch(
        "busy-general", port=ports(), data_dir=tmp_path_factory.mktemp("busy")
    )
    lake.add_table(
        "patients",
        patients_parquet,
        private_columns=["patient_id"],
        policy=collab.Policy(auto_approve=True),
    )
    for i in range(20):
        lake.add_scientist(f"sci{i}@uni.edu", f"password-{i:04d}", name=f"Scientist {i}")
    yield lake
    lake.stop()


def test_bad_requests_get_clear_errors_and_the_lake_keeps_serving(busy_lake):
    url = busy_lake.url
    for body in (b"\x00 not a pysyft message", b"x" * (64 * 1024 * 1024)):
        request = urllib.request.Request(f"{url}/api/v2/api_call", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 599  # the server closed the connection on the oversized body
        assert status >= 400
    with pytest.raises(collab.CollabError, match="refused the login"):
        collab.connect([url], email="sci0@uni.edu", password="wrong-password")

    fed = collab.connect([url], email="sci0@uni.edu", password="password-0000")
    job = fed.submit(
        collab.plans.LogisticRegression(
            table="patients", features=["mean_radius"], label="malignant", rounds=1
        )
    )
    job.result(progress=False, timeout=900)
    session = fed._sessions["busy-general"]
    party = RemoteParty(session, f"collab_plan_{job.job_id[:16]}", "patients")
    with pytest.raises(collab.PolicyViolation, match="at most 8000000"):
        party.compute(
            {"plan": job.plan.hash, "phase": "round", "round": 2, "weights": [0.0] * 2_000_000}
        )
    raw = session.execute(f"collab_plan_{job.job_id[:16]}", "patients", "{not json")
    assert raw["ok"] is False and "malformed" in raw["error"]["message"]

    # the round channel: no ticket, a forged one, and a real one with garbage
    def post(body: bytes, token: str | None) -> tuple[int, bytes]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        request = urllib.request.Request(
            f"{url}{CHANNEL_PATH}", data=body, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    message = json.dumps({"plan": job.plan.hash, "phase": "round", "round": 2}).encode()
    assert post(message, None)[0] == 401
    status, body = post(message, "f" * 43)
    assert status == 200 and json.loads(body) == {
        "channel_closed": True,
        "reason": "this lake holds no such ticket",
    }
    party.compute({"plan": job.plan.hash, "round": 1, "phase": "keys"})  # a replay: a ticket
    token = party._channel._ticket.token
    status, body = post(b"{not json", token)
    assert status == 200 and "malformed" in json.loads(body)["error"]["message"]
    status, body = post(b"\xff\xfe", token)
    assert status == 400
    refusals = busy_lake.audit.query("action == 'execution refused'")
    assert refusals["detail"].str.contains("malformed").sum() >= 2
    assert fed.tables == {"busy-general": ["patients"]}  # still serving


def test_twenty_scientists_at_once_all_finish_correctly(busy_lake):
    features = ["mean_radius", "mean_texture", "worst_area"]

    def one(i: int):
        fed = collab.connect([busy_lake.url], email=f"sci{i}@uni.edu", password=f"password-{i:04d}")
        job = fed.submit(
            collab.plans.LogisticRegression(
                table="patients", features=features, label="malignant", rounds=3
            )
        )
        return job.result(progress=False, timeout=600), job.history

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    elapsed = time.perf_counter() - started
    models = [m for m, _ in results]
    for model in models[1:]:  # the same plan on the same rows: the same model, every time
        np.testing.assert_allclose(model.coef_, models[0].coef_, rtol=0, atol=1e-9)
    rounds = np.concatenate([h["seconds"].to_numpy() for _, h in results])
    assert len(rounds) == 60
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load-test.json").write_text(
        json.dumps(
            {
                "scientists": 20,
                "rounds_each": 3,
                "seconds": round(elapsed, 2),
                "rounds_per_second": round(60 / elapsed, 2),
                "round_p50_s": round(float(np.percentile(rounds, 50)), 3),
                "round_p95_s": round(float(np.percentile(rounds, 95)), 3),
            },
            indent=2,
        )
    )
