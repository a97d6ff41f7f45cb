"""Tables as they really are, in the widgets: the plan builder offers categorical and boolean
features and text labels with published categories, adds collab.features transforms by the
kind of each column, and the schema browser and display show each column's kind and its
categories."""

from __future__ import annotations

import pandas as pd
import pytest

import collab
from collab import _display
from collab import features as F
from collab._display import SCHEMA_MIME
from collab.widgets import PlanBuilder, SchemaBrowser
from collab.widgets._choices import choices
from collab.widgets._transform_list import TransformList

WARDS = ["cardio", "neuro", "ortho", "onco"]  # as the admissions lake publishes them


def values(widget: object) -> tuple[str, ...]:
    """The values a Dropdown or SelectMultiple offers (its options are (name, value))."""
    return tuple(value for _, value in widget.options)  # type: ignore[attr-defined]


def names(widget: object) -> dict[str, str]:
    """Value -> the name a Dropdown or SelectMultiple shows for it."""
    return {value: name for name, value in widget.options}  # type: ignore[attr-defined]


def builder_on(fed: collab.Federation, **settings: object) -> PlanBuilder:
    builder = PlanBuilder(fed)
    builder.set(**{"label": "outcome", **settings})
    return builder


# the plan builder's columns ------------------------------------------------------------------
def test_builder_offers_categorical_and_boolean_features_never_text_or_dates(
    admissions_fed: collab.Federation,
) -> None:
    builder = builder_on(admissions_fed)
    assert values(builder.features) == ("age", "income", "ward", "smoker", "discharge")
    shown = names(builder.features)
    assert shown["ward"] == "ward (categorical: 4)"
    assert shown["smoker"] == "smoker (boolean)"
    assert shown["discharge"] == "discharge (categorical: 3)"
    assert shown["age"] == "age"
    withheld = builder.withheld.value
    assert "admitted" in withheld and "a date, not a number" in withheld
    assert "note" in withheld and "text without published categories" in withheld
    with pytest.raises(collab.PolicyViolation, match="'note' cannot be a feature: text"):
        builder.set(features=["age", "note"])
    with pytest.raises(collab.PolicyViolation, match="'admitted' cannot be a feature: a date"):
        builder.set(features=["admitted"])
    builder.set(features=["age", "ward", "smoker"])
    plan = builder.plan
    assert plan.features == ("age", "ward", "smoker")
    assert "Ready" in builder.message.value


def test_classifier_labels_follow_the_published_categories(
    admissions_fed: collab.Federation,
) -> None:
    builder = PlanBuilder(admissions_fed)
    assert builder.model.value == "logistic_regression"
    # two classes: a boolean, or a text label with two published categories
    assert values(builder.label) == ("smoker", "outcome")
    assert names(builder.label)["outcome"] == "outcome (categorical: 2)"
    with pytest.raises(collab.PlanError, match="not a label logistic_regression can learn"):
        builder.set(label="discharge")  # three categories
    builder.set(model="softmax_regression", label="discharge")
    assert values(builder.label) == ("ward", "smoker", "outcome", "discharge")
    assert type(builder.plan) is collab.plans.SoftmaxRegression
    builder.set(model="linear_regression")
    assert values(builder.label) == ("age", "income")


