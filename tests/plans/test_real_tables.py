"""Tables as they really are: categories, text labels, booleans, dates and gaps.

The Palmer penguin records (``collab.demo._penguins``: island and sex as text categories,
species as a text label, a boolean, a date, and 10-30% gaps in several columns) are split
unevenly across the session's three lakes, the last of which has no bird from Torgersen
island. Each family trains with one-hot categories and transforms in the lakes, and is held
to a scikit-learn ``Pipeline`` fitted on the pooled rows with the same steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import collab
from collab import features as F
from collab.demo._penguins import BOUNDS, ISLANDS, SEXES, SPECIES, penguins, split_penguins
from collab.plans import LinearRegression, LogisticRegression, SoftmaxRegression

TABLE = "penguins"
NUMBERS = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "delta_15n", "delta_13c"]
TRANSFORMS = [
    F.impute("median", "culmen_length_mm"),
    F.impute("most_frequent", "island"),
    F.missing_indicator("delta_15n"),
    F.clip("delta_13c", lower=-27.0, upper=-24.0),
]


@pytest.fixture(scope="module")
def birds(uneven):
    """The penguin table hosted on the three lakes; the pooled training rows and the
    held-out rows stay here."""
    from sklearn.model_selection import train_test_split

    frame = penguins()
    train, test = train_test_split(frame, test_size=0.4, random_state=0, stratify=frame.species)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    parts = split_penguins(train)
    uneven.host(
        TABLE,
        train,
        parts,
        bounds=BOUNDS,
        max_epsilon=None,
        categories={"island": ISLANDS, "sex": SEXES, "species": SPECIES},
    )
    return train, test, parts


def _columns(numbers, categorical, *, median="culmen_length_mm", log=None):
    """scikit-learn's ColumnTransformer of the same steps as ``TRANSFORMS`` (+ log1p)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    categories = {"island": ISLANDS, "sex": SEXES, "species": SPECIES}
    parts = []
    for c in categorical:
        steps = [SimpleImputer(strategy="most_frequent")] if c == "island" else []
        encoder = OneHotEncoder(categories=[categories[c]], handle_unknown="ignore")
        parts.append((c, make_pipeline(*steps, encoder), [c]))
    for c in numbers:
        steps = []
        if c == log:
            steps.append(FunctionTransformer(np.log1p))
        if c == "delta_13c":
            steps.append(FunctionTransformer(np.clip, kw_args={"a_min": -27.0, "a_max": -24.0}))
        strategy = "median" if c == median else "mean"
        parts.append((c, make_pipeline(*steps, SimpleImputer(strategy=strategy)), [c]))
    parts.append(("gap", MissingIndicator(features="all"), ["delta_15n"]))
    return ColumnTransformer(parts)


def _categorical(frame, columns):
    """Missing values as NaN, as scikit-learn's imputers expect them."""
    out = frame.copy()
    for c in columns:
        out[c] = out[c].astype(object).where(out[c].notna(), np.nan)
    return out


@pytest.fixture(scope="module")
def trained(uneven, birds):
    """The three families trained once on the penguin table."""
    train, _, _ = birds
    common = {"table": TABLE, "transforms": TRANSFORMS}
    species = SoftmaxRegression(
        features=["island", "sex", "clutch_completion", *NUMBERS],
        label="species",
        rounds=10,
        local_epochs=10,
        l2=0.01,
        **common,
    )
    labelled = int(train.sex.notna().sum())
    sex = LogisticRegression(
        features=["species", "island", "clutch_completion", *NUMBERS, "body_mass_g"],
        label="sex",
        rounds=10,
        local_epochs=10,
        l2=1.0 / labelled,  # scikit-learn's default penalty (C=1) on these rows
        **{**common, "transforms": [*TRANSFORMS, F.log1p("body_mass_g")]},
    )
    mass = LinearRegression(
        features=["island", "sex", "clutch_completion", *NUMBERS],
        label="body_mass_g",
        **common,
    )
    return {
        name: uneven.train(plan)
        for name, plan in (("species", species), ("sex", sex), ("mass", mass))
    }


