"""Rich display: text and HTML show the same sections, every value is escaped, payloads follow
the MIME contract the JupyterLab extension reads."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

import collab
from collab import _display
from collab._display import MODEL_MIME, PLAN_MIME, SCHEMA_MIME
from collab.scientist._coordinator import Progress, RoundRecord

MALICIOUS = "<script>alert('x')</script> & \"quotes\""


def schema() -> collab.TableSchema:
    columns = (
        collab.ColumnSchema("patient_id", "string", True, "text", "record number", private=True),
        collab.ColumnSchema("age", "int", False, "numeric", MALICIOUS),
        collab.ColumnSchema("outcome", "int", False, "binary", "1 if readmitted"),
    )
    return collab.TableSchema("st-mary", "visits", columns, "Clinic visits", 100)


def plan(**settings: object) -> collab.plans.LogisticRegression:
    return collab.plans.LogisticRegression(
        table="visits", features=["age"], label="outcome", rounds=4, **settings
    )


def model() -> collab.plans.LogisticModel:
    return collab.plans.LogisticModel(
        features=("age",),
        label="outcome",
        coef_=np.array([0.25]),
        intercept_=-1.5,
        feature_means_=np.array([50.0]),
        lakes=("st-mary", "st-jude"),
        rounds=4,
        plan_hash=plan().hash,
    )


def regression_plan(**settings: object) -> collab.plans.LinearRegression:
    return collab.plans.LinearRegression(
        table="visits", features=["age"], label="stay_days", alpha=0.5, **settings
    )


def linear_model() -> collab.plans.LinearModel:
    return collab.plans.LinearModel(
        features=("age", "weight"),
        label="stay_days",
        coef_=np.array([0.05, -0.01]),
        intercept_=2.5,
        feature_means_=np.array([50.0, 70.0]),
        lakes=("st-mary", "st-jude"),
        rounds=1,
        plan_hash=regression_plan().hash,
    )


def softmax_model() -> collab.plans.SoftmaxModel:
    return collab.plans.SoftmaxModel(
        features=("age", "weight"),
        label="stage",
        classes_=np.array([1, 2, 3]),
        coef_=np.array([[0.5, -0.25], [0.0, 0.125], [-0.5, 0.125]]),
        intercept_=np.array([0.1, 0.0, -0.1]),
        feature_means_=np.array([50.0, 70.0]),
        lakes=("st-mary",),
        rounds=10,
    )


def mlp_model() -> collab.plans.MLPModel:
    return collab.plans.MLPModel(
        features=("age", "weight"),
        label="outcome",
        coefs_=(np.full((2, 3), 0.1), np.full((3, 1), -0.2)),
        intercepts_=(np.zeros(3), np.zeros(1)),
        feature_means_=np.array([50.0, 70.0]),
        lakes=("st-mary",),
        rounds=5,
    )


def job(status: str = "running", error: BaseException | None = None) -> SimpleNamespace:
    """An object with a Job's public surface (what the display reads)."""
    progress = Progress(
        lake_states={"st-mary": "running", "st-jude": "waiting for approval"},
        rounds_done=2,
        history=[
            RoundRecord(1, {"loss": 0.69, "accuracy": 0.5}, 100, 0.1),
            RoundRecord(2, {"loss": float("nan"), "accuracy": 0.75}, 100),
        ],
    )
    return SimpleNamespace(
        job_id="f" * 32,
        plan=plan(dp=collab.DP(epsilon=1.0)),
        status=status,
        error=error,
        progress=progress,
        lake_states=dict(progress.lake_states),
        rounds_done=2,
    )


def regression_job() -> SimpleNamespace:
    progress = Progress(
        lake_states={"st-mary": "done", "st-jude": "done"},
        rounds_done=1,
        history=[RoundRecord(1, {"loss": 4.0, "rmse": 2.0, "r2": 0.81}, 180, 0.2)],
    )
    return SimpleNamespace(
        job_id="e" * 32,
        plan=regression_plan(),
        status="done",
        error=None,
        progress=progress,
        lake_states=dict(progress.lake_states),
        rounds_done=1,
    )


