"""Federated training through real PySyft lakes and Spark, checked against the yardsticks."""

from __future__ import annotations

import json

import numpy as np
import pytest

import collab
from collab.scientist._parties import RemoteParty
from collab.transport._quiet import load_syft


def accuracy_gap(demo, model) -> float:
    test = demo.test_set()
    federated = model.score(test[demo.features], test[demo.label])
    central = demo.centralised_model().score(test[demo.features], test[demo.label])
    return abs(federated - central) * 100


def test_iid_lakes_match_centralised_accuracy_within_one_point(iid_demo, trained):
    _job, model = trained
    assert accuracy_gap(iid_demo, model) <= 1.0
    assert (
        model.score(iid_demo.test_set()[iid_demo.features], iid_demo.test_set()["malignant"]) > 0.94
    )


def test_history_has_every_round_and_the_loss_falls(iid_demo, trained):
    job, _model = trained
    history = job.history
    assert list(history["round"]) == list(range(1, 31))
    assert history["rows"].eq(len(iid_demo.pooled_training_set())).all()
    assert history["loss"].iloc[0] == pytest.approx(np.log(2))  # all-zero weights first
    assert history["loss"].iloc[-1] < 0.1 < history["loss"].iloc[1]
    assert job.lake_states == {"st-mary": "done", "st-jude": "done", "riverside": "done"}


def test_skewed_lakes_still_converge_within_one_point():
    with collab.demo.hospitals(n=3, split="skewed", seed=0) as demo:
        shares = [lake._state.table("patients")["rows"] for lake in demo.lakes]
        assert len(set(shares)) == 3  # different sizes
        job = demo.federation.submit(demo.plan())
        demo.approve_all()
        model = job.result(progress=False, timeout=900)
        assert accuracy_gap(demo, model) <= 1.0


def test_model_exports_to_scikit_learn(iid_demo, trained):
    _, model = trained
    test = iid_demo.test_set()
    sk = model.to_sklearn()
    np.testing.assert_array_equal(sk.predict(test[iid_demo.features]), model.predict(test))
    np.testing.assert_allclose(sk.predict_proba(test[iid_demo.features]), model.predict_proba(test))


def test_progress_off_a_terminal_is_a_line_per_few_rounds_not_redraws(trained, capsys):
    job, _ = trained
    job.result(progress=True)  # finished: shows where it ended, once
    lines = capsys.readouterr().err.splitlines()
    lakes = ", ".join(f"{lake}: done" for lake in job.lake_states)
    assert lines == [f"training: 30/30 rounds ({lakes})"]


def test_a_saved_model_reads_back_with_its_plan_and_history(iid_demo, trained, tmp_path):
    job, model = trained
    loaded = collab.load_model(model.save(tmp_path / "model.json"))
    assert type(loaded) is type(model)
    assert loaded.plan == job.plan and loaded.plan_hash == job.plan.hash
    assert loaded.lakes == model.lakes and loaded.rounds == model.rounds == 30
    assert loaded.history == model.history and len(loaded.history) == 30
    test = iid_demo.test_set()
    np.testing.assert_array_equal(loaded.predict_proba(test), model.predict_proba(test))
    assert loaded.card().to_dict() == model.card().to_dict()


def test_the_model_card_shows_plan_lakes_rows_rounds_privacy_and_version(iid_demo, trained):
    job, model = trained
    facts = model.card().to_dict()
    last = job.history.iloc[-1]
    assert facts["plan"] == job.plan.to_spec() and facts["plan_hash"] == job.plan.hash
    assert facts["table"] == "patients" and facts["lakes"] == list(job.lake_states)
    assert facts["rows"] == int(last["rows"]) == 455 and facts["rounds"] == 30
    assert facts["secure_aggregation"] is True and facts["dp"] is None
    assert facts["training_metrics"] == {
        "loss": pytest.approx(last["loss"]),
        "accuracy": pytest.approx(last["accuracy"]),
    }
    assert facts["collab_version"] == collab.__version__
    # each lake's published (coarsened) rows, and the owner's audit entry that approved it
    assert facts["lake_rows"] == {lake.name: 100 for lake in iid_demo.lakes}
    for lake in iid_demo.lakes:
        audit = lake.audit
        approved = audit[(audit["action"] == "approve") & audit["detail"].str.contains(job.job_id)]
        assert facts["approvals"][lake.name] == {
            "seq": int(approved["seq"].iloc[0]),
            "at": pytest.approx(approved["at"].iloc[0].timestamp()),
            "actor": "owner",
            "hash": approved["hash"].iloc[0],
        }
    page = model.card()._repr_html_()
    assert job.plan.hash in page and "only the sum over lakes is revealed" in page
    assert "rows at st-mary" in page and "approved at st-mary" in page