# the transforms editor -----------------------------------------------------------------------
def test_transforms_are_offered_by_kind_and_become_the_plans_transforms(
    admissions_fed: collab.Federation,
) -> None:
    builder = builder_on(admissions_fed, features=["age", "income", "ward", "smoker"])
    editor = builder.transforms
    editor.transform.value = "log1p"
    assert values(editor.columns) == ("age", "income")  # numbers only: never ward or smoker
    assert editor.lower.layout.display == "none" and editor.edges.layout.display == "none"
    assert editor.strategy.layout.display == "none"  # only an imputation has one
    assert "none" not in (editor.transform.layout.display, editor.columns.layout.display)

    editor.transform.value = "impute"
    editor.strategy.value = "median"
    # a median is read off a histogram over the published range: age has one, income not
    assert values(editor.columns) == ("age",)
    assert "none is published for income" in editor.note.value
    editor.columns.value = ("age",)
    editor.add_button.click()
    assert "collab-ok" in editor.message.value

    editor.strategy.value = "most_frequent"
    assert values(editor.columns) == ("ward", "smoker")
    assert names(editor.columns)["ward"] == "ward (categorical: 4)"
    editor.columns.value = ("ward",)
    editor.add_button.click()

    assert [row.text.value.count("impute") for row in editor.rows] == [1, 1]
    assert builder.transforms.model.rows() == [
        'impute("median", "age")',
        'impute("most_frequent", "ward")',
    ]
    expected = [
        {"transform": "impute", "columns": ["age"], "strategy": "median", "fill_value": None},
        {
            "transform": "impute",
            "columns": ["ward"],
            "strategy": "most_frequent",
            "fill_value": None,
        },
    ]
    plan = builder.plan
    assert [t.to_spec() for t in plan.transforms] == expected
    assert plan.to_spec()["transforms"] == expected
    code = collab.plans.LogisticRegression(
        table="admissions",
        features=["age", "income", "ward", "smoker"],
        label="outcome",
        transforms=[F.impute("median", "age"), F.impute("most_frequent", "ward")],
    )
    assert plan == code and plan.hash == code.hash
    assert "Ready" in builder.message.value
    assert "impute(&quot;median&quot;, &quot;age&quot;)" in builder._repr_mimebundle_()["text/html"]

    # each column is imputed once: ward is no longer offered for an imputation
    assert values(editor.columns) == ("smoker",)
    editor.rows[0].remove.click()
    assert builder.transforms.model.rows() == ['impute("most_frequent", "ward")']
    assert [t.to_spec() for t in builder.plan.transforms] == expected[1:]


def test_transform_settings_are_read_and_refused_with_a_message(
    admissions_fed: collab.Federation,
) -> None:
    builder = builder_on(admissions_fed, features=["age", "income", "ward"])
    editor = builder.transforms
    editor.transform.value = "clip"
    assert editor.lower.layout.display == "" and editor.upper.layout.display == ""
    editor.columns.value = ("income",)
    editor.lower.value = "zero"
    editor.add_button.click()
    assert "lower must be a number" in editor.message.value
    assert builder.transforms.model.rows() == []
    editor.lower.value = "0"
    editor.add_button.click()

    editor.transform.value = "bucketize"
    editor.columns.value = ("age",)
    editor.edges.value = "65, 40"
    editor.add_button.click()
    assert "increasing" in editor.message.value
    editor.edges.value = "40, 65"
    editor.add_button.click()

    editor.transform.value = "impute"
    editor.strategy.value = "mean"
    assert values(editor.columns) == ("income",)  # age is bucketized: it has no mean now
    editor.strategy.value = "constant"
    assert editor.fill_value.layout.display == ""
    editor.columns.value = ("ward", "income")
    editor.fill_value.value = "0"
    editor.add_button.click()
    assert "a category for categorical columns and a number for the others" in (
        editor.message.value
    )
    editor.columns.value = ("income",)
    editor.fill_value.value = "none"
    editor.add_button.click()
    assert "fill_value must be a number" in editor.message.value
    editor.fill_value.value = "0"
    editor.add_button.click()

    editor.transform.value = "missing_indicator"
    editor.columns.value = ("age", "ward")
    editor.add_button.click()

    assert builder.transforms.model.rows() == [
        'clip("income", lower=0)',
        'bucketize("age", [40, 65])',
        'impute("constant", "income", fill_value=0)',
        'missing_indicator("age", "ward")',
    ]
    code = [
        F.clip("income", lower=0),
        F.bucketize("age", [40, 65]),
        F.impute("constant", "income", fill_value=0),
        F.missing_indicator("age", "ward"),
    ]
    assert [t.to_spec() for t in builder.plan.transforms] == [t.to_spec() for t in code]

    # a column no longer chosen leaves the transforms
    builder.set(features=["income", "ward"])
    assert builder.transforms.model.rows() == [
        'clip("income", lower=0)',
        'impute("constant", "income", fill_value=0)',
        'missing_indicator("ward")',
    ]
    assert builder.plan.features == ("income", "ward")