def reports() -> dict[str, _display.Report]:
    return {
        "schema": schema()._display_()[0],
        "plan": plan()._display_()[0],
        "regression plan": regression_plan()._display_()[0],
        "model": model()._display_()[0],
        "linear model": linear_model()._display_()[0],
        "softmax model": softmax_model()._display_()[0],
        "mlp model": mlp_model()._display_()[0],
        "regression job": _display.job_report(_display.job_payload(regression_job())),
        "job": _display.job_report(_display.job_payload(job(error=RuntimeError("lost")))),
        "request": _display.request_report(
            {
                "request": "1a2b3c4d",
                "scientist": "ada@uni.edu",
                "table": "visits",
                "model": "logistic_regression",
                "features": "age",
                "label": "outcome",
                "rounds": 4,
                "secure aggregation": True,
                "epsilon": 1.0,
                "status": "pending",
            },
            "epsilon 2 of 3 left",
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "schema",
        "plan",
        "regression plan",
        "model",
        "linear model",
        "softmax model",
        "mlp model",
        "job",
        "regression job",
        "request",
    ],
)
def test_text_and_html_show_the_same_sections(name: str) -> None:
    report = reports()[name]
    text = _display.text(report)
    page = _display.html(report)
    titles = [s.title for s in report.sections]
    assert titles, "every report has sections"
    for title in titles:
        assert re.search(rf"^{re.escape(title)}$", text, re.MULTILINE), title
        assert f"<summary>{_display.esc(title)}" in page, title
    wrap = page.split('<div class="collab-wrap"', 1)[1]
    found = [t.strip() for t in re.findall(r"<summary>([^<]+)", wrap)]
    assert found == [_display.esc(t) for t in titles]
    for section in report.sections:  # the same cells, in both
        for row in section.rows:
            for cell in row:
                value = cell[0] if isinstance(cell, tuple) else cell
                assert value in text
                assert _display.esc(value) in wrap


def test_html_escapes_every_value() -> None:
    page = schema()._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    bundle = schema()._repr_mimebundle_()
    assert MALICIOUS in bundle["text/plain"]  # plain text stays as written
    assert bundle[SCHEMA_MIME]["columns"][1]["description"] == MALICIOUS


def test_html_carries_a_plain_text_fallback_and_the_stylesheet_once_read() -> None:
    report = plan()._display_()[0]
    page = _display.html(report)
    fallback = re.search(r'<pre class="collab-fallback">(.*?)</pre>', page, re.S)
    assert fallback is not None
    assert fallback.group(1) == _display.esc(_display.text(report))
    assert '<div class="collab-wrap" hidden>' in page
    assert ".collab-fallback" in _display.css()
    assert page.startswith(f"<style>{_display.css()}</style>")
    _display.css()
    assert _display.css.cache_info().misses == 1


def test_schema_payload_follows_the_contract() -> None:
    payload = schema()._repr_mimebundle_()[SCHEMA_MIME]
    assert set(payload) == {"table", "lakes", "columns"}
    assert payload["table"] == "visits" and payload["lakes"] == ["st-mary"]
    keys = {"name", "type", "nullable", "description", "private", "kind", "categories", "presence"}
    for column in payload["columns"]:
        assert set(column) == keys
        assert column["presence"] == {"st-mary": "ok"}
        assert column["categories"] is None  # no column here is categorical
    assert payload["columns"][0]["private"] is True


def test_plan_payload_is_the_spec_its_hash_and_the_familys_display() -> None:
    p = plan(dp=collab.DP(epsilon=2.0))
    bundle = p._repr_mimebundle_()
    payload = bundle[PLAN_MIME]
    assert payload == {
        **p.to_spec(),
        "hash": p.hash,
        "task": "classification",
        "total_rounds": 4,
        "metrics": ["loss", "accuracy"],
        "primary_metric": "accuracy",
        # a setting the spec leaves out while unset (the classes) shows as unset
        "settings": [[s["name"], p.to_spec().get(s["name"])] for s in type(p).settings()],
    }
    assert payload["settings"][:2] == [["rounds", 4], ["local_epochs", 1]]
    assert payload["settings"][-1] == ["classes", None] and "classes" not in p.to_spec()
    assert {"text/plain", "text/html"} <= set(bundle)
    assert "epsilon 2" in bundle["text/plain"]
    json.dumps(payload, allow_nan=False)


def test_regression_plan_payload_names_its_own_settings_and_metrics() -> None:
    p = regression_plan()
    payload = p._repr_mimebundle_()[PLAN_MIME]
    assert payload["model"] == "linear_regression"
    assert payload["task"] == "regression"
    assert payload["total_rounds"] == 1  # solved exactly in one round
    assert payload["metrics"] == ["loss", "rmse", "r2"]
    assert payload["primary_metric"] == "r2"
    settings = dict(payload["settings"])
    assert settings["alpha"] == 0.5 and settings["solver"] == "auto"
    text = _display.text(p._display_()[0])
    assert "predicts stay_days from 1 feature in 1 round" in text
    assert re.search(r"^  alpha +0\.5$", text, re.MULTILINE)


