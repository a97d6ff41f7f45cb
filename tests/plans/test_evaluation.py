"""Validation on the lakes' held-out rows, and external validation on another federation:
the pooled metrics equal scikit-learn's on the same rows."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from lake_processes import SCIENTIST
from sklearn import metrics

import collab
from collab.plans._evaluation import holdout_mask


def held_out_rows(table, share: float, stratify: bool):
    """Each lake's held-out rows as the lake picks them. A lake's test table is one small
    Parquet file: one Spark partition, one block, its rows in file order."""
    frames = []
    for part in table.parts:
        rows = table.train.iloc[part]
        held = holdout_mask(rows[table.label].to_numpy(float), share, stratify=stratify)
        frames.append(rows[held])
    import pandas as pd

    return pd.concat(frames)


def sklearn_scores(model, rows, label: str) -> dict:
    P = model.predict_proba(rows)
    y = rows[label].to_numpy()
    predicted = model.predict(rows)
    return {
        "accuracy": metrics.accuracy_score(y, predicted),
        "log_loss": metrics.log_loss(y, P, labels=model.classes_),
        "precision": metrics.precision_score(y, predicted),
        "recall": metrics.recall_score(y, predicted),
        "f1": metrics.f1_score(y, predicted),
        "roc_auc": metrics.roc_auc_score(y, P[:, 1]),
        "confusion_matrix": metrics.confusion_matrix(y, predicted).tolist(),
    }


def assert_same(ours: dict, theirs: dict) -> None:
    for name, value in theirs.items():
        if name == "confusion_matrix":
            assert ours[name] == value
        elif name == "roc_auc":
            assert abs(ours[name] - value) <= ours["roc_auc_error"] + 1e-12
            assert ours["roc_auc_error"] < 0.01
        else:
            assert ours[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_a_classifier_is_validated_on_held_out_rows_as_it_trains(uneven):
    table = uneven.tables["biopsies"]
    plan = collab.plans.LogisticRegression(
        table="biopsies",
        features=table.features,
        label=table.label,
        rounds=6,
        evaluate_every=2,
    )
    assert plan.validation == 0.2
    job, model = uneven.train(plan, validation=True)
    history = job.history
    assert {"val_accuracy", "val_log_loss", "val_roc_auc", "val_f1"} <= set(history.columns)
    assert history["val_log_loss"].notna().tolist() == [True, False] * 3
    held = held_out_rows(table, 0.2, stratify=True)
    # training never touched the held-out rows: the summed training rows are the others
    assert (history["rows"] == len(table.train) - len(held)).all()
    assert_same(model.validation, sklearn_scores(model, held, table.label))
    # the dashboard's curves read the held-out figures from the job's payload
    from collab._display import job_payload
    from collab.widgets._dashboard import curves_png

    shown = job_payload(job)["history"]
    assert [r["val_accuracy"] for r in shown[::2]] == history["val_accuracy"].iloc[::2].tolist()
    assert curves_png(shown, 6, "accuracy").startswith(b"\x89PNG")
    assert model.card().to_dict()["validation"]["accuracy"] == model.validation["accuracy"]
    reloaded = collab.load_model(model.save(uneven.lakes[0].data_dir / "validated.json"))
    assert reloaded.validation == model.validation


def test_an_exact_regression_is_validated_at_the_end(uneven):
    table = uneven.tables["diabetes"]
    plan = collab.plans.LinearRegression(
        table="diabetes", features=table.features, label=table.label, validation=0.25
    )
    job, model = uneven.train(plan, validation=True)
    held = held_out_rows(table, 0.25, stratify=False)
    predicted = model.predict(held)
    y = held[table.label]
    assert model.validation["rmse"] == pytest.approx(
        metrics.root_mean_squared_error(y, predicted), rel=1e-9
    )
    assert model.validation["mae"] == pytest.approx(metrics.mean_absolute_error(y, predicted))
    assert model.validation["r2"] == pytest.approx(metrics.r2_score(y, predicted), rel=1e-9)
    assert "val_rmse" in job.history.columns  # an exact solve has no round to evaluate in


def test_early_stopping_keeps_the_best_model(uneven):
    table = uneven.tables["biopsies"]
    plan = collab.plans.LogisticRegression(
        table="biopsies",
        features=table.features,
        label=table.label,
        rounds=40,
        learning_rate=40.0,
        local_epochs=3,
        early_stopping_rounds=2,
    )
    job, model = uneven.train(plan, validation=True)
    history = job.history
    assert job.rounds_done < 40
    best = history["val_log_loss"].min()
    assert model.validation["log_loss"] == pytest.approx(best, rel=1e-12)
    assert (history["val_log_loss"].iloc[-2:] > best).all()


def test_a_model_is_validated_on_a_lake_that_took_no_part_in_training(uneven):
    table = uneven.tables["biopsies"]
    two = collab.connect(uneven.lakes[:2], email=SCIENTIST[0], password=SCIENTIST[1])
    plan = collab.plans.LogisticRegression(
        table="biopsies", features=table.features, label=table.label, rounds=10, validation=0
    )
    job = two.submit(plan)
    for lake in uneven.lakes[:2]:
        for request in lake.requests:
            if request.job_id == job.job_id:
                request.approve()
    model = job.result(progress=False, timeout=600)

    third = collab.connect(uneven.lakes[2:], email=SCIENTIST[0], password=SCIENTIST[1])
    answer: dict = {}
    asking = threading.Thread(target=lambda: answer.update(model.evaluate(third, "biopsies")))
    asking.start()
    for _ in range(300):
        pending = [r for r in uneven.lakes[2].requests if r.status == "pending"]
        if pending:
            assert pending[0].plan.task == "evaluation"
            pending[0].approve()
            break
        asking.join(0.1)
    asking.join(300)
    rows = table.train.iloc[table.parts[2]]
    assert_same(answer, sklearn_scores(model, rows, table.label))
    assert np.isfinite(answer["log_loss"])
