"""Each family describes its own settings, so views offer them without repeating them."""

from __future__ import annotations

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
