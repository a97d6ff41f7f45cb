"""A curious or malicious scientist tries every route to private data; each is refused and
the refusal is on the lake's audit log."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from lake_processes import SCIENTIST

import collab
from collab._request_code import function_name, render
from collab._syft import _syft
from collab.scientist._parties import RemoteParty


def entries(lake, action: str, text: str) -> int:
    log = lake.audit
    return int(((log["action"] == action) & log["detail"].str.contains(text, regex=False)).sum())


def logged(lake, action: str, text: str) -> bool:
    return entries(lake, action, text) > 0


def round_message(plan, round_, weights, lakes):
    """A round's public message as the coordinator sends it (``collab.protocol.Round``)."""
    d = len(plan.features)
    return {
        "plan": plan.hash,
        "phase": "round",
        "round": round_,
        "participants": lakes,
        "request": {"weights": weights, "label_mean": 0.0, "label_std": 1.0},
        "standardizer": {"mean": [0.0] * d, "std": [1.0] * d},
    }


def party_over(route: str, session, job) -> RemoteParty:
    """A party for ``job`` whose next message travels over ``route``: PySyft, or the round
    channel that replaying the job's first exchange (its stored answer) opens again."""
    party = RemoteParty(session, function_name(job.job_id), job.plan.table)
    if route == "channel":
        party.compute({"plan": job.plan.hash, "round": 1, "phase": "keys"})
        assert party._channel is not None
    return party


ROUTES = pytest.mark.parametrize("route", ["pysyft", "channel"])


def submit_raw(fed, lake, plan, job_id=None):
    """Skip the client's checks: render the request by hand and send it to one lake."""
    job_id = job_id or "f" * 16 + np.random.default_rng().bytes(8).hex()
    session = fed._sessions[lake.name]
    session.submit(function_name(job_id), render(job_id, plan), plan.table)
    return job_id, session


def test_reading_the_private_asset_through_pysyft_returns_no_data(iid_demo):
    session = iid_demo.federation._sessions["st-mary"]
    data = session._asset("patients").data
    assert data is None or isinstance(data, _syft().SyftError)
    with pytest.raises(collab.PrivacyError):
        iid_demo.federation.private_data("patients")


def test_submitting_code_that_returns_the_table_is_refused_and_logged(iid_demo):
    sy = _syft()
    lake = iid_demo.lakes[2]
    session = iid_demo.federation._sessions[lake.name]

    def read_everything(data):
        return data

    session._client.code.request_code_execution(
        sy.syft_function_single_use(data=session._asset("patients"))(read_everything)
    )
    lake.requests  # the lake screens what arrived  # noqa: B018
    status = next(
        r
        for r in session._client.requests.get_all()
        if r.code.service_func_name == "read_everything"
    )
    assert status.status.name == "REJECTED"
    assert logged(lake, "deny", "plan runner")


@ROUTES
def test_executing_an_approved_plan_past_its_rounds_is_refused_and_logged(iid_demo, trained, route):
    job, _ = trained
    lake = iid_demo.lakes[0]
    party = party_over(route, iid_demo.federation._sessions[lake.name], job)
    refused = entries(lake, "execution refused", "approved for 30")
    with pytest.raises(collab.PolicyViolation, match="approved for 30"):
        party.compute(round_message(job.plan, 31, [0.0] * 31, iid_demo.federation.lakes))
    assert entries(lake, "execution refused", "approved for 30") > refused
    assert (party._channel is not None) == (route == "channel")  # it carried the refusals


@ROUTES
def test_executing_with_a_changed_spec_is_refused_and_logged(iid_demo, trained, route):
    job, _ = trained
    lake = iid_demo.lakes[0]
    party = party_over(route, iid_demo.federation._sessions[lake.name], job)
    refused = entries(lake, "execution refused", "another plan")
    other = iid_demo.plan(rounds=500).hash
    with pytest.raises(collab.PrivacyError, match="another plan"):
        party.compute({**round_message(job.plan, 31, [0.0] * 31, []), "plan": other})
    assert entries(lake, "execution refused", "another plan") > refused
    assert (party._channel is not None) == (route == "channel")  # it carried the refusals


@ROUTES
def test_replaying_an_old_round_is_refused_and_logged(iid_demo, trained, route):
    job, _ = trained
    lake = iid_demo.lakes[1]
    party = party_over(route, iid_demo.federation._sessions[lake.name], job)
    refused = entries(lake, "execution refused", "changed inputs")
    with pytest.raises(collab.PolicyViolation, match="once each and in order"):
        party.compute(round_message(job.plan, 5, [1.0] * 31, iid_demo.federation.lakes))
    with pytest.raises(collab.PolicyViolation, match="changed inputs"):  # the latest round
        party.compute(round_message(job.plan, 30, [9.0] * 31, iid_demo.federation.lakes))
    assert entries(lake, "execution refused", "changed inputs") > refused
    assert (party._channel is not None) == (route == "channel")  # it carried the refusals