def _sklearn(kind, features, label, train, *, log=None):
    from sklearn.linear_model import LinearRegression as SkLinear
    from sklearn.linear_model import LogisticRegression as SkLogistic
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    categorical = [c for c in features if c in ("island", "sex", "species")]
    numbers = [c for c in features if c not in categorical]
    rows = _categorical(train[train[label].notna()], categorical)
    estimator = SkLinear() if kind == "linear" else SkLogistic(max_iter=5000)
    pipeline = make_pipeline(_columns(numbers, categorical, log=log), StandardScaler(), estimator)
    return pipeline.fit(rows[features], rows[label])


@pytest.mark.parametrize(
    ("name", "kind", "log"),
    [("species", "softmax", None), ("sex", "logistic", "body_mass_g"), ("mass", "linear", None)],
)
def test_trains_within_reach_of_the_same_scikit_learn_pipeline(trained, birds, name, kind, log):
    train, test, _ = birds
    job, model = trained[name]
    label = model.label
    features = list(model.feature_names_in_)
    held = test[test[label].notna()].reset_index(drop=True)
    central = _sklearn(kind, features, label, train, log=log)
    reference = _categorical(held, ["island", "sex", "species"])
    if kind == "linear":
        ours = float(np.sqrt(np.mean((model.predict(held) - held[label]) ** 2)))
        theirs = float(np.sqrt(np.mean((central.predict(reference[features]) - held[label]) ** 2)))
        assert ours <= theirs * 1.02, (ours, theirs)
        print(f"{name}: test RMSE collab {ours:.2f}, scikit-learn Pipeline {theirs:.2f}")
    else:
        ours = model.score(held, held[label])
        theirs = central.score(reference[features], held[label])
        assert ours >= theirs - 0.01, (ours, theirs)
        print(f"{name}: test accuracy collab {ours:.4f}, scikit-learn Pipeline {theirs:.4f}")
        assert set(model.classes_) == set(SPECIES if name == "species" else SEXES)
    # the exported Pipeline predicts what the model predicts, from the same plain frame
    exported = model.to_sklearn()
    assert list(exported.named_steps) == ["inputs", "model"]
    assert (exported.predict(held[features]) == model.predict(held)).all()
    if kind != "linear":
        np.testing.assert_allclose(
            exported.predict_proba(held[features]), model.predict_proba(held), atol=1e-12
        )
    # every lake trained, the one without Torgersen birds too
    assert len(model.lakes) == 3 and job.history["rows"].iloc[-1] == train[label].notna().sum()


def test_the_model_keeps_its_categories_transforms_and_fitted_fills(trained, birds):
    train, _, _ = birds
    _, model = trained["species"]
    assert model.features[:3] == ("island=Biscoe", "island=Dream", "island=Torgersen")
    assert "delta_15n missing" in model.features
    assert "clip(delta_13c, -27, -24)" in model.features
    fills = model.inputs["fills"]
    # the most frequent island over the pooled training rows, from the one-hot sums
    assert ISLANDS[int(fills["island"])] == train.island.value_counts().idxmax()
    # the median read off the pooled histogram whose small cells each lake blanked: within
    # its stated error of pandas' median, which is a few bins at most
    error = model.inputs["fill_errors"]["culmen_length_mm"]
    low, high = BOUNDS["culmen_length_mm"]
    assert abs(fills["culmen_length_mm"] - train.culmen_length_mm.median()) <= error
    assert 0 < error <= high - low
    # a saved model reads back with its design and predicts the same
    frame = train.head(40)
    loaded = collab.plans.load_model(model.save(_tmp_file()))
    assert (loaded.predict(frame) == model.predict(frame)).all()


def _tmp_file():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp()) / "model.json"


def test_a_value_outside_the_categories_and_a_missing_one_are_no_category(trained):
    _, model = trained["mass"]
    frame = pd.DataFrame(
        {
            "island": ["Biscoe", "Atlantis", None],
            "sex": ["male", "male", "male"],
            "clutch_completion": [True, True, True],
            **{c: [np.nan] * 3 for c in NUMBERS},
        }
    )
    # an unknown island and a missing one (island is imputed with the most frequent) differ
    # from Biscoe only where the design says: the unknown one has no island column set
    design = model.design
    expanded = design.expand(design.raw(frame), model.inputs["fills"])
    assert expanded[0, :3].tolist() == [1.0, 0.0, 0.0]
    assert expanded[1, :3].tolist() == [0.0, 0.0, 0.0]
    fill = int(model.inputs["fills"]["island"])
    assert expanded[2, :3].tolist() == [float(i == fill) for i in range(3)]


