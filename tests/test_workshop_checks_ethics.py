"""Workshop 4's checks (notebooks/workshop/checks_ethics.py) accept right answers and explain
wrong ones. The card, federation and demo a check reads are small stand-ins holding what the
real ones publish; the model is a scikit-learn model fitted here."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

import collab

CHECKS = runpy.run_path(
    str(Path(__file__).parents[1] / "notebooks" / "workshop" / "checks_ethics.py")
)
FEATURES = ["mean_radius", "mean_area"]


def said(capsys) -> str:
    return capsys.readouterr().out


def right(text: str) -> bool:
    assert text.startswith(("✓", "✗", "…")), text
    return text.startswith("✓")


def card(dp: dict | None):
    return SimpleNamespace(to_dict=lambda: {"model": "logistic_regression", "dp": dp})


@pytest.mark.parametrize(
    ("answer", "ok", "words"),
    [
        (1.5, True, "spent epsilon 1.5 on every hospital"),
        (1e-5, False, "is delta"),
        (1.0, False, "is the clip norm"),
        (3, False, "Privacy section"),
        ("1.5", False, "Answer with a number, not str"),
        (None, False, "not answered yet"),
    ],
)
def test_epsilon_spent_is_the_cards_epsilon(capsys, answer, ok, words):
    CHECKS["check_epsilon_spent"](answer, card({"epsilon": 1.5, "delta": 1e-5, "clip_norm": 1.0}))
    text = said(capsys)
    assert right(text) is ok and words in text


@pytest.fixture(scope="module")
def cancer():
    """A model, held-out rows (Northgate's) and training rows, as the demo holds them."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 2)), columns=FEATURES)
    y = (X["mean_radius"] + 0.8 * rng.normal(size=300) > 0).astype(int)
    frame = X.assign(malignant=y)
    train, test = frame.iloc[:240], frame.iloc[240:]
    model = SkLogisticRegression().fit(train[FEATURES], train["malignant"])
    demo = SimpleNamespace(
        features=FEATURES,
        label="malignant",
        test_set=lambda: test.copy(),
        pooled_training_set=lambda: train.copy(),
    )
    return model, demo, train, test


def metrics_on(model, rows: pd.DataFrame) -> dict:
    """What fed.evaluate returns for a classifier, computed on ``rows`` directly."""
    predicted = model.predict(rows[FEATURES])
    truth = rows["malignant"].to_numpy()
    matrix = [[int(((truth == a) & (predicted == b)).sum()) for b in (0, 1)] for a in (0, 1)]
    positives = max(int((truth == 1).sum()), 1)
    return {
        "accuracy": float((predicted == truth).mean()),
        "recall": matrix[1][1] / positives,
        "confusion_matrix": matrix,
    }


def test_external_metrics_on_northgates_rows_are_right(capsys, cancer):
    model, demo, _, test = cancer
    CHECKS["check_external"](metrics_on(model, test), model, demo)
    text = said(capsys)
    accuracy = model.score(test[FEATURES], test["malignant"])
    assert right(text) and f"Northgate's {len(test)} patients" in text
    assert f"accuracy ≈ {accuracy:.3f}" in text


def test_external_metrics_on_the_training_lakes_are_in_sample(capsys, cancer):
    model, demo, train, _ = cancer
    CHECKS["check_external"](metrics_on(model, train), model, demo)
    text = said(capsys)
    assert not right(text) and f"count {len(train)} rows" in text
    assert "already seen" in text


def test_external_metrics_of_another_model_or_rows_are_wrong(capsys, cancer):
    model, demo, train, test = cancer
    other = SkLogisticRegression().fit(
        train[["mean_area"]].assign(mean_radius=0.0)[FEATURES], 1 - train["malignant"]
    )
    CHECKS["check_external"](metrics_on(other, test), model, demo)
    text = said(capsys)
    assert not right(text) and "not for this model" in text
    CHECKS["check_external"](metrics_on(model, test.iloc[:30]), model, demo)
    text = said(capsys)
    assert not right(text) and f"Northgate holds {len(test)}" in text
    CHECKS["check_external"](0.9, model, demo)
    assert not right(said(capsys))
    CHECKS["check_external"](None, model, demo)
    assert "not answered yet" in said(capsys)


def federation(left: list[float], limit: float = 3.0):
    lakes = ["st-mary", "st-jude", "riverside"]
    return SimpleNamespace(
        budget=lambda table: pd.Series(left, index=lakes, name="epsilon left"),
        policies=lambda table: {lake: collab.Policy(max_epsilon=limit) for lake in lakes},
    )


@pytest.mark.parametrize(
    ("answer", "ok", "words"),
    [
        (0.5, True, "0.5 of the owners' 3 is left"),
        (3, False, "the owners' limit"),
        (1.5, False, "every DP statistic"),
        (0.25, False, "Less than is left"),
        ([0.5], False, "Answer with a number, not list"),
        (None, False, "not answered yet"),
    ],
)
def test_budget_left_is_what_every_lake_reports(capsys, answer, ok, words):
    CHECKS["check_budget_left"](answer, federation([0.5, 0.5, 0.5]))
    text = said(capsys)
    assert right(text) is ok and words in text


def test_budget_left_differing_between_lakes_is_said(capsys):
    CHECKS["check_budget_left"](0.5, federation([0.5, 1.0, 0.5]))
    text = said(capsys)
    assert not right(text) and "different amounts left" in text
