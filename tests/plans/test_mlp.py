"""A small perceptron across three uneven lakes, against scikit-learn's MLPClassifier."""

from __future__ import annotations

import numpy as np
import pytest

import collab
from collab.plans import MLPClassifier


@pytest.mark.parametrize(
    ("name", "rounds", "local_epochs"), [("biopsies", 10, 10), ("digits", 10, 5)]
)
def test_accuracy_within_one_point_of_scikit_learn(uneven, name, rounds, local_epochs):
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    table = uneven.tables[name]
    plan = MLPClassifier(
        table=name,
        features=table.features,
        label=table.label,
        hidden=(32,),
        rounds=rounds,
        local_epochs=local_epochs,
    )
    _job, model = uneven.train(plan)
    test = table.test
    central = make_pipeline(
        StandardScaler(), SkMLPClassifier(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)
    ).fit(table.pooled[table.features], table.pooled[table.label])
    theirs = central.score(test[table.features], test[table.label])
    ours = model.score(test, test[table.label])
    assert ours >= theirs - 0.01, (ours, theirs)
    exported = model.to_sklearn()
    X = test[table.features]
    np.testing.assert_allclose(exported.predict_proba(X), model.predict_proba(test), atol=1e-12)
    assert (exported.predict(X) == model.predict(test)).all()
    assert [W.shape for W in model.coefs_] == [
        (len(table.features), 32),
        (32, len(model.classes_) if len(model.classes_) > 2 else 1),
    ]


def test_fedprox_pulls_local_steps_towards_the_global_weights():
    from collab.plans import Update  # noqa: F401  (the typed result of a local step)

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200, 4))
    y = (Z[:, 0] - Z[:, 1] > 0).astype(float)
    settings = dict(table="t", features=list("abcd"), label="y", local_epochs=20, batch_size=None)
    plain = MLPClassifier(**settings, hidden=(8,))
    prox = MLPClassifier(**settings, hidden=(8,), fedprox_mu=5.0)
    w0 = plain.initial_weights(4)
    request = {"weights": w0.tolist(), "label_mean": 0.0, "label_std": 1.0}
    far = np.linalg.norm(plain.local_update(Z, y, request).values)
    near = np.linalg.norm(prox.local_update(Z, y, request).values)
    assert near < 0.6 * far


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"hidden": ()}, "hidden"),
        ({"hidden": (0,)}, "hidden"),
        ({"activation": "gelu"}, "activation"),
        ({"fedprox_mu": -1.0}, "fedprox_mu"),
        ({"server_optimizer": "lbfgs"}, "server_optimizer"),
        ({"server_learning_rate": 0.0}, "server_learning_rate"),
    ],
)
def test_bad_settings_are_refused_naming_them(settings, words):
    with pytest.raises(collab.PlanError, match=words):
        MLPClassifier(table="t", features=["a"], label="y", **settings)
