"""The workshop's checks (notebooks/workshop/checks.py) accept right answers and explain wrong
ones. Plans are built without lakes; the lake, federation and demo a check reads are small
stand-ins holding what the real ones publish."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

import collab

CHECKS = runpy.run_path(str(Path(__file__).parents[1] / "notebooks" / "workshop" / "checks.py"))
FEATURES = ["age", "bmi", "bp"]


def said(capsys) -> str:
    return capsys.readouterr().out


def right(text: str) -> bool:
    assert text.startswith(("✓", "✗", "…")), text
    return text.startswith("✓")


@pytest.fixture(scope="module")
def cancer():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 2)), columns=["mean_radius", "mean_area"])
    y = (X["mean_radius"] + 0.3 * rng.normal(size=200) > 0).astype(int)
    model = SkLogisticRegression().fit(X, y)
    return model, X.assign(malignant=y)


def test_fewer_rounds_accepts_3_x_10_and_says_it_is_three_times_the_passes(capsys, cancer):
    model, test = cancer
    plan = collab.plans.LogisticRegression(
        table="patients",
        features=["mean_radius", "mean_area"],
        label="malignant",
        rounds=3,
        local_epochs=10,
    )
    CHECKS["check_fewer_rounds"](plan, model, model, test)
    text = said(capsys)
    assert right(text) and "30 passes" in text and "instead of 10" in text
    assert "same number of passes" not in text
    wrong = collab.plans.LogisticRegression(
        table="patients", features=["mean_radius"], label="malignant", rounds=3, local_epochs=1
    )
    CHECKS["check_fewer_rounds"](wrong, model, model, test)
    text = said(capsys)
    assert not right(text) and "3 rounds x 1 local epochs" in text
    CHECKS["check_fewer_rounds"](None, None, model, test)
    assert said(capsys).startswith("…")


@pytest.fixture(scope="module")
def diabetes():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(120, 3)), columns=FEATURES)
    frame["progression"] = frame @ np.array([3.0, 2.0, 1.0]) + rng.normal(size=120)
    fitted = SkLinearRegression().fit(frame[FEATURES], frame["progression"])
    demo = SimpleNamespace(
        features=FEATURES,
        label="progression",
        test_set=lambda: frame,
        centralised_model=lambda: fitted,
        pooled_training_set=lambda: frame,
    )
    return demo, fitted


@pytest.mark.parametrize(
    "plan",
    [
        collab.plans.LinearRegression(table="patients", features=FEATURES, label="progression"),
        collab.plans.GradientBoostedTrees(
            table="patients", features=FEATURES, label="progression", objective="squared_error"
        ),
    ],
    ids=["linear", "trees"],
)
def test_progression_accepts_every_family_that_predicts_a_number(capsys, diabetes, plan):
    demo, fitted = diabetes
    CHECKS["check_progression"](plan, fitted, demo)
    text = said(capsys)
    assert right(text) and type(plan).__name__ in text


def test_progression_says_what_a_held_out_share_means(capsys, diabetes):
    demo, fitted = diabetes
    held = collab.plans.LinearRegression(
        table="patients", features=FEATURES, label="progression", validation=0.2
    )
    CHECKS["check_progression"](held, fitted, demo)
    text = said(capsys)
    assert right(text) and "held out 20%" in text and "exactly" not in text
    every = collab.plans.LinearRegression(
        table="patients", features=FEATURES, label="progression", validation=0.0
    )
    CHECKS["check_progression"](every, fitted, demo)
    assert "trained on every row" in said(capsys)


def test_progression_explains_a_classifier_a_wrong_label_and_missing_features(capsys, diabetes):
    demo, fitted = diabetes
    classifier = collab.plans.GradientBoostedTrees(
        table="patients", features=FEATURES, label="progression"
    )
    CHECKS["check_progression"](classifier, fitted, demo)
    text = said(capsys)
    assert not right(text) and "classification plan" in text
    assert "LinearRegression" in text and "GradientBoostedTrees" in text
    assert "LogisticRegression" not in text.split("(")[1]  # the families named predict numbers
    other = collab.plans.LinearRegression(table="patients", features=FEATURES, label="s1")
    CHECKS["check_progression"](other, fitted, demo)
    assert "Predict the label 'progression'" in said(capsys)
    fewer = collab.plans.LinearRegression(
        table="patients", features=FEATURES[:2], label="progression"
    )
    CHECKS["check_progression"](fewer, fitted, demo)
    text = said(capsys)
    assert not right(text) and "every measurement" in text


@pytest.mark.parametrize("epsilons", [[0.5, 2.5], [1.0, 2.0], (0.1, 2.9)])
def test_budget_accepts_two_plans_that_use_it_with_the_larger_share_last(capsys, epsilons):
    CHECKS["check_budget"](epsilons)
    text = said(capsys)
    assert right(text) and "max_epsilon=3" in text
    assert "the lakes approve these" not in text


@pytest.mark.parametrize(
    ("epsilons", "why"),
    [
        ([2.5, 0.5], "less noise"),
        ([1.5, 1.5], "less noise"),
        ([0.5, 2.0], "add up to 2.5"),
        ([1.0, 1.0, 1.0], "Give two epsilons"),
        ([0.0, 3.0], "above 0"),
        ([-1.0, 4.0], "above 0"),
    ],
)
def test_budget_explains_every_wrong_split(capsys, epsilons, why):
    CHECKS["check_budget"](epsilons)
    text = said(capsys)
    assert not right(text) and why in text


def test_releases_counts_the_audit_and_names_the_phases(capsys):
    phases = ["keys", "deal", "receive", *["round"] * 5, *["unmask"] * 5]
    rows = [{"action": "approve", "detail": "{}"}] + [
        {"action": "release", "detail": json.dumps({"phase": p, "round": 0})} for p in phases
    ]
    lake = SimpleNamespace(audit=pd.DataFrame(rows))
    CHECKS["check_releases"](13, lake)
    text = said(capsys)
    assert right(text) and "13 releases" in text and "5 round" in text and "1 keys" in text
    CHECKS["check_releases"](5, lake)
    text = said(capsys)
    assert not right(text) and "by phase" in text


def _column(name: str, private: bool = False) -> SimpleNamespace:
    return SimpleNamespace(name=name, private=private)


COLUMNS = [
    _column("patient_id", private=True),
    *[_column(f"mean_{m}") for m in ("radius", "area", "perimeter", "compactness", "concavity")],
    _column("worst_area"),
    _column("malignant"),
]


@pytest.fixture(scope="module")
def published():
    """What a federation and a lake publish about `patients`: schemas, a policy, a check."""
    schema = SimpleNamespace(rows_at_least=100, columns=COLUMNS)
    refusing = {"worst_area"}

    def check(plan):
        if refusing & set(plan.features):
            raise collab.PolicyViolation("lake 'st-mary': column 'worst_area' is not allowed")

    fed = SimpleNamespace(
        table_schemas=lambda table: {"st-mary": schema, "st-jude": schema}, check=check
    )
    return fed, schema


def test_rows_and_private_column(capsys, published):
    fed, _ = published
    CHECKS["check_rows"](100, fed)
    assert right(said(capsys))
    CHECKS["check_rows"](152, fed)
    text = said(capsys)
    assert not right(text) and "rows_at_least" in text
    CHECKS["check_private"]("patient_id", fed)
    assert right(said(capsys))
    CHECKS["check_private"]("malignant", fed)
    assert not right(said(capsys))


def test_policy_allows_the_mean_columns_and_the_label_only(capsys, published):
    _, schema = published
    means = [c.name for c in COLUMNS if c.name.startswith("mean_")]

    def lake(allowed):
        return SimpleNamespace(
            policy=lambda table: SimpleNamespace(allowed_columns=allowed),
            schema=lambda table: schema,
        )

    CHECKS["check_policy"](lake([*means, "malignant"]))
    assert right(said(capsys))
    CHECKS["check_policy"](lake(means))  # the label forgotten
    assert not right(said(capsys))
    CHECKS["check_policy"](lake([*means, "malignant", "worst_area"]))
    assert not right(said(capsys))
    CHECKS["check_policy"](lake(None))
    assert said(capsys).startswith("…")


def test_plan_over_the_size_and_shape_measurements(capsys, published):
    fed, _ = published
    size_and_shape = CHECKS["SIZE_AND_SHAPE"]

    def plan(features, rounds=10):
        return collab.plans.LogisticRegression(
            table="patients", features=features, label="malignant", rounds=rounds
        )

    CHECKS["check_plan"](plan(size_and_shape), fed)
    assert right(said(capsys))
    CHECKS["check_plan"](plan(size_and_shape, rounds=30), fed)
    assert not right(said(capsys))
    CHECKS["check_plan"](plan([*size_and_shape, "worst_area"]), fed)
    text = said(capsys)
    assert not right(text) and "worst_area" in text


def test_can_tell(capsys):
    CHECKS["check_can_tell"](False)
    assert right(said(capsys))
    CHECKS["check_can_tell"](True)
    assert not right(said(capsys))