def test_a_plan_on_a_private_column_is_refused_by_the_lake_even_past_the_client(iid_demo):
    lake = iid_demo.lakes[0]
    plan = collab.plans.LogisticRegression(
        table="patients", features=["mean_radius"], label="patient_id", rounds=2
    )
    with pytest.raises(collab.PrivacyError, match="patient_id"):
        iid_demo.federation.submit(plan)  # the client refuses first
    job_id, _ = submit_raw(iid_demo.federation, lake, plan)
    request = next(r for r in lake.requests if r.job_id == job_id)
    with pytest.raises(collab.PrivacyError, match="private"):
        request.approve()  # the owner cannot approve it by mistake
    request.deny("uses an identifier")
    assert logged(lake, "deny", job_id)


def test_an_identifier_as_label_is_refused(clinic_fed):
    plan = collab.plans.LogisticRegression(table="visits", features=["score"], label="patient_id")
    with pytest.raises(collab.PrivacyError, match="patient_id.*private"):
        clinic_fed.submit(plan)


def test_a_table_below_the_minimum_rows_is_refused_and_logged(clinics):
    north, _ = clinics
    fed = collab.connect([north], email=SCIENTIST[0], password=SCIENTIST[1])
    plan = collab.plans.LogisticRegression(
        table="tiny", features=["score"], label="outcome", rounds=1
    )
    with pytest.raises(collab.PolicyViolation, match="minimum"):
        fed.submit(plan)
    job_id, _ = submit_raw(fed, north, plan)
    request = next(r for r in north.requests if r.job_id == job_id)
    with pytest.raises(collab.PolicyViolation, match="minimum"):
        request.approve()
    request.deny("too few rows")
    assert logged(north, "deny", "too few rows")


def test_unmasking_one_lake_from_the_coordinators_view_fails(iid_demo, trained):
    job, _ = trained
    # everything the coordinator received for round 30, as the lake stored it
    rows = {
        lake.name: json.loads(
            lake._state._db()
            .execute(
                "SELECT result FROM executions WHERE job_id=? AND phase='round' AND round=30",
                (job.job_id,),
            )
            .fetchone()[0]
        )
        for lake in iid_demo.lakes
    }
    from collab.secure import decode, unpack

    for answer in rows.values():
        alone = decode(unpack(answer["masked"]))
        assert np.abs(alone).max() > 1e9  # noise, not an update (updates are below 1e3)
    # and asking a lake for the key of a peer whose self mask it revealed is refused
    lake = iid_demo.lakes[0]
    party = RemoteParty(
        iid_demo.federation._sessions[lake.name], function_name(job.job_id), "patients"
    )
    with pytest.raises(collab.PolicyViolation):
        party.compute(
            {
                "plan": job.plan.hash,
                "phase": "unmask",
                "round": 31,
                "slot": 30,
                "received": ["st-mary"],
                "participants": iid_demo.federation.lakes,
            }
        )


def test_spending_past_the_budget_is_refused_and_logged(clinic_tables):
    # A lake of its own: the session's clinics keep the tables other tests count.
    lake = collab.Lake.launch("budget-clinic")
    try:
        lake.add_table(
            "budgeted",
            clinic_tables["visits"],
            private_columns=["patient_id"],
            bounds={"score": (-5.0, 5.0)},
            policy=collab.Policy(max_epsilon=1.0, auto_approve=True),
        )
        lake.add_scientist(*SCIENTIST, name="Ada")
        fed = collab.connect([lake], email=SCIENTIST[0], password=SCIENTIST[1])
        plan = collab.plans.LogisticRegression(
            table="budgeted",
            features=["score"],
            label="outcome",
            rounds=2,
            dp=collab.DP(epsilon=1.5),
        )
        with pytest.raises(collab.PolicyViolation, match="at most 1"):
            fed.submit(plan)  # the published policy already says no
        job_id, _ = submit_raw(fed, lake, plan)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not logged(lake, "deny", job_id):
            time.sleep(0.3)
        assert logged(lake, "deny", job_id)
    finally:
        lake.stop()


def test_wrong_password_and_unregistered_scientist_are_refused(clinics):
    north, _ = clinics
    with pytest.raises(collab.CollabError, match="refused the login"):
        collab.connect([north], email=SCIENTIST[0], password="guess-1234")
    with pytest.raises(collab.CollabError, match="refused the login"):
        collab.connect([north], email="mallory@evil.example", password="whatever-123")
