"""Each family describes its own settings, so views offer them without repeating them."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import ClassVar

import pytest

import collab


@pytest.mark.parametrize("family", sorted(collab.plans.families()))
def test_every_setting_has_a_kind_a_default_and_help(family):
    cls = collab.plans.families()[family]
    settings = cls.settings()
    names = [s["name"] for s in settings]
    assert not {"table", "features", "label", "dp", "secure_aggregation"} & set(names)
    for setting in settings:
        assert setting["kind"] in {"int", "float", "bool", "text", "ints", "numbers"}
        assert setting["help"], f"{family}.{setting['name']} has no description"


def test_types_choices_and_optional_settings_are_read_from_the_family():
    by_name = {s["name"]: s for s in collab.plans.MLPClassifier.settings()}
    assert by_name["hidden"]["kind"] == "ints" and by_name["hidden"]["default"] == [32]
    assert by_name["activation"]["choices"] == ["relu", "tanh"]
    assert by_name["classes"]["kind"] == "numbers" and by_name["classes"]["optional"]
    assert by_name["rounds"]["kind"] == "int" and not by_name["rounds"]["optional"]
    assert by_name["batch_size"]["optional"] and by_name["batch_size"]["default"] == 64
    assert by_name["server_optimizer"]["choices"] == ["sgd", "adam", "yogi", "adagrad"]
    assert by_name["rounds"]["help"].startswith("Federated rounds")
    linear = {s["name"]: s for s in collab.plans.LinearRegression.settings()}
    assert linear["solver"]["choices"] == ["auto", "exact", "rounds"]
    assert linear["alpha"]["kind"] == "float"


def _documented(cls: type) -> set[str]:
    """The names the numpydoc ``Parameters`` sections of ``cls`` and its bases list."""
    found: set[str] = set()
    for klass in cls.__mro__:
        doc = inspect.getdoc(klass) or ""
        if "Parameters\n----------" not in doc:
            continue
        section = doc.split("Parameters\n----------", 1)[1]
        for line in re.split(r"\n\S[^\n]*\n-{3,}", section)[0].splitlines():
            if line and not line.startswith(" "):
                if not re.match(r"^[A-Za-z_][\w, ]*$", line):
                    break
                found.update(name.strip() for name in line.split(","))
    return found


@pytest.mark.parametrize("family", sorted(collab.plans.families()))
def test_the_docstring_names_the_parameters_the_table_declares(family):
    cls = collab.plans.families()[family]
    table = set(collab.plans.parameters_of(cls))
    assert table <= _documented(cls), f"{family}: undocumented {table - _documented(cls)}"
    assert _documented(cls) <= {f.name for f in dataclasses.fields(cls)}


def test_the_table_gives_ranges_and_the_settings_dp_fixes():
    trees = {s["name"]: s for s in collab.plans.GradientBoostedTrees.settings()}
    assert (trees["max_depth"]["low"], trees["max_depth"]["high"]) == (1, 10)
    assert (trees["max_bins"]["low"], trees["max_bins"]["high"]) == (2, 255)
    rounds = {s["name"]: s for s in collab.plans.LogisticRegression.settings()}
    assert rounds["local_epochs"]["with_dp"] == {"value": 1}
    assert rounds["batch_size"]["with_dp"] == {"value": None}
    assert rounds["rounds"]["with_dp"] is None
    strict = [collab.Policy(max_rounds=40), collab.Policy(max_rounds=7)]
    assert collab.plans.LogisticRegression.policy_limits(strict) == {"rounds": (1, 7)}
    assert collab.plans.GradientBoostedTrees.policy_limits(strict) == {}


def test_a_control_refuses_what_the_table_refuses_before_its_box_clamps_it():
    from collab.widgets._controls import SettingControl

    family = collab.plans.GradientBoostedTrees
    setting = next(s for s in family.settings() if s["name"] == "max_depth")
    control = SettingControl(setting, check=collab.plans.parameters_of(family)["max_depth"].check)
    assert (control.widget.min, control.widget.max) == (1, 10)
    with pytest.raises(collab.PlanError, match=r"max_depth must be at most 10 \(a level's"):
        control.set(11)
    control.set(6)
    assert control.value == 6


def test_a_family_that_leaves_a_setting_out_of_its_table_is_refused():
    @dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
    class Undeclared(collab.plans.LogisticRegression):
        model: ClassVar[str] = "test_undeclared"
        momentum: float = 0.9

    with pytest.raises(collab.PlanError, match="'test_undeclared'.*no parameter for momentum"):
        collab.plans.register_family(Undeclared)
    assert "test_undeclared" not in collab.plans.families()
