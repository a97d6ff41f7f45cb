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


def _approve(uneven, plan):
    """``plan`` checked, sent to every lake as a job and approved there; its rounds are left
    for the test to drive by hand."""
    plan = uneven.federation.check(plan)
    job_id = uuid.uuid4().hex
    for session in uneven.federation._sessions.values():
        session.submit(function_name(job_id), render(job_id, plan), plan.table)
    for lake in uneven.lakes:
        for request in lake.requests:
            if request.job_id == job_id and request.status == "pending":
                request.approve()
    return plan, job_id


@pytest.fixture(scope="module")
def approved(uneven):
    """One softmax plan approved on every lake, whose rounds the test drives by hand."""
    table = uneven.tables["wine"]
    return _approve(
        uneven,
        SoftmaxRegression(table="wine", features=table.features, label=table.label, rounds=3),
    )


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


def _out_of_schedule(plan, lake):
    """Messages the job's schedule refuses once its statistics and first round have run:
    (case, message)."""
    weights = [0.0] * plan.n_weights(len(plan.features))
    std = {"mean": [0.0] * len(plan.features), "std": [1.0] * len(plan.features)}
    request = {"weights": weights, "label_mean": 0.0, "label_std": 1.0}
    good = {"plan": plan.hash, "phase": "round", "participants": [lake], "standardizer": std}
    stats = {"plan": plan.hash, "phase": "stats", "round": 1, "participants": [lake]}
    yield "the statistics", stats
    yield "the first round", {**good, "round": 1, "request": request}
    changed = {**request, "weights": [0.5] * len(weights)}
    yield "a round replayed with changes", {**good, "round": 1, "request": changed}
    yield "a skipped round", {**good, "round": 3, "request": request}
    yield "an extra round", {**good, "round": plan.total_rounds + 1, "request": request}
    yield "an extra statistics exchange", {**stats, "round": 2}


REFUSED_OUT_OF_SCHEDULE = {  # each case and what its refusal says
    "a round replayed with changes": "round 1 was already run with another message",
    "a skipped round": "round 3 was asked for, but the next one this lake will run is 2",
    "an extra round": "approved for 3 round execution(s); round 4 is outside them",
    "an extra statistics exchange": "approved for 1 stats execution(s); stats 2 is past that",
}


@pytest.fixture(scope="module")
def driven(uneven):
    """A plain three-round plan approved on every lake, and its first lake driven through
    its statistics and first round both as a mock lake and as the real one: (plan, lake,
    mock, real, the job's id)."""
    table = uneven.tables["biopsies"]
    plan, job_id = _approve(
        uneven,
        LogisticRegression(
            table="biopsies",
            features=table.features,
            label=table.label,
            rounds=3,
            secure_aggregation=False,
        ),
    )
    lake = uneven.lakes[0]
    schema = uneven.federation.table_schemas("biopsies")[lake.name]
    policy = uneven.federation.policies("biopsies")[lake.name]
    mock = MockParty(schema, policy, plan, rows=50, seed=0, job_id=job_id)
    real = RemoteParty(uneven.federation._sessions[lake.name], function_name(job_id), "biopsies")
    for _, message in list(_out_of_schedule(plan, lake.name))[:2]:
        first = mock.compute(message), real.compute(message)
        # the very same message again: each answers what it released, and releases nothing
        assert mock.compute(message) == first[0]
        assert real.compute(message)["vector"] == first[1]["vector"]
    log = lake.audit
    repeated = log[(log["action"] == "release repeated") & log["detail"].str.contains(job_id)]
    assert len(repeated) == 2
    return plan, lake, mock, real, job_id


@pytest.mark.parametrize("case", REFUSED_OUT_OF_SCHEDULE)
def test_replayed_skipped_and_extra_rounds_are_refused_alike_by_a_mock_lake_and_a_real_one(
    driven, case
):
    plan, lake, mock, real, job_id = driven
    message = dict(_out_of_schedule(plan, lake.name))[case]
    released = _releases(lake, job_id)
    with pytest.raises(collab.CollabError) as simulated:
        mock.compute(message)
    with pytest.raises(collab.CollabError) as executed:
        real.compute(message)
    assert type(simulated.value) is type(executed.value), (simulated.value, executed.value)
    assert _text(simulated.value) == _text(executed.value)
    assert REFUSED_OUT_OF_SCHEDULE[case] in str(executed.value)
    assert simulated.value.lake == executed.value.lake == lake.name
    assert _releases(lake, job_id) == released == 2  # the statistics and the first round


def _releases(lake, job_id):
    log = lake.audit
    return int(((log["action"] == "release") & log["detail"].str.contains(job_id)).sum())


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