def test_transforms_set_from_code_must_fit_each_columns_kind(
    admissions_fed: collab.Federation,
) -> None:
    builder = builder_on(admissions_fed, features=["age", "ward", "smoker"])
    with pytest.raises(collab.PlanError, match=r"does not fit column 'ward' \(categorical\)"):
        builder.set(transforms=[F.log1p("ward")])
    assert "does not fit column" in builder.message.value
    with pytest.raises(collab.PlanError, match="'income', which is not a chosen feature"):
        builder.set(transforms=[F.log1p("income")])
    with pytest.raises(collab.PlanError, match=r"does not fit column 'smoker' \(boolean\)"):
        builder.set(transforms=[F.impute("mean", "smoker")])
    builder.set(transforms=[F.standardize("age"), F.impute("most_frequent", "smoker")])
    assert builder.transforms.model.rows() == [
        'standardize("age")',
        'impute("most_frequent", "smoker")',
    ]
    assert len(builder.transforms.rows) == 2
    assert builder.plan.transforms == (F.standardize("age"), F.impute("most_frequent", "smoker"))
    with pytest.raises(TypeError, match="unknown setting"):
        builder.set(encoding={"categories": {}})  # filled in from the owners' schemas


def test_transform_list_offers_transforms_by_kind() -> None:
    def schema(lake: str) -> collab.TableSchema:
        columns = (
            collab.ColumnSchema("x", "double", True, "numeric", bounds=(0, 1)),
            collab.ColumnSchema("flag", "int", True, "binary"),
            collab.ColumnSchema("ok", "boolean", True, "boolean"),
            collab.ColumnSchema("sex", "string", True, "categorical", categories=("F", "M")),
            collab.ColumnSchema("y", "int", False, "binary"),
        )
        return collab.TableSchema(lake, "t", columns)

    found = choices(
        {"a": schema("a"), "b": schema("b")},
        {"a": collab.Policy(), "b": collab.Policy()},
        collab.plans.families(),
    )
    model = TransformList()
    model.reset(found)
    model.follow(["x", "flag", "ok", "sex"])
    offered = {
        (t, s): model.offered(t, s)
        for t, s in [
            ("log1p", None),
            ("clip", None),
            ("bucketize", None),
            ("standardize", None),
            ("impute", "mean"),
            ("impute", "median"),
            ("impute", "most_frequent"),
            ("impute", "constant"),
            ("missing_indicator", None),
        ]
    }
    numbers = ("x",)
    assert offered == {
        ("log1p", None): numbers,
        ("clip", None): numbers,
        ("bucketize", None): numbers,
        ("standardize", None): numbers,
        ("impute", "mean"): numbers,
        ("impute", "median"): numbers,
        ("impute", "most_frequent"): ("flag", "ok", "sex"),
        ("impute", "constant"): ("x", "flag", "ok", "sex"),
        ("missing_indicator", None): ("x", "flag", "ok", "sex"),
    }
    assert model.settings_of("impute", "constant") == ("strategy", "fill_value")
    assert "log1p() fits numeric columns" in model.note("log1p")
    # a constant fill of a categorical column is one of its categories, as typed
    with pytest.raises(collab.PlanError, match="'X' is not one of the categories of 'sex'"):
        model.add("impute", ["sex"], strategy="constant", fill_value="X")
    added = model.add("impute", ["sex"], strategy="constant", fill_value="M")
    assert added.to_spec()["fill_value"] == "M"
    assert model.offered("impute", "most_frequent") == ("flag", "ok")  # sex is imputed
    with pytest.raises(collab.PlanError, match="choose the column"):
        model.add("log1p", [])


