"""A scientist's own privacy budget, as each lake reports it to them; refused logins on record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from lake_processes import SCIENTIST

import collab
from collab.transport import ScientistSession
from collab.widgets import PlanBuilder

GRACE = ("grace@uni.edu", "grace-hopper-1906")
BOUNDS = {"x1": (-3.0, 3.0), "x2": (-3.0, 3.0)}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    n = 120
    x = rng.normal(size=(n, 2)).clip(-3, 3)
    y = (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    path = tmp_path_factory.mktemp("budget") / "cohort.parquet"
    pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y}).to_parquet(path, index=False)
    return path


def host(lake: collab.Lake, path: Path, max_epsilon: float | None) -> None:
    lake.add_table("cohort", path, bounds=BOUNDS, policy=collab.Policy(max_epsilon=max_epsilon))


def dp_plan(epsilon: float) -> collab.plans.LogisticRegression:
    return collab.plans.LogisticRegression(
        table="cohort",
        features=["x1", "x2"],
        label="y",
        rounds=2,
        local_epochs=1,
        dp=collab.DP(epsilon=epsilon),
    )


def approve(lakes: list[collab.Lake], job: collab.Job) -> None:
    for lake in lakes:
        for request in lake.requests:
            if request.job_id == job.job_id and request.status == "pending":
                request.approve()


def refused_logins(lake: collab.Lake) -> list[dict]:
    audit = lake.audit
    return [json.loads(d) for d in audit.loc[audit["action"] == "login failed", "detail"]]


@pytest.fixture(scope="module")
def budget_lakes(cohort: Path) -> Iterator[list[collab.Lake]]:
    """'budget-east' (3.0 epsilon per scientist) and 'budget-west' (no limit), in-process."""
    east = collab.Lake.launch("budget-east")
    west = collab.Lake.launch("budget-west")
    try:
        host(east, cohort, 3.0)
        host(west, cohort, None)
        for lake in (east, west):
            lake.add_scientist(*SCIENTIST, name="Ada")
            lake.add_scientist(*GRACE, name="Grace")
        yield [east, west]
    finally:
        east.stop()
        west.stop()


@pytest.fixture(scope="module")
def spent(budget_lakes: list[collab.Lake]) -> SimpleNamespace:
    """Ada's budget read before her DP plan (epsilon 2), right after the owners approved it,
    and once it trained; Grace spent nothing."""
    ada = collab.connect(budget_lakes, email=SCIENTIST[0], password=SCIENTIST[1])
    grace = collab.connect(budget_lakes, email=GRACE[0], password=GRACE[1])
    before = ada.budget("cohort")
    job = ada.submit(dp_plan(2.0))
    approve(budget_lakes, job)
    approved = ada.budget("cohort")
    job.result(progress=False, timeout=300)
    return SimpleNamespace(ada=ada, grace=grace, before=before, approved=approved)


def test_budget_is_the_owners_limit_less_what_the_scientist_spent(spent, budget_lakes):
    east = budget_lakes[0]
    assert spent.before.name == "epsilon left" and spent.before.index.name == "lake"
    assert list(spent.before.index) == ["budget-east", "budget-west"]
    assert spent.before["budget-east"] == 3.0
    assert np.isnan(spent.before["budget-west"])  # no limit there
    # the figure changes as the owner approves: the ledger charged, the scientist was told
    assert spent.approved["budget-east"] == 1.0
    after = spent.ada.budget("cohort")
    assert after["budget-east"] == 1.0 and np.isnan(after["budget-west"])
    for lake in budget_lakes:
        figures = lake.budget(SCIENTIST[0]).set_index("table").loc["cohort"]
        assert figures["epsilon spent"] == 2.0  # charged even where no limit is set
    assert east.budget(SCIENTIST[0]).set_index("table").loc["cohort", "epsilon left"] == 1.0


def test_each_scientist_reads_only_their_own_budget(spent):
    grace = spent.grace.budget("cohort")
    assert grace["budget-east"] == 3.0 and np.isnan(grace["budget-west"])
    for session in spent.grace._sessions.values():
        report = session.budget_report()
        assert report["tables"]["cohort"]["spent"] == 0.0  # never Ada's figures


def test_a_policy_change_reaches_the_scientist(spent, budget_lakes):
    east = budget_lakes[0]
    east.set_policy("cohort", collab.Policy(max_epsilon=5.0))
    try:
        assert spent.ada.budget("cohort")["budget-east"] == 3.0
        assert spent.grace.budget("cohort")["budget-east"] == 5.0
    finally:
        east.set_policy("cohort", collab.Policy(max_epsilon=3.0))
    assert spent.ada.budget("cohort")["budget-east"] == 1.0


def test_a_table_a_lake_lacks_is_named(spent):
    with pytest.raises(collab.PlanError, match="lake 'budget-east' has no table 'nowhere'"):
        spent.ada.budget("nowhere")


def test_plan_builder_shows_the_budget_left(spent):
    builder = PlanBuilder(spent.ada, table="cohort")
    section = builder.budget_section()
    assert section is not None
    assert section.rows == (("budget-east", "3", "1"), ("budget-west", "none", "no limit"))
    assert "not reported" not in builder.budget.value
    assert "no limit" in builder.budget.value


def test_a_refused_login_is_in_the_audit_without_the_password(budget_lakes):
    east = budget_lakes[0]
    wrong = "not-adas-password-42"
    with pytest.raises(collab.CollabError, match="refused the login"):
        east._datasite.login(SCIENTIST[0], wrong)
    with pytest.raises(collab.CollabError, match="refused the login"):
        east._datasite.login("mallory@evil.example", wrong)
    refused = refused_logins(east)
    assert {"email": SCIENTIST[0], "reason": "wrong password"} in refused
    assert {"email": "mallory@evil.example", "reason": "no such account"} in refused
    assert not east.audit["detail"].str.contains(wrong).any()
    assert east.verify_audit()
    assert refused_logins(budget_lakes[1]) == []  # the other lake refused nothing


@pytest.fixture(scope="module")
def served_lake(cohort: Path, ports) -> Iterator[collab.Lake]:
    lake = collab.Lake.launch("budget-served", port=ports())
    try:
        host(lake, cohort, 2.0)
        lake.add_scientist(*SCIENTIST, name="Ada")
        yield lake
    finally:
        lake.stop()


@pytest.mark.http
def test_a_served_lake_reports_the_budget_and_logs_a_refused_login(served_lake):
    fed = collab.connect([served_lake.url], email=SCIENTIST[0], password=SCIENTIST[1])
    assert fed.budget("cohort").to_dict() == {"budget-served": 2.0}
    # the charge happens at approval; the job is cancelled first, so nothing trains here
    job = fed.submit(dp_plan(0.5))
    job.cancel()
    approve([served_lake], job)
    assert fed.budget("cohort").to_dict() == {"budget-served": 1.5}

    wrong = "not-adas-password-42"
    with pytest.raises(collab.CollabError, match="refused the login"):
        ScientistSession.login(served_lake.url, SCIENTIST[0], wrong)
    # logged by the served Datasite's own process, into the lake's records
    assert {"email": SCIENTIST[0], "reason": "wrong password"} in refused_logins(served_lake)
    assert not served_lake.audit["detail"].str.contains(wrong).any()


def refused_login(url: str, email: str, password: str) -> tuple[type, str]:
    with pytest.raises(collab.CollabError) as refused:
        collab.connect([url], email=email, password=password)
    assert refused.value.__cause__ is None  # PySyft's own message is not chained to it
    assert f"refused the login of {email!r}: " in str(refused.value)
    return type(refused.value), str(refused.value).replace(repr(email), "<email>")


@pytest.mark.http
def test_a_served_lake_keeps_a_denial_final_and_a_login_does_not_tell_who_is_registered(
    served_lake,
):
    fed = collab.connect([served_lake.url], email=SCIENTIST[0], password=SCIENTIST[1])
    job = fed.submit(dp_plan(0.5))
    request = next(r for r in served_lake.requests if r.job_id == job.job_id)
    request.deny("not this quarter")
    with pytest.raises(collab.AlreadyDecided, match="already denied by the owner at .* UTC"):
        request.approve()
    with pytest.raises(collab.AlreadyDecided, match="already denied"):
        served_lake._datasite.approve(request.id)  # PySyft's own approval, over HTTP
    with pytest.raises(collab.RequestDenied, match="not this quarter"):
        job.result(progress=False, timeout=60)
    assert fed.budget("cohort").to_dict() == {"budget-served": 1.5}  # the denial spent nothing

    wrong = "not-adas-password-42"
    wrong_password = refused_login(served_lake.url, SCIENTIST[0], wrong)
    no_account = refused_login(served_lake.url, "mallory@evil.example", wrong)
    assert wrong_password == no_account
    assert wrong_password[1].startswith(f"lake at {served_lake.url} refused the login")
    refused = refused_logins(served_lake)  # the owner still sees which it was
    assert {"email": SCIENTIST[0], "reason": "wrong password"} in refused
    assert {"email": "mallory@evil.example", "reason": "no such account"} in refused
