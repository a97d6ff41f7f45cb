"""A model card says which of its figures carry differential-privacy noise."""

from __future__ import annotations

import pytest

from collab.plans._model import ModelCard

FACTS = {
    "model": "logistic_regression",
    "table": "study",
    "label": "malignant",
    "features": ["mean_radius"],
    "plan": {"table": "study"},
    "lakes": ["st-mary", "st-jude"],
    "rows": 441,
    "rounds": 5,
    "secure_aggregation": True,
    "training_metrics": {"accuracy": 0.8948},
}


@pytest.mark.parametrize("dp", [{"epsilon": 1.5, "delta": 1e-5, "clip_norm": 1.0}, None])
def test_a_dp_models_rows_and_training_figures_are_marked_noisy(dp):
    card = ModelCard({**FACTS, "dp": dp})
    shown, page = str(card), card._repr_html_()
    marked = dp is not None
    assert ("≈ 441" in shown) is marked and ("441" in shown)
    assert ("≈ 0.8948" in shown) is marked and ("0.8948" in shown)
    assert ("≈ 441" in page) is marked and ("≈ 0.8948" in page) is marked
    assert "≈ 5" not in shown  # the rounds are what the plan said