def test_job_payload_follows_the_contract() -> None:
    payload = _display.job_payload(job(status="failed", error=RuntimeError("st-jude lost")))
    assert set(payload) == {
        "job_id",
        "plan",
        "status",
        "lakes",
        "rounds_done",
        "rounds_total",
        "history",
        "error",
    }
    assert payload["plan"]["hash"] == plan(dp=collab.DP(epsilon=1.0)).hash
    assert payload["rounds_done"] == 2 and payload["rounds_total"] == 4
    assert payload["history"][0] == {"round": 1, "loss": 0.69, "accuracy": 0.5, "rows": 100}
    assert payload["history"][1]["loss"] is None  # NaN is not JSON
    assert payload["error"] == "RuntimeError: st-jude lost"
    json.dumps(payload, allow_nan=False)
    text = _display.text(_display.job_report(payload))
    assert "[##########----------] 2/4 rounds" in text


def test_model_payload_is_to_dict() -> None:
    bundle = model()._repr_mimebundle_()
    assert bundle[MODEL_MIME] == model().to_dict()
    assert "(intercept)" in bundle["text/plain"]
    json.dumps(bundle[MODEL_MIME], allow_nan=False)


def test_regression_job_payload_carries_the_familys_metrics() -> None:
    payload = _display.job_payload(regression_job())
    assert payload["rounds_total"] == 1
    assert payload["plan"]["primary_metric"] == "r2"
    assert payload["history"] == [{"round": 1, "loss": 4.0, "rmse": 2.0, "r2": 0.81, "rows": 180}]
    history = next(s for s in _display.job_report(payload).sections if s.title == "History")
    assert history.header == ("round", "loss", "rmse", "r2", "rows")
    assert "accuracy" not in _display.text(_display.job_report(payload))


@pytest.mark.parametrize(
    ("make", "kind", "title", "header", "first_row"),
    [
        (
            linear_model,
            "linear_regression",
            "Coefficients",
            ["feature", "coefficient"],
            ["age", 0.05],
        ),
        (
            softmax_model,
            "softmax_regression",
            "Coefficients",
            ["feature", "class 1", "class 2", "class 3"],
            ["age", 0.5, 0.0, -0.5],
        ),
        (mlp_model, "mlp_classifier", "Layers", ["layer", "shape", "parameters"], None),
    ],
)
def test_every_family_displays_its_report_table(make, kind, title, header, first_row) -> None:
    m = make()
    bundle = m._repr_mimebundle_()
    payload = bundle[MODEL_MIME]
    assert payload == m.to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["model"] == kind
    report = payload["report"]
    assert report["title"] == title and report["header"] == header
    if first_row is not None:
        assert report["rows"][0] == first_row
    text = bundle["text/plain"]
    assert text.startswith(f"Model {kind.replace('_', ' ')}")
    assert re.search(rf"^{title}$", text, re.MULTILINE)
    for name in header:
        assert name in text


def test_linear_and_softmax_payloads_keep_their_coefficients() -> None:
    linear = linear_model().to_dict()
    assert linear["task"] == "regression"
    assert linear["coef"] == [0.05, -0.01] and linear["intercept"] == 2.5
    softmax = softmax_model().to_dict()
    assert softmax["task"] == "classification"
    assert softmax["coef"] == [[0.5, -0.25], [0.0, 0.125], [-0.5, 0.125]]
    assert softmax["classes"] == [1, 2, 3]
    mlp = mlp_model().to_dict()
    assert [len(layer) for layer in mlp["coefs"]] == [2, 3]
    assert "coef" not in mlp


def test_bundle_include_and_exclude() -> None:
    p = plan()
    assert set(p._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}
    assert PLAN_MIME not in p._repr_mimebundle_(exclude=[PLAN_MIME])


def test_states_become_safe_css_classes() -> None:
    assert _display.state_of("waiting for approval") == "waiting"
    assert _display.state_of("differs: string") == "differs"
    assert _display.state_of('"><img src=x onerror=1>') == "img-src-x-onerror"
    cell = _display.grid_html(("a",), [(("x", '" onmouseover="evil'),)])
    assert 'onmouseover="' not in cell
