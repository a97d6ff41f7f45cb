"""A curious or malicious scientist tries every route to private data; each is refused and
the refusal is on the lake's audit log."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from lake_processes import SCIENTIST

import collab
from collab.scientist._job import run_remote
from collab.scientist._parties import RemoteParty
from collab.transport import function_name, render
from collab.transport._quiet import load_syft


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
    assert data is None or isinstance(data, load_syft().SyftError)
    with pytest.raises(collab.PrivacyError):
        iid_demo.federation.private_data("patients")


def test_submitting_code_that_returns_the_table_is_refused_and_logged(iid_demo):
    sy = load_syft()
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


@pytest.fixture(scope="module")
def budget_clinic(clinic_tables):
    """A lake of its own (the session's clinics keep the tables other tests count), allowing
    each scientist epsilon 1 on each of two tables: 'budgeted' approved by its policy,
    'reviewed' by the owner."""
    lake = collab.Lake.launch("budget-clinic")
    try:
        for table, auto in (("budgeted", True), ("reviewed", False)):
            lake.add_table(
                table,
                clinic_tables["visits"],
                private_columns=["patient_id"],
                bounds={"score": (-5.0, 5.0)},
                policy=collab.Policy(max_epsilon=1.0, auto_approve=auto),
            )
        lake.add_scientist(*SCIENTIST, name="Ada")
        yield lake, collab.connect([lake], email=SCIENTIST[0], password=SCIENTIST[1])
    finally:
        lake.stop()


def dp_plan(table, epsilon):
    return collab.plans.LogisticRegression(
        table=table, features=["score"], label="outcome", rounds=2, dp=collab.DP(epsilon=epsilon)
    )


def test_spending_past_the_budget_is_refused_and_logged(budget_clinic):
    lake, fed = budget_clinic
    plan = dp_plan("budgeted", 1.5)
    with pytest.raises(collab.PolicyViolation, match="at most 1"):
        fed.submit(plan)  # the published policy already says no
    job_id, _ = submit_raw(fed, lake, plan)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not logged(lake, "deny", job_id):
        time.sleep(0.3)
    assert logged(lake, "deny", job_id)


def wait_for_budget(fed, table, left, seconds=30):
    deadline = time.monotonic() + seconds
    while fed.budget(table).iloc[0] != left and time.monotonic() < deadline:
        time.sleep(0.3)
    return fed.budget(table).iloc[0]


def test_a_request_the_ledger_refuses_at_approval_ends_the_scientists_wait(budget_clinic):
    lake, fed = budget_clinic
    # two plans sent while the budget could pay for either, not for both
    first = fed.submit(dp_plan("reviewed", 1.0))
    first.cancel()  # nothing needs to train: the charge is made when the owner approves
    second = fed.submit(dp_plan("reviewed", 0.5))
    pending = {r.job_id: r for r in lake.requests}
    pending[first.job_id].approve()
    with pytest.raises(collab.BudgetExceeded, match="lake 'budget-clinic': table 'reviewed'"):
        pending[second.job_id].approve()
    assert pending[second.job_id].status == "refused"
    # the scientist's call ends at once, with the lake and the table named (not a timeout)
    with pytest.raises(collab.BudgetExceeded) as refusal:
        second.result(timeout=60, progress=False)
    assert refusal.value.lake == "budget-clinic"
    assert str(refusal.value).startswith("lake 'budget-clinic': table 'reviewed': ")
    assert "at most 0" in str(refusal.value)
    # marked refused, off the pending list, on the record; deciding it again is refused
    assert second.job_id not in {r.job_id for r in lake.requests}
    assert second.job_id in {r.job_id for r in lake.all_requests("refused")}
    log = lake.audit
    refusal_entry = log[(log["action"] == "refuse") & log["detail"].str.contains(second.job_id)]
    assert list(refusal_entry["actor"]) == ["lake"]
    assert '"approval_by": "owner"' in refusal_entry["detail"].iloc[0]
    assert not logged(lake, "approve", second.job_id)
    with pytest.raises(collab.AlreadyDecided, match="already refused by the lake"):
        pending[second.job_id].approve()
    assert lake.budget(SCIENTIST[0]).set_index("table").loc["reviewed", "epsilon spent"] == 1.0


def test_a_request_past_the_budget_is_refused_before_it_is_sent(budget_clinic):
    lake, fed = budget_clinic
    if fed.budget("reviewed").iloc[0] != 0.0:  # unless the test before spent it: spend it
        job = fed.submit(dp_plan("reviewed", 1.0))
        job.cancel()
        next(r for r in lake.requests if r.job_id == job.job_id).approve()
    assert fed.budget("reviewed").to_dict() == {"budget-clinic": 0.0}
    sent = len(lake.all_requests())
    for ask in (
        lambda: fed.describe("reviewed", ["score"], dp=collab.DP(epsilon=0.5), timeout=30),
        lambda: fed.submit(dp_plan("reviewed", 0.5)),
    ):
        with pytest.raises(collab.BudgetExceeded, match="nothing was sent") as refusal:
            ask()
        assert refusal.value.lake == "budget-clinic"
        assert str(refusal.value).startswith(
            "lake 'budget-clinic': table 'reviewed': you have epsilon 0 left of the owner's 1"
        )
        assert "asks for 0.5" in str(refusal.value)
    assert len(lake.all_requests()) == sent  # no request reached the lake


def test_a_lake_approving_by_policy_refuses_what_the_ledger_cannot_pay(budget_clinic):
    lake, fed = budget_clinic
    first = fed.submit(dp_plan("budgeted", 1.0))
    first.cancel()  # the lake's policy approves (and charges) it all the same
    assert wait_for_budget(fed, "budgeted", 0.0) == 0.0
    # a request the client would have refused, sent past it as a stale client would
    plan = fed.check(dp_plan("budgeted", 0.5))
    job_id, session = submit_raw(fed, lake, plan)
    job = collab.Job(
        plan, job_id, [lake.name], run_remote({lake.name: session}, function_name(job_id))
    )
    with pytest.raises(collab.BudgetExceeded, match="lake 'budget-clinic': table 'budgeted'"):
        job.result(timeout=60, progress=False)
    assert job_id in {r.job_id for r in lake.all_requests("refused")}
    log = lake.audit
    refused = log[(log["action"] == "refuse") & log["detail"].str.contains(job_id)]
    assert '"approval_by": "policy"' in refused["detail"].iloc[0]


def test_a_denial_is_final(clinics):
    north, _ = clinics
    fed = collab.connect([north], email=SCIENTIST[0], password=SCIENTIST[1])
    job = fed.submit(
        collab.plans.LogisticRegression(
            table="visits", features=["score"], label="outcome", rounds=1
        )
    )
    request = next(r for r in north.requests if r.job_id == job.job_id)
    request.deny("not this study")
    # the README's owner loop, run again, no longer meets the denied request
    assert job.job_id not in {r.job_id for r in north.requests}
    (denied,) = [r for r in north.all_requests("denied") if r.job_id == job.job_id]
    said = (
        rf"lake 'north-clinic': request {request.id[:8]} from {SCIENTIST[0]} was already "
        r"denied by the owner at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(not this study\)\. "
        r"A decision is final: nothing was changed\. The scientist can submit the plan again"
    )
    for attempt in (request.approve, denied.approve, lambda: denied.deny("another reason")):
        with pytest.raises(collab.AlreadyDecided, match=said):
            attempt()
    with pytest.raises(collab.AlreadyDecided, match="already denied"):
        north._datasite.approve(request.id)  # PySyft's own approval, under the lake's
    assert not logged(north, "approve", job.job_id)
    assert entries(north, "deny", job.job_id) == 1
    assert entries(north, "approve refused", job.job_id) == 2
    assert entries(north, "deny refused", job.job_id) == 1
    assert north.verify_audit()
    # the scientist's job stays denied, and ends so
    with pytest.raises(collab.RequestDenied, match="not this study"):
        job.result(timeout=60, progress=False)
    session = fed._sessions[north.name]
    assert session.request_state(function_name(job.job_id)) == ("denied", "not this study")


def refused_login(login, email, password):
    """What a scientist is told when ``login(email, password)`` is refused, but for the email
    they typed."""
    with pytest.raises(collab.CollabError) as refused:
        login(email, password)
    error = refused.value
    assert error.__cause__ is None and error.__suppress_context__  # no PySyft message chained
    assert f"refused the login of {email!r}: " in str(error)
    return type(error), str(error).replace(repr(email), "<email>")


def test_a_login_does_not_tell_who_has_an_account(clinics):
    north, _ = clinics

    def login(email, password):
        collab.connect([north], email=email, password=password)

    wrong_password = refused_login(login, SCIENTIST[0], "not-adas-password-42")
    no_account = refused_login(login, "mallory@evil.example", "not-adas-password-42")
    assert wrong_password == no_account
    assert wrong_password[1].startswith("lake 'north-clinic' refused the login")
    # the owner's log keeps the difference
    audit = north.audit
    refused = [json.loads(d) for d in audit.loc[audit["action"] == "login failed", "detail"]]
    assert {"email": SCIENTIST[0], "reason": "wrong password"} in refused
    assert {"email": "mallory@evil.example", "reason": "no such account"} in refused


def test_wrong_password_and_unregistered_scientist_are_refused(clinics):
    north, _ = clinics
    with pytest.raises(collab.CollabError, match="refused the login"):
        collab.connect([north], email=SCIENTIST[0], password="guess-1234")
    with pytest.raises(collab.CollabError, match="refused the login"):
        collab.connect([north], email="mallory@evil.example", password="whatever-123")
