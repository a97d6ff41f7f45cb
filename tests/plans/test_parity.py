"""``simulate`` refuses exactly what a real run refuses: the same bad plans and the same bad
round messages, driven through mock lakes and through real ones, give the same errors."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pytest

import collab
from collab.plans import LogisticRegression, SoftmaxRegression
from collab.scientist._parties import MockParty, RemoteParty
from collab.transport import function_name, render


def _bad_plans(table):
    features = table.features
    yield "private column", dict(features=[*features[:3], "patient_id"])
    yield "unknown column", dict(features=[*features[:3], "mean_radios"])
    yield "label not binary", dict(features=features[1:], label=features[0])
    yield "too many rounds", dict(rounds=501)
    yield "DP without bounds", dict(dp=collab.DP(epsilon=1.0), local_epochs=1)
    yield "threshold above lakes", dict(secure_threshold=4)


def _text(error: BaseException) -> str:
    return re.sub(r"job [0-9a-f]{8}", "job <id>", str(error))


@pytest.mark.parametrize("case", [c for c, _ in _bad_plans(type("T", (), {"features": ["f"]})())])
def test_bad_plans_are_refused_alike_by_simulate_and_submit(uneven, case):
    table = uneven.tables["biopsies"]
    settings = dict(_bad_plans(table))[case]
    plan = LogisticRegression(
        **{"table": "biopsies", "features": table.features, "label": table.label, **settings}
    )
    with pytest.raises(collab.CollabError) as simulated:
        uneven.federation.simulate(plan)
    with pytest.raises(collab.CollabError) as submitted:
        uneven.federation.submit(plan)
    assert type(simulated.value) is type(submitted.value)
    assert _text(simulated.value) == _text(submitted.value)


def _messages(plan, lakes):
    weights = [0.0] * plan.n_weights(len(plan.features))
    std = {"mean": [0.0] * len(plan.features), "std": [1.0] * len(plan.features)}
    good = {"plan": plan.hash, "phase": "round", "participants": lakes, "standardizer": std}
    request = {"weights": weights, "label_mean": 0.0, "label_std": 1.0}
    yield (
        "weights of the wrong size",
        {**good, "round": 1, "request": {**request, "weights": [0.0]}},
    )
    yield (
        "weights not finite",
        {**good, "round": 1, "request": {**request, "weights": [float("nan")] * len(weights)}},
    )
    yield "a round past the plan", {**good, "round": plan.total_rounds + 1, "request": request}
    yield "another plan", {**good, "plan": "0" * 64, "round": 1, "request": request}
    yield "an unknown phase", {**good, "phase": "steal", "round": 1}
    yield (
        "a zero deviation",
        {
            **good,
            "round": 1,
            "request": request,
            "standardizer": {**std, "std": [0.0] * len(plan.features)},
        },
    )
    yield "no request", {**good, "round": 1}
    yield (
        "a threshold below the plan's",
        {
            "plan": plan.hash,
            "phase": "deal",
            "round": 1,
            "roster": lakes,
            "public": {},
            "threshold": 1,
        },
    )


@pytest.fixture(scope="module")
def approved(uneven):
    """One softmax plan approved on every lake, whose rounds the test drives by hand."""
    table = uneven.tables["wine"]
    plan = uneven.federation.check(
        SoftmaxRegression(table="wine", features=table.features, label=table.label, rounds=3)
    )
    job_id = uuid.uuid4().hex
    for session in uneven.federation._sessions.values():
        session.submit(function_name(job_id), render(job_id, plan), plan.table)
    for lake in uneven.lakes:
        for request in lake.requests:
            if request.job_id == job_id and request.status == "pending":
                request.approve()
    return plan, job_id


@pytest.mark.parametrize(
    "case",
    [
        c
        for c, _ in _messages(
            SoftmaxRegression(table="t", features=["a"], label="y", classes=[0, 1]), []
        )
    ],
)
def test_bad_round_messages_are_refused_alike_by_a_mock_lake_and_a_real_one(uneven, approved, case):
    plan, job_id = approved
    lake = uneven.lakes[0]
    message = dict(_messages(plan, [x.name for x in uneven.lakes]))[case]
    schema = uneven.federation.table_schemas("wine")[lake.name]
    policy = uneven.federation.policies("wine")[lake.name]
    mock = MockParty(schema, policy, plan, rows=50, seed=0, job_id=job_id)
    real = RemoteParty(uneven.federation._sessions[lake.name], function_name(job_id), "wine")
    with pytest.raises(collab.CollabError) as simulated:
        mock.compute(message)
    with pytest.raises(collab.CollabError) as executed:
        real.compute(message)
    assert type(simulated.value) is type(executed.value), (simulated.value, executed.value)
    assert _text(simulated.value) == _text(executed.value)
    assert simulated.value.lake == executed.value.lake == lake.name
    # a refused message spends nothing: the lake counts no execution for it
    log = lake.audit
    assert not ((log["action"] == "release") & log["detail"].str.contains(job_id)).any()


def test_a_dp_plan_never_gets_exact_statistics_from_either(uneven):
    table = uneven.tables["biopsies"]
    plan = LogisticRegression(
        table="biopsies",
        features=table.features,
        label=table.label,
        dp=collab.DP(1.0),
        secure_aggregation=False,
    )
    lake = uneven.lakes[0]
    schema = uneven.federation.table_schemas("biopsies")[lake.name]
    mock = MockParty(schema, collab.Policy(), plan, rows=50, seed=0, job_id="1" * 32)
    with pytest.raises(collab.PrivacyError, match="exact statistics are never released"):
        mock.compute({"plan": plan.hash, "phase": "stats", "round": 1, "participants": [lake.name]})
    assert np.isfinite(plan.dp_row_bound(1.0))


@pytest.mark.parametrize(
    ("family", "table"),
    [
        (collab.plans.LogisticRegression, "biopsies"),
        (collab.plans.SoftmaxRegression, "wine"),
        (collab.plans.MLPClassifier, "wine"),
        (collab.plans.LinearRegression, "diabetes"),
    ],
)
def test_every_family_simulates_on_every_lakes_synthetic_rows(uneven, family, table):
    data = uneven.tables[table]
    plan = family(table=table, features=data.features, label=data.label)
    job = uneven.federation.simulate(plan)
    assert job.status == "done", job.error
    assert len(job.history) == job.plan.total_rounds
    validation = [c for c in job.history.columns if c.startswith("val_")]
    assert validation and job.history[validation].notna().all().all() == plan.evaluates_rounds
    assert list(job.history.columns) == [
        "round",
        *plan.history_metrics,
        *validation,
        "rows",
        "seconds",
    ]
    assert set(job.lake_states.values()) == {"done"}
