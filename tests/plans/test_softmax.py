"""Multinomial logistic regression across three uneven lakes, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

import collab
from collab.plans import SoftmaxRegression


def _central(table):
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), SkLogisticRegression(max_iter=5000))
    return model.fit(table.pooled[table.features], table.pooled[table.label])


@pytest.mark.parametrize("name", ["wine", "biopsies"])
def test_accuracy_within_one_point_of_scikit_learn(uneven, name):
    table = uneven.tables[name]
    plan = SoftmaxRegression(
        table=name,
        features=table.features,
        label=table.label,
        rounds=10,
        local_epochs=10,
        l2=0.01,
    )
    job, model = uneven.train(plan)
    test = table.test
    central = _central(table).score(test[table.features], test[table.label])
    ours = model.score(test, test[table.label])
    assert ours >= central - 0.01, (ours, central)
    # the classes came from the owners' published categories (or the binary label)
    expected = [0, 1, 2] if name == "wine" else [0, 1]
    assert model.classes_.tolist() == expected and job.plan.classes == tuple(expected)
    exported = model.to_sklearn()
    np.testing.assert_allclose(
        exported.predict_proba(test[table.features]),
        model.predict_proba(test),
        rtol=0,
        atol=1e-12,
    )
    assert (exported.predict(test[table.features]) == model.predict(test)).all()
    history = job.history
    assert list(history.columns) == ["round", "loss", "accuracy", "rows", "seconds"]
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]


def test_dp_training_stays_useful_and_charges_every_ledger(uneven):
    wine = uneven.tables["wine"]
    table = uneven.bounded("wine", max_epsilon=5.0)
    plan = SoftmaxRegression(
        table=table,
        features=wine.features,
        label=wine.label,
        rounds=10,
        learning_rate=2.0,
        dp=collab.DP(epsilon=4.0, clip_norm=1.0),
    )
    _job, model = uneven.train(plan)
    test = wine.test
    assert model.score(test, test[wine.label]) > 0.8  # three classes: chance is about 0.4
    for lake in uneven.lakes:
        assert lake.budget("ada@uni.edu").set_index("table").loc[table, "epsilon spent"] == 4.0
        log = lake.audit
        assert (log["action"] == "approve").any()


def test_a_label_value_outside_the_classes_is_refused_without_the_value(uneven):
    table = uneven.tables["wine"]
    plan = SoftmaxRegression(
        table="wine", features=table.features, label="cultivar", classes=[0, 1], rounds=2
    )
    job = uneven.federation.submit(plan)
    for lake in uneven.lakes:
        for request in lake.requests:
            if request.job_id == job.job_id and request.status == "pending":
                request.approve()
    with pytest.raises(collab.PlanError) as refused:
        job.result(progress=False, timeout=900)
    message = str(refused.value)
    assert refused.value.lake in {lake.name for lake in uneven.lakes}
    assert "'cultivar'" in message and "not one of the plan's classes" in message
    assert "2.0" not in message  # the offending value is never named


def test_classes_are_needed_when_the_owner_publishes_none(uneven):
    digits = uneven.tables["digits"]
    with pytest.raises(collab.PlanError, match=r"needs the classes of label 'p0_2'"):
        uneven.federation.check(
            SoftmaxRegression(table="digits", features=digits.features[3:], label="p0_2")
        )
    with pytest.raises(collab.PlanError, match="classes name a value more than once"):
        SoftmaxRegression(table="t", features=["a"], label="y", classes=[1, 1, 2])
