"""Bad input across the public API, one row a case: each call raises a collab error (or
TypeError/ValueError) naming the parameter, column, table or lake and saying what to do,
before anything is stored at a lake or sent to one, and without Spark's own logs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lake_processes import SCIENTIST

import collab
from collab import features as F
from collab.plans import (
    BoostedTreesClassifier,
    GradientBoostedTrees,
    LinearRegression,
    LogisticRegression,
    MLPClassifier,
    SoftmaxRegression,
)
from collab.plans._logistic import LogisticModel
from collab.plans._mlp import MLPModel
from collab.plans._softmax import SoftmaxModel

LAKE = "bad-inputs"
PW = SCIENTIST[1]


@dataclass
class World:
    lake: collab.Lake
    fed: collab.Federation
    root: Path
    path: Path
    models: dict[str, Any]
    files: dict[str, Path]


def _frame(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "id": [f"P{i:04d}" for i in range(n)],
            "age": rng.integers(20, 90, n),
            "bmi": np.round(rng.normal(27, 4, n), 1),
            "ward": rng.choice(["a", "b", "c"], n),
            "outcome": rng.integers(0, 2, n),
        }
    )


def _models() -> dict[str, Any]:
    """One model of each kind, made from learned values (no training)."""
    common = {"features": ("age", "bmi"), "feature_means_": [55.0, 27.0]}
    tree = {
        "feature": [0, 0, 0],
        "threshold": [50.0, 0.0, 0.0],
        "missing_left": [True, False, False],
        "left": [1, -1, -1],
        "right": [2, -1, -1],
        "value": [0.0, -1.0, 1.0],
        "count": [10.0, 5.0, 5.0],
        "gain": [1.0, 0.0, 0.0],
        "depth": [0, 1, 1],
    }
    return {
        "logistic": LogisticModel(label="outcome", coef_=[0.1, -0.2], intercept_=0.5, **common),
        "softmax": SoftmaxModel(
            label="ward",
            coef_=np.zeros((3, 2)),
            intercept_=np.zeros(3),
            classes_=np.array(["a", "b", "c"]),
            **common,
        ),
        "mlp": MLPModel(
            label="outcome",
            coefs_=(np.ones((2, 3)), np.ones((3, 1))),
            intercepts_=(np.zeros(3), np.zeros(1)),
            **common,
        ),
        "trees": BoostedTreesClassifier(
            label="outcome",
            trees_=(tree,),
            baseline_=0.0,
            bin_edges_=((50.0,), (27.0,)),
            **common,
        ),
    }


def _corrupted(root: Path, models: dict[str, Any]) -> dict[str, Path]:
    """Saved models with one learned value changed, and files that are no model."""
    files: dict[str, Path] = {}

    def write(name: str, model: str, **fields: Any) -> None:
        document = models[model].to_document()
        for key, value in fields.items():
            if value is None:
                document["fields"].pop(key)
            else:
                document["fields"][key] = value
        files[name] = root / f"{name}.json"
        files[name].write_text(json.dumps(document))

    def array(values: Any) -> dict[str, Any]:
        return {"ndarray": values, "dtype": "<f8"}

    write("coef_length", "logistic", coef_=array([1.0, 2.0, 3.0]))
    write("coef_text", "logistic", coef_="abc")
    write("coef_nan", "logistic", coef_=array([1.0, float("nan")]))
    write("intercept_text", "logistic", intercept_="zero")
    write("means_length", "logistic", feature_means_=array([1.0]))
    write("features_text", "logistic", features="age")
    write("no_coef", "logistic", coef_=None)
    write("softmax_shape", "softmax", coef_=array([[0.0, 0.0, 0.0]] * 3))
    write("mlp_chain", "mlp", coefs_=[array([[1.0] * 3] * 2), array([[1.0]] * 4)])
    bad_tree = dict(models["trees"].trees_[0], feature=[5, 0, 0])
    write("tree_input", "trees", trees_=[bad_tree])
    write("tree_edges", "trees", bin_edges_=[[50.0]])
    document = models["logistic"].to_document()
    document["fields"]["bogus"] = 1
    files["unknown_field"] = root / "unknown_field.json"
    files["unknown_field"].write_text(json.dumps(document))
    document = dict(models["logistic"].to_document(), family="no_such_family")
    files["family"] = root / "family.json"
    files["family"].write_text(json.dumps(document))
    files["not_json"] = root / "not_json.json"
    files["not_json"].write_text("{not json")
    files["not_model"] = root / "not_model.json"
    files["not_model"].write_text(json.dumps({"hello": 1}))
    files["xlsx"] = root / "patients.xlsx"
    files["xlsx"].write_bytes(b"PK\x03\x04 not really a workbook")
    files["junk_parquet"] = root / "junk.parquet"
    files["junk_parquet"].write_bytes(b"not parquet at all")
    return files


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("bad-inputs")
    path = root / "patients.parquet"
    _frame().to_parquet(path, index=False)
    lake = collab.Lake.launch(LAKE)
    try:
        lake.add_table(
            "patients",
            path,
            private_columns="id",  # one name, not the columns 'i' and 'd'
            bounds={"age": (0, 120)},
            categories={"ward": ["a", "b", "c"]},
        )
        lake.add_scientist(*SCIENTIST, name="Ada")
        fed = collab.connect([lake], email=SCIENTIST[0], password=PW)
        models = _models()
        yield World(lake, fed, root, path, models, _corrupted(root, models))
    finally:
        lake.stop()


def _plan(**settings: Any) -> LogisticRegression:
    return LogisticRegression(
        **{"table": "patients", "features": ["age", "bmi"], "label": "outcome", **settings}
    )


Call = Callable[[World], Any]
# (id, call, error class, fragments the message must hold, table the call must not store)
CASES: list[tuple[str, Call, type[BaseException], tuple[str, ...], str | None]] = [
    # --- Lake.launch ---------------------------------------------------------------------
    ("launch-name", lambda w: collab.Lake.launch("no spaces"), collab.CollabError,
     ("'no spaces'", "lake name", "letters, digits"), None),
    ("launch-name-number", lambda w: collab.Lake.launch(42), collab.CollabError,
     ("42", "lake name"), None),
    ("launch-port-text", lambda w: collab.Lake.launch("x", port="abc"), TypeError,
     ("port", "whole number from 1 to 65535", "'abc'"), None),
    ("launch-port-range", lambda w: collab.Lake.launch("x", port=70000), ValueError,
     ("port", "1 to 65535", "70000"), None),
    ("launch-host", lambda w: collab.Lake.launch("x", host=5), TypeError,
     ("host", "text"), None),
    # --- add_table -------------------------------------------------------------------------
    ("table-bounds-text", lambda w: w.lake.add_table("t", w.path, bounds={"ward": (0, 1)}),
     collab.CollabError, ("'ward'", "string", "bounds only for numeric", "categories"), "t"),
    ("table-bounds-order", lambda w: w.lake.add_table("t", w.path, bounds={"age": (10, 5)}),
     collab.CollabError, ("'age'", "low < high"), "t"),
    ("table-bounds-text-pair", lambda w: w.lake.add_table("t", w.path, bounds={"age": "0-9"}),
     collab.CollabError, ("'age'", "two finite numbers", "(0, 120)"), "t"),
    ("table-bounds-nan",
     lambda w: w.lake.add_table("t", w.path, bounds={"age": (0, float("nan"))}),
     collab.CollabError, ("'age'", "finite"), "t"),
    ("table-bounds-list", lambda w: w.lake.add_table("t", w.path, bounds=[("age", (0, 1))]),
     TypeError, ("bounds must map column names",), "t"),
    ("table-bounds-unknown", lambda w: w.lake.add_table("t", w.path, bounds={"nope": (0, 1)}),
     collab.CollabError, ("no column 'nope'", "its columns are"), "t"),
    ("table-private-number", lambda w: w.lake.add_table("t", w.path, private_columns=[1]),
     TypeError, ("private_columns", "column names"), "t"),
    ("table-private-unknown",
     lambda w: w.lake.add_table("t", w.path, private_columns=["nope"]),
     collab.CollabError, ("table 't' has no column 'nope'", "its columns are"), "t"),
    ("table-private-dict", lambda w: w.lake.add_table("t", w.path, private_columns={"id": 1}),
     TypeError, ("private_columns", "list of column names"), "t"),
    ("table-categories-text",
     lambda w: w.lake.add_table("t", w.path, categories={"ward": "abc"}),
     collab.CollabError, ("categories of 'ward'", "list of values"), "t"),
    ("table-categories-empty", lambda w: w.lake.add_table("t", w.path, categories={"ward": []}),
     collab.CollabError, ("categories of 'ward'", "at least one value"), "t"),
    ("table-categories-twice",
     lambda w: w.lake.add_table("t", w.path, categories={"ward": ["a", "a"]}),
     collab.CollabError, ("'ward'", "more than once"), "t"),
    ("table-categories-type",
     lambda w: w.lake.add_table("t", w.path, categories={"age": ["young"]}),
     collab.CollabError, ("'age'", "must be numbers"), "t"),
    ("table-categories-unknown",
     lambda w: w.lake.add_table("t", w.path, categories={"nope": ["a"]}),
     collab.CollabError, ("no column 'nope'",), "t"),
    ("table-categories-list", lambda w: w.lake.add_table("t", w.path, categories=["ward"]),
     TypeError, ("categories must map column names",), "t"),
    ("table-description-number",
     lambda w: w.lake.add_table("t", w.path, column_descriptions={"age": 5}),
     TypeError, ("column_descriptions['age']", "text"), "t"),
    ("table-description-unknown",
     lambda w: w.lake.add_table("t", w.path, column_descriptions={"nope": "x"}),
     collab.CollabError, ("no column 'nope'",), "t"),
    ("table-description", lambda w: w.lake.add_table("t", w.path, description=5),
     TypeError, ("description must be text",), "t"),
    ("table-policy-dict", lambda w: w.lake.add_table("t", w.path, policy={"min_rows": 5}),
     TypeError, ("policy must be collab.Policy",), "t"),
    ("table-no-file", lambda w: w.lake.add_table("t", w.root / "missing.parquet"),
     collab.CollabError, ("no file or folder at", "missing.parquet", "Parquet, CSV"), "t"),
    ("table-suffix", lambda w: w.lake.add_table("t", w.files["xlsx"]), collab.CollabError,
     ("table 't'", "'patients.xlsx'", ".xlsx", "parquet, csv, json, orc, delta",
      "to_parquet"), "t"),
    ("table-format-unknown", lambda w: w.lake.add_table("t", w.path, format="excel"),
     collab.CollabError, ("unknown format 'excel'", "parquet, csv"), "t"),
    ("table-format-number", lambda w: w.lake.add_table("t", w.path, format=5), TypeError,
     ("format must be one of parquet",), "t"),
    ("table-not-parquet", lambda w: w.lake.add_table("t", w.files["junk_parquet"]),
     collab.CollabError, ("table 't'", "junk.parquet", "Check the path and format"), "t"),
    ("table-name", lambda w: w.lake.add_table("no good", w.path), collab.CollabError,
     ("'no good'", "table name"), "no good"),
    ("table-name-taken", lambda w: w.lake.add_table("patients", w.path), collab.CollabError,
     ("already hosts a table 'patients'", "pick another name"), None),
    ("table-catalog-empty", lambda w: w.lake.add_table("t", "catalog:"), collab.CollabError,
     ("table 't'", "catalog:db.table"), "t"),
    ("table-catalog-format",
     lambda w: w.lake.add_table("t", "catalog:db.x", format="csv"), collab.CollabError,
     ("catalog table", "leave out format='csv'"), "t"),
    # --- add_view --------------------------------------------------------------------------
    ("view-unknown-table", lambda w: w.lake.add_view("v", "SELECT * FROM visitors"),
     collab.CollabError, ("view 'v'", "reads 'visitors'", "add_table"), "v"),
    ("view-unknown-column", lambda w: w.lake.add_view("v", "SELECT nope FROM patients"),
     collab.CollabError, ("view 'v'", "`nope`", "line 1 pos 7", "one Spark SQL query"), "v"),
    ("view-syntax", lambda w: w.lake.add_view("v", "SELECT age FROM patients WHERE age >"),
     collab.CollabError, ("view 'v'", "PARSE_SYNTAX_ERROR", "line 1"), "v"),
    ("view-no-sql", lambda w: w.lake.add_view("v", None), collab.CollabError,
     ("view 'v'", "give its SQL"), "v"),
    ("view-statement", lambda w: w.lake.add_view("v", "DROP TABLE patients"),
     collab.CollabError, ("view 'v'", "Spark cannot run its SQL"), "v"),
    ("view-bounds-text",
     lambda w: w.lake.add_view("v", "SELECT * FROM patients", bounds={"ward": (0, 1)}),
     collab.CollabError, ("view 'v'", "'ward'", "bounds only for numeric"), "v"),
    ("view-categories-text",
     lambda w: w.lake.add_view("v", "SELECT * FROM patients", categories={"ward": "ab"}),
     collab.CollabError, ("view 'v'", "categories of 'ward'", "list of values"), "v"),
    ("view-categories-list",
     lambda w: w.lake.add_view("v", "SELECT * FROM patients", categories=["ward"]),
     TypeError, ("view 'v'", "categories must map"), "v"),
    ("view-private-number",
     lambda w: w.lake.add_view("v", "SELECT * FROM patients", private_columns=5),
     TypeError, ("view 'v'", "private_columns"), "v"),
    ("view-name-taken", lambda w: w.lake.add_view("patients", "SELECT * FROM patients"),
     collab.CollabError, ("already hosts a table 'patients'",), None),
    # --- add_scientist, set_policy, Policy -------------------------------------------------
    ("scientist-password-none", lambda w: w.lake.add_scientist("b@x.org", None), TypeError,
     ("password must be text", "None"), None),
    ("scientist-password-short", lambda w: w.lake.add_scientist("b@x.org", "short"),
     collab.CollabError, ("password", "too short", "8 or more"), None),
    ("scientist-email", lambda w: w.lake.add_scientist("nobody", PW), collab.CollabError,
     ("'nobody'", "not an email address"), None),
    ("scientist-email-none", lambda w: w.lake.add_scientist(None, PW), TypeError,
     ("email must be text",), None),
    ("set-policy-table", lambda w: w.lake.set_policy("nope", collab.Policy()),
     collab.CollabError, ("no table 'nope'", "patients"), None),
    ("set-policy-dict", lambda w: w.lake.set_policy("patients", {"min_rows": 5}), TypeError,
     ("table 'patients'", "policy must be collab.Policy"), None),
    ("policy-min-rows", lambda w: collab.Policy(min_rows=0), ValueError,
     ("min_rows", "at least 1"), None),
    ("policy-min-rows-float", lambda w: collab.Policy(min_rows=2.5), TypeError,
     ("min_rows", "whole number"), None),
    ("policy-max-rounds", lambda w: collab.Policy(max_rounds=0), ValueError,
     ("max_rounds", "at least 1"), None),
    ("policy-max-epsilon", lambda w: collab.Policy(max_epsilon=-1), ValueError,
     ("max_epsilon", "positive"), None),
    ("policy-columns", lambda w: collab.Policy(allowed_columns=[1]), TypeError,
     ("allowed_columns", "column names"), None),
    ("policy-models", lambda w: collab.Policy(allowed_models=[None]), TypeError,
     ("allowed_models", "family names"), None),
    ("policy-flag", lambda w: collab.Policy(auto_approve="yes"), TypeError,
     ("auto_approve", "True or False"), None),
    ("policy-unknown", lambda w: collab.Policy(min_row=5), TypeError, ("min_row",), None),
    # --- connect ---------------------------------------------------------------------------
    ("connect-lake", lambda w: collab.connect(w.lake, email=SCIENTIST[0], password=PW),
     TypeError, ("list of lakes", "connect([lake]"), None),
    ("connect-url", lambda w: collab.connect("http://x:1", email=SCIENTIST[0], password=PW),
     TypeError, ("list of lakes", "'http://x:1'"), None),
    ("connect-empty", lambda w: collab.connect([], email=SCIENTIST[0], password=PW),
     collab.CollabError, ("empty list of lakes", "at least one lake"), None),
    ("connect-item", lambda w: collab.connect([5], email=SCIENTIST[0], password=PW),
     TypeError, ("Lake objects or http:// URLs", "5"), None),
    ("connect-password", lambda w: collab.connect([w.lake], email=SCIENTIST[0]),
     collab.CollabError, ("email= and password=",), None),
    ("connect-role", lambda w: collab.connect([w.lake], email="a", password="b", role="x"),
     collab.CollabError, ("role must be 'scientist' or 'owner'", "'x'"), None),
    # --- the federation --------------------------------------------------------------------
    ("schema-table", lambda w: w.fed.schema("nope"), collab.PlanError,
     ("no lake has a table 'nope'", "patients"), None),
    ("mock-n-float", lambda w: w.fed.mock("patients", n=2.5), TypeError,
     ("n must be a whole number", "2.5"), None),
    ("mock-n-zero", lambda w: w.fed.mock("patients", n=0), ValueError,
     ("n must be a whole number", "at least 1"), None),
    ("mock-seed", lambda w: w.fed.mock("patients", seed="x"), TypeError,
     ("seed must be a whole number",), None),
    ("mock-table", lambda w: w.fed.mock("nope"), collab.PlanError, ("'nope'",), None),
    ("describe-column", lambda w: w.fed.describe("patients", ["nope"]), collab.PlanError,
     ("'nope'", "patients"), None),
    ("describe-private", lambda w: w.fed.describe("patients", "id"), collab.CollabError,
     ("'id'", "private"), None),
    ("describe-columns-number", lambda w: w.fed.describe("patients", 5), TypeError,
     ("columns must be a column name or a list",), None),
    ("describe-table", lambda w: w.fed.describe("nope"), collab.PlanError, ("'nope'",), None),
    ("describe-dp", lambda w: w.fed.describe("patients", ["age"], dp=1.0), collab.PlanError,
     ("dp must be collab.DP",), None),
    ("describe-text", lambda w: w.fed.describe("patients", ["id", "age"]), collab.CollabError,
     ("'id'",), None),
    ("histogram-bounds", lambda w: w.fed.histogram("patients", "bmi"), collab.PlanError,
     ("'bmi'", "no published bounds", "bounds="), None),
    ("histogram-column", lambda w: w.fed.histogram("patients", "nope"), collab.PlanError,
     ("'nope'",), None),
    ("crosstab-column", lambda w: w.fed.crosstab("patients", "ward", "nope"),
     collab.PlanError, ("'nope'",), None),
    ("budget-table", lambda w: w.fed.budget("nope"), collab.PlanError,
     ("no table 'nope'", "patients"), None),
    ("evaluate-model", lambda w: w.fed.evaluate("model", "patients"), collab.PlanError,
     ("expected a trained collab model", "str"), None),
    ("submit-plan", lambda w: w.fed.submit("plan"), collab.PlanError,
     ("expected a collab plan", "str"), None),
    ("submit-column", lambda w: w.fed.submit(_plan(features=["age", "nope"])),
     collab.PlanError, ("'nope'", "patients"), None),
    ("submit-private", lambda w: w.fed.submit(_plan(features=["age", "id"])),
     collab.CollabError, ("'id'", "private"), None),
    ("submit-label", lambda w: w.fed.submit(_plan(features=["age"], label="bmi")),
     collab.PlanError,
     ("label 'bmi'", "not binary", "LinearRegression"), None),
    ("submit-table", lambda w: w.fed.submit(_plan(table="nope")), collab.PlanError,
     ("'nope'",), None),
    ("submit-rounds", lambda w: w.fed.submit(_plan(rounds=600)), collab.CollabError,
     ("600", "500"), None),
    ("simulate-column", lambda w: w.fed.simulate(_plan(features=["nope"])), collab.PlanError,
     ("'nope'",), None),
    ("check-threshold", lambda w: w.fed.check(_plan(secure_threshold=3)), collab.PlanError,
     ("secure_threshold 3", "lower it"), None),
    # --- plans -----------------------------------------------------------------------------
    ("plan-features-empty", lambda w: _plan(features=[]), collab.PlanError,
     ("features must name at least one column",), None),
    ("plan-features-number", lambda w: _plan(features=[1]), collab.PlanError,
     ("features", "column names", "1"), None),
    ("plan-features-twice", lambda w: _plan(features=["age", "age"]), collab.PlanError,
     ("features name age more than once",), None),
    ("plan-label-feature", lambda w: _plan(features=["age", "outcome"]), collab.PlanError,
     ("label 'outcome' is also listed as a feature",), None),
    ("plan-table", lambda w: _plan(table=""), collab.PlanError, ("table must be",), None),
    ("plan-label", lambda w: _plan(label=5), collab.PlanError, ("label must be",), None),
    ("plan-rounds", lambda w: _plan(rounds=0), collab.PlanError, ("rounds",), None),
    ("plan-learning-rate", lambda w: _plan(learning_rate=-1), collab.PlanError,
     ("learning_rate",), None),
    ("plan-threshold", lambda w: _plan(secure_threshold=0), collab.PlanError,
     ("secure_threshold", "at least 1"), None),
    ("plan-secure", lambda w: _plan(secure_aggregation="yes"), collab.PlanError,
     ("secure_aggregation must be True or False",), None),
    ("plan-dp", lambda w: _plan(dp={"epsilon": 1}), collab.PlanError,
     ("dp must be collab.DP",), None),
    ("plan-classes", lambda w: _plan(classes=[1, 2, 3]), collab.PlanError,
     ("two classes", "SoftmaxRegression"), None),
    ("plan-transforms", lambda w: _plan(transforms="log1p"), collab.PlanError,
     ("transforms must be a list",), None),
    ("plan-transform-column", lambda w: _plan(transforms=[F.log1p("nope")]),
     collab.PlanError, ("'nope'",), None),
    ("plan-unknown", lambda w: _plan(round=3), TypeError, ("round",), None),
    ("linear-alpha", lambda w: LinearRegression(
        table="patients", features=["age"], label="bmi", alpha=-1), collab.PlanError,
     ("alpha",), None),
    ("softmax-rounds", lambda w: SoftmaxRegression(
        table="patients", features=["age"], label="ward", rounds=-2), collab.PlanError,
     ("rounds",), None),
    ("mlp-hidden", lambda w: MLPClassifier(
        table="patients", features=["age"], label="outcome", hidden=(0,)), collab.PlanError,
     ("hidden",), None),
    ("trees-depth", lambda w: GradientBoostedTrees(
        table="patients", features=["age"], label="outcome", max_depth=0), collab.PlanError,
     ("max_depth",), None),
    ("trees-count", lambda w: GradientBoostedTrees(
        table="patients", features=["age"], label="outcome", n_trees=0), collab.PlanError,
     ("n_trees",), None),
    # --- DP --------------------------------------------------------------------------------
    ("dp-epsilon", lambda w: collab.DP(epsilon=0), collab.PlanError,
     ("epsilon", "positive number"), None),
    ("dp-epsilon-text", lambda w: collab.DP(epsilon="1"), collab.PlanError,
     ("epsilon", "'1'"), None),
    ("dp-delta-text", lambda w: collab.DP(epsilon=1, delta="x"), collab.PlanError,
     ("delta must be a number", "'x'"), None),
    ("dp-delta-range", lambda w: collab.DP(epsilon=1, delta=2), collab.PlanError,
     ("delta must be between 0 and 1",), None),
    ("dp-clip", lambda w: collab.DP(epsilon=1, clip_norm=-1), collab.PlanError,
     ("clip_norm must be positive",), None),
    # --- transforms ------------------------------------------------------------------------
    ("log1p-none", lambda w: F.log1p(), collab.PlanError, ("log1p() needs the column",), None),
    ("log1p-number", lambda w: F.log1p(5), collab.PlanError,
     ("log1p() takes column names",), None),
    ("clip-limits", lambda w: F.clip("age"), collab.PlanError, ("lower=", "upper="), None),
    ("clip-order", lambda w: F.clip("age", lower=5, upper=1), collab.PlanError,
     ("lower must be below upper",), None),
    ("bucketize-edges", lambda w: F.bucketize("age", "x"), collab.PlanError,
     ("bucketize()", "edge", "finite number", "'x'"), None),
    ("impute-strategy", lambda w: F.impute("sometimes", "age"), collab.PlanError,
     ("'sometimes'", "mean"), None),
    ("impute-fill", lambda w: F.impute("constant", "age"), collab.PlanError,
     ("fill_value",), None),
    # --- load_model ------------------------------------------------------------------------
    ("load-none", lambda w: collab.load_model(None), TypeError,
     ("load_model takes the path", "None"), None),
    ("load-missing", lambda w: collab.load_model(w.root / "none.json"), collab.PlanError,
     ("cannot read a model from", "none.json"), None),
    ("load-not-json", lambda w: collab.load_model(w.files["not_json"]), collab.PlanError,
     ("cannot read a model from", "not_json.json"), None),
    ("load-not-model", lambda w: collab.load_model(w.files["not_model"]), collab.PlanError,
     ("not a saved collab model", "model.save"), None),
    ("load-family", lambda w: collab.load_model(w.files["family"]), collab.PlanError,
     ("'no_such_family'", "not installed"), None),
    ("load-unknown-field", lambda w: collab.load_model(w.files["unknown_field"]),
     collab.PlanError, ("bogus",), None),
    ("load-coef-length", lambda w: collab.load_model(w.files["coef_length"]), collab.PlanError,
     ("coef_", "shape (3,)", "2 inputs (age, bmi)", "save the model again"), None),
    ("load-coef-text", lambda w: collab.load_model(w.files["coef_text"]), collab.PlanError,
     ("coef_", "must hold numbers", "'abc'"), None),
    ("load-coef-nan", lambda w: collab.load_model(w.files["coef_nan"]), collab.PlanError,
     ("coef_", "finite number"), None),
    ("load-intercept-text", lambda w: collab.load_model(w.files["intercept_text"]),
     collab.PlanError, ("intercept_", "must be a number", "'zero'"), None),
    ("load-means-length", lambda w: collab.load_model(w.files["means_length"]),
     collab.PlanError, ("feature_means_", "shape (1,)"), None),
    ("load-features-text", lambda w: collab.load_model(w.files["features_text"]),
     collab.PlanError, ("features", "list of column names"), None),
    ("load-no-coef", lambda w: collab.load_model(w.files["no_coef"]), collab.PlanError,
     ("not a complete", "coef_"), None),
    ("load-softmax-shape", lambda w: collab.load_model(w.files["softmax_shape"]),
     collab.PlanError, ("softmax_regression", "coef_", "(3, 3)", "(3, 2)"), None),
    ("load-mlp-chain", lambda w: collab.load_model(w.files["mlp_chain"]), collab.PlanError,
     ("coefs_[1]", "(4, 1)", "(3, 1)"), None),
    ("load-tree-input", lambda w: collab.load_model(w.files["tree_input"]), collab.PlanError,
     ("trees_[0]", "input 5 of 2"), None),
    ("load-tree-edges", lambda w: collab.load_model(w.files["tree_edges"]), collab.PlanError,
     ("bin_edges_", "1 lists for 2 inputs"), None),
    ("from-json-trees", lambda w: BoostedTreesClassifier.from_json(
        w.files["tree_input"].read_text()), collab.PlanError, ("trees_[0]", "input 5"), None),
    # --- predict ---------------------------------------------------------------------------
    ("predict-text", lambda w: w.models["logistic"].predict(
        pd.DataFrame({"age": ["old", "41"], "bmi": [20.0, 30.0]})), collab.PlanError,
     ("column 'age'", "'old'", "not a number", "pd.to_numeric"), None),
    ("predict-dict", lambda w: w.models["logistic"].predict({"age": [1], "bmi": [2]}),
     TypeError, ("pandas DataFrame", "age, bmi", "pd.DataFrame(X)"), None),
    ("predict-column", lambda w: w.models["logistic"].predict(pd.DataFrame({"age": [1]})),
     collab.PlanError, ("no column(s) bmi",), None),
    ("predict-shape", lambda w: w.models["logistic"].predict(np.zeros((2, 3))),
     collab.PlanError, ("(rows, 2)", "(2, 3)"), None),
    ("predict-string", lambda w: w.models["logistic"].predict("age"), TypeError,
     ("pandas DataFrame", "str"), None),
    ("predict-array-text", lambda w: w.models["logistic"].predict([["a", 1.0]]),
     collab.PlanError, ("not a number", "age, bmi"), None),
    ("proba-dict", lambda w: w.models["softmax"].predict_proba({"age": [1]}), TypeError,
     ("pandas DataFrame",), None),
    ("proba-text-mlp", lambda w: w.models["mlp"].predict_proba(
        pd.DataFrame({"age": [1.0], "bmi": ["heavy"]})), collab.PlanError,
     ("column 'bmi'", "'heavy'"), None),
    ("trees-text", lambda w: w.models["trees"].predict(
        pd.DataFrame({"age": ["x"], "bmi": [1.0]})), collab.PlanError, ("column 'age'",), None),
    ("trees-dict", lambda w: w.models["trees"].predict({"age": [1]}), TypeError,
     ("pandas DataFrame",), None),
]  # fmt: skip


def _requests(lake: collab.Lake) -> int:
    return len(lake._datasite.code_requests())


@pytest.mark.parametrize(
    ("call", "error", "fragments", "stored"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_a_bad_input_is_refused_naming_what_was_wrong(
    world: World,
    capfd: pytest.CaptureFixture[str],
    call: Call,
    error: type[BaseException],
    fragments: tuple[str, ...],
    stored: str | None,
) -> None:
    tables, sent = list(world.lake.tables), _requests(world.lake)
    capfd.readouterr()
    with pytest.raises(error) as raised:
        call(world)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "collab_view" not in message and "Traceback" not in message
    assert world.lake.tables == tables  # nothing stored
    if stored is not None:
        assert stored not in world.lake.tables
    assert _requests(world.lake) == sent  # nothing sent
    logged = capfd.readouterr().err
    assert "\tat org.apache" not in logged and "QueryContextLogger" not in logged


def test_the_cases_cover_every_part_of_the_public_api() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 90
    for prefix in ("launch", "table", "view", "scientist", "policy", "connect", "mock",
                   "describe", "histogram", "crosstab", "budget", "evaluate", "submit",
                   "simulate", "plan", "dp", "load", "predict"):  # fmt: skip
        assert any(i.startswith(prefix) for i in ids), prefix


def test_one_name_where_a_list_is_expected_is_that_one_name(world: World) -> None:
    """A single string is one column, as pandas reads ``df["age"]``: never its letters."""
    assert world.lake.schema("patients").column("id").private
    assert _plan(features="age").features == ("age",)
    assert collab.Policy(allowed_columns="age").allowed_columns == ("age",)
    policy = collab.Policy(allowed_models="logistic_regression")
    assert policy.allowed_models == ("logistic_regression",)
    assert world.fed.mock("patients", n=3).shape == (3, 6)


def test_models_made_from_learned_values_load_back_and_predict_as_before(
    world: World, tmp_path: Path
) -> None:
    X = pd.DataFrame({"age": [30.0, np.nan, 70.0], "bmi": [22.0, 31.0, np.nan]})
    for name, model in world.models.items():
        loaded = collab.load_model(model.save(tmp_path / f"{name}.json"))
        np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    # a missing value is the feature's mean: 0.1 * 55 - 0.2 * 22 + 0.5
    logistic = world.models["logistic"]
    assert logistic.decision_function(X)[1] == pytest.approx(0.1 * 55 - 0.2 * 31 + 0.5)
    assert logistic.predict(X.to_numpy()).tolist() == logistic.predict(X).tolist()
