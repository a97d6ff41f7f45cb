"""What the Data Lakes panel lists of a column: its kind and the categories its owner
publishes, as JSON."""

from __future__ import annotations

import json

import numpy as np

import collab
from collab._jupyter._directory import column_info


def test_a_categorical_column_carries_its_categories() -> None:
    ward = collab.ColumnSchema(
        "ward", "string", True, "categorical", categories=("cardio", "neuro", "ortho")
    )
    assert column_info(ward) == {
        "name": "ward",
        "type": "string",
        "private": False,
        "kind": "categorical",
        "categories": ["cardio", "neuro", "ortho"],
    }


def test_numeric_categories_and_other_kinds_are_plain_json() -> None:
    grade = collab.ColumnSchema(
        "grade", "int", False, "categorical", categories=(np.int64(1), np.int64(2))
    )
    assert column_info(grade)["categories"] == [1, 2]
    json.dumps(column_info(grade))
    for kind in ("numeric", "binary", "boolean", "date", "text"):
        column = collab.ColumnSchema("x", "double", True, kind)
        assert column_info(column)["kind"] == kind
        assert column_info(column)["categories"] is None
