"""collab.features: transforms as data, the design's arithmetic, and its scikit-learn twin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import collab
from collab import features as F
from collab.features import MEDIAN_BINS, Design


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "ward": rng.choice(["A", "B", "C", "Z"], size=n).astype(object),  # Z: not published
            "age": rng.uniform(20, 90, size=n),
            "income": rng.lognormal(10, 1, size=n),
            "smoker": rng.random(n) < 0.3,
        }
    )
    for column, share in (("ward", 0.2), ("age", 0.25), ("income", 0.1)):
        frame.loc[rng.random(n) < share, column] = None
    return frame


DESIGN = Design(
    ("ward", "age", "income", "smoker"),
    categories={"ward": ("A", "B", "C")},
    transforms=(
        F.impute("most_frequent", "ward"),
        F.impute("median", "age"),
        F.missing_indicator("age"),
        F.log1p("income"),
        F.clip("income", lower=5.0, upper=14.0),
    ),
    bounds={"age": (0.0, 120.0)},
)


def test_transforms_are_plain_data_that_round_trip():
    for transform in DESIGN.transforms:
        assert F.Transform.from_spec(transform.to_spec()) == transform
    assert F.bucketize("age", [18, 65]).to_spec() == {
        "transform": "bucketize",
        "columns": ["age"],
        "edges": [18.0, 65.0],
    }
    assert Design.from_spec(DESIGN.to_spec()) == DESIGN


def test_the_design_names_its_columns():
    assert DESIGN.output_names == (
        "ward=A",
        "ward=B",
        "ward=C",
        "age",
        "age missing",
        "clip(log1p(income), 5, 14)",
        "smoker",
    )


def test_expand_one_hot_encodes_transforms_and_flags_gaps():
    frame = pd.DataFrame(
        {
            "ward": ["B", "Z", None],
            "age": [40.0, None, 70.0],
            "income": [np.e**6 - 1, 1e9, None],
            "smoker": [True, False, True],
        }
    )
    E = DESIGN.expand(DESIGN.raw(frame), {"ward": 2.0, "age": 55.0})
    np.testing.assert_allclose(
        E,
        [
            [0, 1, 0, 40, 0, 6, 1],
            [0, 0, 0, 55, 1, 14, 0],  # another ward is no ward; the gap is filled and flagged
            [0, 0, 1, 70, 0, np.nan, 1],  # the missing ward takes the fill; income stays open
        ],
    )


def test_fitting_from_pooled_sums_matches_pandas_within_the_stated_error():
    frame = _frame()
    X = DESIGN.raw(frame)
    E = DESIGN.expand(X)
    # three lakes' sums, added: what secure aggregation gives the coordinator
    parts = np.array_split(np.arange(len(frame)), 3)
    tail = sum(DESIGN.fit_sums(X[p], E[p]) for p in parts)
    count = (~np.isnan(E)).sum(axis=0).astype(float)
    total, total_sq = np.nansum(E, axis=0), np.nansum(E * E, axis=0)
    fills, mean, std, errors = DESIGN.fit(len(frame), count, total, total_sq, tail)
    # the most frequent published ward, and the median within one bin (no cell was blanked)
    assert "ABC"[int(fills["ward"])] == frame.ward[frame.ward != "Z"].value_counts().idxmax()
    assert abs(fills["age"] - frame.age.median()) <= errors["age"] <= 120 / MEDIAN_BINS
    # the standardisation is that of the filled columns, as an imputer then a scaler
    filled = DESIGN.expand(X, fills)
    filled = np.where(np.isnan(filled), np.nanmean(filled, axis=0), filled)
    np.testing.assert_allclose(mean, filled.mean(axis=0), atol=1e-9)
    np.testing.assert_allclose(std, filled.std(axis=0), atol=1e-9)


def test_small_histogram_cells_are_blanked_and_widen_the_stated_error():
    frame = _frame(60)
    X = DESIGN.raw(frame)
    E = DESIGN.expand(X)
    tail, blanked = DESIGN.blank_small_cells(DESIGN.fit_sums(X, E), min_rows=5)
    counts = tail[:MEDIAN_BINS]
    assert blanked > 0 and np.all((counts == 0) | (counts >= 5))
    count = (~np.isnan(E)).sum(axis=0).astype(float)
    fills, _, _, errors = DESIGN.fit(
        len(frame), count, np.nansum(E, axis=0), np.nansum(E * E, axis=0), tail
    )
    assert abs(fills["age"] - frame.age.median()) <= errors["age"]
    assert errors["age"] > 120 / MEDIAN_BINS


@pytest.mark.parametrize(
    ("transforms", "match"),
    [
        ([F.log1p("ward")], "'ward'.*categorical"),
        ([F.impute("median", "ward")], "categorical column has no median"),
        ([F.impute("constant", "ward", fill_value="Q")], "'Q' is not one of its published"),
        ([F.log1p("height")], "'height', which is not one of the plan's features"),
        ([F.bucketize("age", [10, 20]), F.log1p("age")], "bucketize last"),
        ([F.impute("mean", "age"), F.impute("median", "age")], "imputed once already"),
    ],
)
def test_a_transform_that_does_not_fit_is_refused_naming_the_column(transforms, match):
    with pytest.raises(collab.PlanError, match=match):
        Design(("ward", "age"), categories={"ward": ("A", "B")}, transforms=tuple(transforms))


@pytest.mark.parametrize(
    "bad",
    [
        lambda: F.clip("x"),
        lambda: F.bucketize("x", [3, 2]),
        lambda: F.impute("mode", "x"),
        lambda: F.impute("constant", "x"),
        lambda: F.log1p(),
    ],
)
def test_bad_transform_settings_say_what_to_give(bad):
    with pytest.raises(collab.PlanError):
        bad()


def test_the_scikit_learn_column_transformer_gives_the_same_columns():
    frame = _frame()
    fills = {"ward": 1.0, "age": 50.0}
    means = np.nanmean(DESIGN.expand(DESIGN.raw(frame), fills), axis=0)
    ours = DESIGN.expand(DESIGN.raw(frame), fills)
    ours = np.where(np.isnan(ours), means, ours)
    theirs = DESIGN.to_sklearn(fills, means).transform(frame)
    np.testing.assert_allclose(theirs, ours, atol=1e-12)
    bucketed = Design(("age",), transforms=(F.bucketize("age", [40, 60]),))
    expected = bucketed.expand(bucketed.raw(frame), {})
    got = bucketed.to_sklearn({}, np.zeros(3)).transform(frame)
    np.testing.assert_array_equal(got, expected)