# choices across lakes ------------------------------------------------------------------------
def test_a_categorical_column_is_offered_only_with_the_same_categories_everywhere() -> None:
    def schema(lake: str, wards: tuple[str, ...]) -> collab.TableSchema:
        columns = (
            collab.ColumnSchema("x", "double", False, "numeric"),
            collab.ColumnSchema("ward", "string", True, "categorical", categories=wards),
            collab.ColumnSchema("y", "int", False, "binary"),
        )
        return collab.TableSchema(lake, "t", columns)

    schemas = {"a": schema("a", ("cardio", "neuro")), "b": schema("b", ("cardio", "onco"))}
    policies = {"a": collab.Policy(), "b": collab.Policy()}
    found = choices(schemas, policies, collab.plans.families())
    assert found.features == ("x", "y")
    assert found.withheld["ward"] == "its categories differ between lakes"
    # the schema view marks the lake whose categories differ from the first lake's
    payload = _display.schema_payload_from_frame(
        "t",
        pd.DataFrame(
            [
                {
                    "column": "ward",
                    "type": "string",
                    "nullable": True,
                    "kind": "categorical",
                    "private": False,
                    "description": "",
                    "a": "ok",
                    "b": "ok",
                }
            ]
        ),
        ["a", "b"],
    )
    _display.with_published_categories(payload, schemas)
    ward = payload["columns"][0]
    assert ward["categories"] == ["cardio", "neuro"]
    assert ward["presence"] == {"a": "ok", "b": "differs: categories"}
    assert _display.mismatches(payload) == ["ward"]


# the schema browser and display ---------------------------------------------------------------
def test_schema_browser_and_display_show_kinds_and_categories(
    admissions_fed: collab.Federation,
) -> None:
    browser = SchemaBrowser(admissions_fed)
    detail = browser.detail.value
    assert "<th>categories</th>" in detail
    assert "<td>categorical (4)</td><td>cardio, neuro, ortho, onco</td>" in detail
    assert "<td>date</td><td></td>" in detail  # a date, no categories
    assert "<td>boolean</td>" in detail
    text = repr(browser)
    assert "categorical (3)  home, rehab, care home" in text
    assert "categorical: ward, outcome, discharge" in repr(admissions_fed.schema_view("admissions"))

    payload = admissions_fed.schema_view("admissions")._repr_mimebundle_()[SCHEMA_MIME]
    columns = {c["name"]: c for c in payload["columns"]}
    assert columns["ward"]["kind"] == "categorical"
    assert columns["ward"]["categories"] == WARDS
    assert columns["outcome"]["categories"] == ["improved", "worse"]
    assert columns["smoker"]["kind"] == "boolean" and columns["smoker"]["categories"] is None
    assert columns["admitted"]["kind"] == "date"

    schema = admissions_fed.table_schemas("admissions")["ward-clinic"]
    own = schema._repr_mimebundle_()[SCHEMA_MIME]
    assert {c["name"]: c["categories"] for c in own["columns"]}["discharge"] == [
        "home",
        "rehab",
        "care home",
    ]
    assert "cardio, neuro, ortho, onco" in _display.text(schema._display_()[0])


def test_long_category_lists_are_cut_with_a_count() -> None:
    many = [f"c{i}" for i in range(12)]
    assert _display.categories_text(many) == "c0, c1, c2, c3, c4, c5, c6, c7 +4 more"
    assert _display.categories_text(many[:8]) == ", ".join(many[:8])
    assert _display.categories_text(None) == ""
    column = collab.ColumnSchema("code", "string", True, "categorical", categories=many)
    schema = collab.TableSchema("a", "t", (column,))
    report = _display.text(schema._display_()[0])
    assert "categorical (12)  c0, c1, c2, c3, c4, c5, c6, c7 +4 more" in report
    payload = schema._repr_mimebundle_()[SCHEMA_MIME]
    assert payload["columns"][0]["categories"] == many  # the payload keeps them all