@pytest.mark.parametrize(
    ("family", "settings", "match"),
    [
        (
            SoftmaxRegression,
            {"features": ["bird_id", "culmen_depth_mm"], "label": "species"},
            "lake 'north', table 'penguins': feature 'bird_id' is text .* publish its categories",
        ),
        (
            SoftmaxRegression,
            {"features": ["date_egg", "culmen_depth_mm"], "label": "species"},
            "lake 'north', table 'penguins': feature 'date_egg' is a date",
        ),
        (
            SoftmaxRegression,
            {"features": ["culmen_depth_mm"], "label": "bird_id"},
            "lake 'north', table 'penguins': label 'bird_id' is text .* no published classes",
        ),
        (
            LogisticRegression,
            {"features": ["culmen_depth_mm"], "label": "species"},
            "lake 'north', table 'penguins': label 'species' is categorical .* not binary",
        ),
        (
            SoftmaxRegression,
            {
                "features": ["island", "culmen_depth_mm"],
                "label": "species",
                "transforms": [F.log1p("island")],
            },
            "table 'penguins' .*log1p\\(\\) on column 'island': the column is categorical",
        ),
        (
            SoftmaxRegression,
            {
                "features": ["island", "culmen_depth_mm"],
                "label": "species",
                "transforms": [F.impute("most_frequent", "culmen_depth_mm")],
            },
            "lake 'north', table 'penguins': impute\\('most_frequent'\\) does not fit column "
            "'culmen_depth_mm'",
        ),
        (
            SoftmaxRegression,
            {
                "features": ["island", "culmen_depth_mm"],
                "label": "species",
                "encoding": {"categories": {"island": ["Biscoe", "Dream"]}},
            },
            "lake 'north', table 'penguins': the plan's categories of 'island' .* are not the "
            "ones this lake publishes",
        ),
        (
            SoftmaxRegression,
            {
                "features": ["island", "clutch_completion"],
                "label": "species",
                "transforms": [F.impute("median", "clutch_completion")],
            },
            "lake 'north', table 'penguins': impute\\('median'\\) on 'clutch_completion' .* "
            "publishes none",
        ),
    ],
)
def test_bad_input_is_refused_naming_lake_table_and_column(uneven, birds, family, settings, match):
    plan = family(table=TABLE, **settings)
    with pytest.raises(collab.PlanError, match=match):
        uneven.federation.check(plan)
    with pytest.raises(collab.PlanError, match=match):  # simulate refuses it the same way
        uneven.federation.simulate(plan)


def test_a_dp_plan_fits_no_value_from_exact_statistics():
    with pytest.raises(collab.PlanError, match="impute\\('median'\\) on 'age' .* DP plan"):
        SoftmaxRegression(
            table=TABLE,
            features=["age"],
            label="species",
            transforms=[F.impute("median", "age")],
            dp=collab.DP(epsilon=1.0),
        )


def test_simulate_runs_categories_transforms_and_dp_on_synthetic_rows(uneven, birds):
    plan = SoftmaxRegression(
        table=TABLE,
        features=["island", "sex", "clutch_completion", *NUMBERS],
        label="species",
        transforms=TRANSFORMS,
        rounds=2,
    )
    job = uneven.federation.simulate(plan)
    model = job.result(progress=False)
    assert job.plan.encoding["categories"]["island"] == ISLANDS
    assert list(model.classes_) == SPECIES and model.inputs is not None
    dp = SoftmaxRegression(
        table=TABLE,
        features=["island", *NUMBERS],
        label="species",
        transforms=[F.impute("constant", "island", fill_value="Dream")],
        rounds=2,
        dp=collab.DP(epsilon=1.0),
    )
    model = uneven.federation.simulate(dp).result(progress=False)
    assert model.inputs["fills"] == {"island": 1.0}
