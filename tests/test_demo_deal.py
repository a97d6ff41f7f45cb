"""collab.demo.deal: a demo data set dealt to hospitals as hospitals() deals it, no lakes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import collab
from collab.demo import deal


@pytest.mark.parametrize(("dataset", "split"), [("wine", "skewed"), ("diabetes", "iid")])
def test_deal_splits_the_training_rows_among_hospitals_and_holds_out_the_test_rows(
    dataset: str, split: str
) -> None:
    dealt = deal(3, dataset, split, seed=1)
    rows = np.concatenate(dealt.parts)
    assert len(dealt.parts) == 3 and all(len(p) > 0 for p in dealt.parts)
    assert sorted(rows.tolist()) == list(range(len(dealt.train)))  # each row to one hospital
    assert len(dealt.train) + len(dealt.test) == len(dealt.frame)
    assert len(dealt.test) == math.ceil(0.2 * len(dealt.frame))  # as scikit-learn rounds
    assert dealt.label not in dealt.features and dealt.data.identifier not in dealt.features
    for column in dealt.features:
        low, high = dealt.bounds[column]
        assert low <= dealt.frame[column].min() and dealt.frame[column].max() <= high
    assert (dealt.label in dealt.bounds) == (dealt.data.task == "regression")
    again = deal(3, dataset, split, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(dealt.parts, again.parts, strict=True))


def test_deal_names_the_data_sets_it_ships() -> None:
    with pytest.raises(collab.CollabError, match="breast_cancer.*not 'iris'"):
        deal(3, "iris")


@pytest.mark.parametrize(("dataset", "column"), [("diabetes", "progression"), ("wine", "proline")])
def test_a_split_by_a_column_gives_each_hospital_one_range_of_it(dataset, column) -> None:
    dealt = deal(3, dataset, ("by", column), seed=0)
    rows = np.concatenate(dealt.parts)
    assert sorted(rows.tolist()) == list(range(len(dealt.train)))
    assert max(len(p) for p in dealt.parts) - min(len(p) for p in dealt.parts) <= 1
    ranges = [dealt.train[column].iloc[p] for p in dealt.parts]
    for lower, higher in itertools.pairwise(ranges):
        assert lower.max() <= higher.min()  # the first hospital the lowest values


@pytest.mark.parametrize("split", [("by", "height"), ("by",), ("sorted", "bmi"), "by"])
def test_a_split_by_an_unknown_column_is_refused_naming_the_columns(split) -> None:
    with pytest.raises(collab.CollabError, match=r"split.*(bmi|'iid')"):
        deal(3, "diabetes", split)
