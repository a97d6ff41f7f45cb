"""A model saved with ``model.save(path)`` reads back with ``collab.load_model(path)`` whole:
every learned value with its type, the same predictions, the same scikit-learn export."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

import collab
from collab.plans import LinearModel, LogisticModel, MLPModel, SoftmaxModel

FEATURES = ("age", "dose", "score")
RNG = np.random.default_rng(5)
ROWS = pd.DataFrame(RNG.normal(size=(40, 3)), columns=list(FEATURES))
ROWS.loc[::7, "dose"] = np.nan  # filled with the model's feature means


def _common(**extra):
    return dict(
        features=FEATURES,
        feature_means_=RNG.normal(size=3),
        lakes=("north", "south"),
        rounds=12,
        plan_hash="ab" * 32,
        history=({"round": 1, "loss": 0.69, "accuracy": 0.5}, {"round": 2, "loss": 0.41}),
        **extra,
    )


MODELS = {
    "logistic": LogisticModel(
        label="outcome", coef_=RNG.normal(size=3), intercept_=0.3, **_common()
    ),
    "linear": LinearModel(
        label="progression", coef_=RNG.normal(size=3), intercept_=-1.5, alpha=0.5, **_common()
    ),
    "softmax with text classes": SoftmaxModel(
        label="species",
        classes_=np.array(["Adelie", "Chinstrap", "Gentoo"]),
        coef_=RNG.normal(size=(3, 3)),
        intercept_=RNG.normal(size=3),
        **_common(),
    ),
    "mlp": MLPModel(
        label="digit",
        classes_=np.array([0, 1, 2, 3]),
        coefs_=(RNG.normal(size=(3, 5)), RNG.normal(size=(5, 4))),
        intercepts_=(RNG.normal(size=5), RNG.normal(size=4)),
        activation="tanh",
        **_common(),
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_every_family_reads_back_whole(name, tmp_path):
    model = MODELS[name]
    loaded = collab.load_model(model.save(tmp_path / "model.json"))
    assert type(loaded) is type(model)
    for f in fields(model):
        ours, theirs = getattr(model, f.name), getattr(loaded, f.name)
        if isinstance(ours, np.ndarray):
            assert theirs.dtype == ours.dtype, f.name
            np.testing.assert_array_equal(theirs, ours, err_msg=f.name)
        elif f.name in ("coefs_", "intercepts_"):
            assert len(theirs) == len(ours)
            for a, b in zip(theirs, ours, strict=True):
                np.testing.assert_array_equal(a, b)
        else:
            assert theirs == ours, f.name
    np.testing.assert_array_equal(loaded.predict(ROWS), model.predict(ROWS))
    exported = loaded.to_sklearn()
    filled = pd.DataFrame(loaded._matrix(ROWS), columns=list(FEATURES))  # sklearn: no NaN
    np.testing.assert_array_equal(exported.predict(filled), model.predict(ROWS))


def test_the_file_is_plain_json_naming_format_version_and_family(tmp_path):
    path = MODELS["softmax with text classes"].save(tmp_path / "model.json")
    document = json.loads(path.read_text())
    assert document["format"] == "collab.model" and document["format_version"] == 1
    assert document["collab_version"] == collab.__version__
    assert document["family"] == "softmax_regression"
    assert document["fields"]["classes_"]["ndarray"] == ["Adelie", "Chinstrap", "Gentoo"]


def _saved(tmp_path, change):
    path = MODELS["logistic"].save(tmp_path / "model.json")
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update(format="pickle"), r"not a saved collab model.*model\.save"),
        (lambda d: d.update(format_version=2), r"format version 2.*reads version 1"),
        (lambda d: d.update(family="random_forest"), r"'random_forest' model.*not installed"),
        (lambda d: d["fields"].update(weights=[1, 2]), r"value\(s\) weights.*does not have"),
        (lambda d: d["fields"].pop("coef_"), r"not a complete 'logistic_regression' model"),
    ],
    ids=["not a model", "newer format", "unknown family", "unknown value", "missing value"],
)
def test_a_file_that_is_not_a_readable_model_is_refused_saying_why(tmp_path, change, words):
    with pytest.raises(collab.PlanError, match=words):
        collab.load_model(_saved(tmp_path, change))


def test_a_missing_or_garbled_file_names_the_path(tmp_path):
    with pytest.raises(collab.PlanError, match=r"cannot read a model from '.*absent\.json'"):
        collab.load_model(tmp_path / "absent.json")
    (tmp_path / "garbled.json").write_text("{not json")
    with pytest.raises(collab.PlanError, match=r"cannot read a model from '.*garbled\.json'"):
        collab.load_model(tmp_path / "garbled.json")


def test_the_card_of_a_model_made_by_hand_says_what_was_not_recorded():
    card = MODELS["linear"].card()
    facts = card.to_dict()
    assert facts["plan"] is None and facts["table"] is None
    assert facts["lakes"] == ["north", "south"] and facts["rounds"] == 12
    assert facts["collab_version"] == collab.__version__
    shown = str(card)
    assert "Model card" in shown and "not recorded" in shown and "north, south" in shown
