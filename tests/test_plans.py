"""Plans are validated data: settings in one place, then against a lake's schema and policy."""

from __future__ import annotations

import pytest

import collab
from collab._schema import ColumnSchema, TableSchema, coarse_rows
from collab.plans import LogisticRegression, Plan
from collab.transport import recognise, render

SCHEMA = TableSchema(
    lake="st-mary",
    name="patients",
    columns=(
        ColumnSchema("patient_id", "string", False, "text", private=True),
        ColumnSchema("radius", "double", True, "numeric"),
        ColumnSchema("ward", "string", True, "text"),
        ColumnSchema("stage", "int", True, "numeric"),
        ColumnSchema("malignant", "int", False, "binary"),
    ),
    rows_at_least=100,
    extra={"meets_min_rows": True},
)


def plan(**kw: object) -> LogisticRegression:
    options: dict[str, object] = {"table": "patients", "features": ["radius"], "label": "malignant"}
    options.update(kw)
    return LogisticRegression(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"rounds": 0}, "rounds"),
        ({"features": []}, "features"),
        ({"features": ["radius", "radius"]}, "radius"),
        ({"label": "radius"}, "also listed as a feature"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"local_epochs": 2.5}, "local_epochs"),
    ],
)
def test_bad_settings_are_refused_when_the_plan_is_made(settings, words):
    with pytest.raises(collab.PlanError, match=words):
        plan(**settings)


def test_spec_round_trips_and_hash_is_stable():
    p = plan(rounds=12, local_epochs=3)
    again = Plan.from_spec(p.to_spec())
    assert again == p
    assert again.hash == p.hash
    assert plan(rounds=13).hash != p.hash


def test_threads_sharing_a_new_plan_all_read_its_hash():
    """In-process lakes share one parsed plan, and their first steps run at once: every
    thread must read the hash, whichever writes the spec first."""
    import sys
    import threading

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows
    failures: list[BaseException] = []
    try:
        for rounds in range(1, 201):
            shared = plan(features=["radius", "stage"], rounds=rounds)
            for written in ("_spec_json", "_hash"):  # as parsed, before any thread asked
                shared.__dict__.pop(written, None)
            barrier = threading.Barrier(4)
            hashes: list[str] = []

            def read(
                shared: Plan = shared, barrier: threading.Barrier = barrier, hashes=hashes
            ) -> None:
                barrier.wait()
                try:
                    hashes.append(shared.hash)
                except BaseException as exc:
                    failures.append(exc)

            threads = [threading.Thread(target=read) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            expected = plan(features=["radius", "stage"], rounds=rounds).hash
            assert failures == [] and set(hashes) == {expected}
    finally:
        sys.setswitchinterval(interval)


def test_unknown_column_names_lake_table_and_column():
    with pytest.raises(collab.PlanError) as err:
        plan(features=["radius", "Stage_x"]).check_against(SCHEMA, collab.Policy())
    assert "st-mary" in str(err.value) and "Stage_x" in str(err.value)
    assert "patients" in str(err.value)


def test_private_column_is_a_privacy_error_that_lists_what_is_allowed():
    with pytest.raises(collab.PrivacyError) as err:
        plan(features=["radius", "patient_id"]).check_against(SCHEMA, collab.Policy())
    message = str(err.value)
    assert "patient_id" in message and "st-mary" in message
    assert "radius" in message  # what to use instead


def test_text_feature_is_refused_naming_the_column():
    with pytest.raises(collab.PlanError, match="'ward' is text.*publish its categories"):
        plan(features=["radius", "ward"]).check_against(SCHEMA, collab.Policy())


def test_non_binary_label_is_refused_naming_the_column():
    with pytest.raises(collab.PlanError, match="label 'stage'.*not binary"):
        plan(label="stage").check_against(SCHEMA, collab.Policy())


def test_policy_limits_models_rounds_columns_and_rows():
    with pytest.raises(collab.PolicyViolation, match="at most 10"):
        plan(rounds=11).check_against(SCHEMA, collab.Policy(max_rounds=10))
    with pytest.raises(collab.PolicyViolation, match="radius"):
        plan().check_against(SCHEMA, collab.Policy(allowed_columns=["stage", "malignant"]))
    with pytest.raises(collab.PolicyViolation, match="allows only"):
        plan().check_against(SCHEMA, collab.Policy(allowed_models=["linear_regression"]))
    small = TableSchema(**{**SCHEMA.__dict__, "extra": {"meets_min_rows": False}})
    with pytest.raises(collab.PolicyViolation, match="fewer labelled rows"):
        plan().check_against(small, collab.Policy(min_rows=50))


def test_coarse_rows_keeps_one_significant_digit():
    assert [coarse_rows(n) for n in (0, 7, 19, 569, 12345)] == [0, 7, 10, 500, 10000]


def test_only_the_rendered_runner_is_recognised():
    p = plan()
    source = render("0" * 32, p)
    recognised = recognise(source)
    assert recognised.plan == p and recognised.job_id == "0" * 32
    tampered = source.replace("return run_request", "import os\n    return run_request")
    with pytest.raises(collab.PrivacyError, match="differs"):
        recognise(tampered)
    with pytest.raises(collab.PrivacyError, match="not a collab plan"):
        recognise("def f(data, message):\n    return data\n")