def test_rounds_past_the_approved_number_or_replayed_are_refused(iid_demo, trained):
    job, _ = trained
    lake = iid_demo.lakes[0]
    session = iid_demo.federation._sessions[lake.name]
    party = RemoteParty(session, f"collab_plan_{job.job_id[:16]}", "patients")
    base = {
        "plan": job.plan.hash,
        "phase": "round",
        "participants": iid_demo.federation.lakes,
        "request": {"weights": [0.0] * 31, "label_mean": 0.0, "label_std": 1.0},
        "standardizer": {"mean": [0.0] * 30, "std": [1.0] * 30},
    }
    with pytest.raises(collab.PolicyViolation, match="approved for 30") as refusal:
        party.compute({**base, "round": 31})
    assert refusal.value.lake == lake.name
    with pytest.raises(collab.PolicyViolation, match="run once each"):
        party.compute({**base, "round": 3})
    with pytest.raises(collab.PrivacyError, match="another plan"):
        party.compute({**base, "round": 31, "plan": "0" * 64})
    refusals = lake.audit.query("action == 'execution refused'")
    assert len(refusals) >= 3


def test_a_denied_plan_fails_the_job_naming_lake_and_reason(iid_demo):
    job = iid_demo.federation.submit(iid_demo.plan(rounds=2))
    first, *others = iid_demo.lakes
    for request in first.requests:
        if request.job_id == job.job_id:
            request.deny("the ethics board meets next month")
    for lake in others:
        for request in lake.requests:
            if request.job_id == job.job_id:
                request.approve()
    with pytest.raises(collab.RequestDenied) as denied:
        job.result(progress=False, timeout=60)
    assert denied.value.lake == first.name
    assert "ethics board" in str(denied.value)
    assert job.lake_states[first.name] == "denied"


def test_foreign_code_is_refused_and_logged(iid_demo):
    sy = load_syft()
    lake = iid_demo.lakes[1]
    session = iid_demo.federation._sessions[lake.name]
    client, asset = session._client, session._asset("patients")

    def steal(data):
        return data

    request = client.code.request_code_execution(sy.syft_function_single_use(data=asset)(steal))
    assert lake.requests is not None  # the owner's listing screens new requests
    status = next(r for r in client.requests.get_all() if r.code.service_func_name == "steal")
    assert status.status.name == "REJECTED", request
    log = lake.audit
    denial = log[(log["action"] == "deny") & log["detail"].str.contains("plan runner")]
    assert len(denial) == 1
    assert lake.verify_audit()


def test_audit_records_approval_and_every_release(iid_demo, trained):
    job, _ = trained
    log = iid_demo.lakes[0].audit
    mine = log[log["detail"].str.contains(job.job_id)]
    actions = list(mine["action"])
    assert actions.count("approve") == 1
    phases = [json.loads(d)["phase"] for d in mine[mine["action"] == "release"]["detail"]]
    assert {p: phases.count(p) for p in set(phases)} == {
        "keys": 1,
        "deal": 1,
        "receive": 1,  # secure-aggregation set-up
        "stats": 1,
        "round": 30,  # masked vectors
        "unmask": 31,  # shares revealed to unmask each of those 31 sums
    }
    detail = json.loads(mine[mine["action"] == "approve"]["detail"].iloc[0])
    assert detail["plan"] == job.plan.hash and detail["rounds"] == 30
