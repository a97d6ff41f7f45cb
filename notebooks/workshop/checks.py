"""Feedback on the workshop's exercises: `%run checks.py`, answer, then run the check cell.

Each check works out the right answer from what the lakes publish, so it never holds a row.
"""

import numpy as np

import collab

_WAITING = "… not answered yet: replace None above, then run this cell again."


def _say(ok, right, hint):
    print(("✓ " + right) if ok else ("✗ Not quite. " + hint))


def check_rows(answer, fed):
    """Exercise 1.1: the row count St Jude publishes for `patients`."""
    if answer is None:
        return print(_WAITING)
    published = fed.table_schemas("patients")["st-jude"].rows_at_least
    _say(answer == published,
         f"St Jude publishes 'at least {published}' rows: the count rounded down to one "
         "significant digit, so a scientist cannot tell the exact size.",
         "Look at fed.table_schemas('patients')['st-jude'].rows_at_least, or at the schema "
         "browser's row counts.")


def check_private(answer, fed):
    """Exercise 1.2: the column no plan may use."""
    if answer is None:
        return print(_WAITING)
    private = [c.name for c in fed.table_schemas("patients")["st-mary"].columns if c.private]
    _say(answer in private,
         f"{answer!r} is private on every lake: the builder never offers it and every lake "
         "refuses a plan that names it.",
         "Which column is marked private in the schema view?")


SIZE_AND_SHAPE = ["mean_radius", "mean_perimeter", "mean_area", "mean_compactness",
                  "mean_concavity"]


def check_policy(lake):
    """Exercise 1.3: St Mary allows the ten mean_* measurements and the label, nothing else."""
    allowed = lake.policy("patients").allowed_columns
    if allowed is None:
        return print(_WAITING)
    wanted = {c.name for c in lake.schema("patients").columns if c.name.startswith("mean_")}
    wanted.add("malignant")
    _say(set(allowed) == wanted,
         "St Mary's policy now allows only the mean_* measurements and the label; the lake "
         "refuses any plan that uses another column.",
         "allowed_columns should list the ten columns starting with 'mean_' and 'malignant'.")


def check_plan(plan, fed):
    """Exercise 1.4: a 10-round plan over the five size-and-shape measurements."""
    if plan is None:
        return print(_WAITING)
    try:
        fed.check(plan)
    except collab.CollabError as refusal:
        return _say(False, "", f"The lakes would refuse it: {refusal}")
    _say(sorted(plan.features) == sorted(SIZE_AND_SHAPE) and plan.label == "malignant"
         and plan.rounds == 10,
         "Every lake accepts this plan; simulate it below before submitting.",
         f"Use label 'malignant', features {SIZE_AND_SHAPE} and rounds=10.")


def check_fewer_rounds(plan, model, baseline, test):
    """Exercise 2.1: 3 rounds of 10 local epochs against the 10 x 1 baseline."""
    if plan is None or model is None:
        return print(_WAITING)
    if (plan.rounds, plan.local_epochs) != (3, 10):
        return _say(False, "",
                    f"Your plan runs {plan.rounds} rounds x {plan.local_epochs} local epochs; "
                    "use rounds=3 and local_epochs=10.")
    X, y = test.drop(columns="malignant"), test["malignant"]
    fast, slow = model.score(X, y), baseline.score(X, y)
    passes = plan.rounds * plan.local_epochs
    _say(True,
         f"3 rounds x 10 local epochs: test accuracy {fast:.3f}; 10 rounds x 1 epoch: "
         f"{slow:.3f}. A third of the rounds (messages, approvals, waits) but {passes} passes "
         "over each lake's rows instead of 10: fewer rounds buys its speed with more local "
         "work between averages.",
         "")


def _regression_families():
    """The families that can predict a number (a family's variants count: trees with
    objective='squared_error' are a regression)."""
    names = []
    for family in collab.plans.families().values():
        if "regression" in {family.task, *(v.task for v in family.__subclasses__())}:
            names.append(family.__name__)
    return ", ".join(sorted(names))


def check_progression(plan, model, demo):
    """Exercise 2.3: a model of diabetes progression, a number, on every measurement."""
    if plan is None:
        return print(_WAITING)
    if plan.task != "regression":
        return _say(False, "",
                    f"'progression' is a number, and this {type(plan).__name__} plan is a "
                    f"{plan.task} plan: pick a family that predicts numbers "
                    f"({_regression_families()}; trees need objective='squared_error').")
    if plan.label != "progression":
        return _say(False, "", "Predict the label 'progression'.")
    if model is None:
        return print(_WAITING)
    test = demo.test_set()
    X, y = test[demo.features], test[demo.label]

    def rmse(predicted):
        return float(np.sqrt(np.mean((y - predicted) ** 2)))

    ours = rmse(model.predict(X))
    pooled = rmse(demo.centralised_model().predict(X))
    average = rmse(np.full(len(y), demo.pooled_training_set()[demo.label].mean()))
    if sorted(plan.features) != sorted(demo.features):
        return _say(False, "",
                    f"Your model's test RMSE is {ours:.1f}. Use every measurement: "
                    "features=diabetes.features.")
    held_out = float(getattr(plan, "validation", 0.0) or 0.0)
    rows = (f"it held out {held_out:.0%} of each lake's rows to validate on, so it fits the "
            "other rows, not all of them" if held_out else "it trained on every row")
    _say(True,
         f"Test RMSE {ours:.1f} (always guessing the average: {average:.1f}); scikit-learn "
         f"on the pooled rows: {pooled:.1f}. Your {type(plan).__name__} plan predicts a "
         f"number; {rows}.",
         "")


def check_can_tell(answer):
    """Exercise 3.1: can the coordinator read one hospital's update from its masked vector?"""
    if answer is None:
        return print(_WAITING)
    _say(answer is False,
         "Right: each masked vector is uniformly random on its own; only their sum means "
         "something.",
         "Compare the masked vectors of a hospital with many malignant cases and one with few.")


def check_budget(epsilons, limit=3.0):
    """Exercise 3.2: [exploration, final] epsilons that use a budget of ``limit`` exactly, the
    final model with less noise (a larger epsilon) than the exploration."""
    if epsilons is None:
        return print(_WAITING)
    epsilons = list(epsilons)
    if len(epsilons) != 2:
        return _say(False, "", f"Give two epsilons, [exploration, final]; you gave "
                    f"{len(epsilons)}.")
    explore, final = epsilons
    total = explore + final
    if not (explore > 0 and final > 0):
        return _say(False, "", "Every DP plan needs an epsilon above 0.")
    if abs(total - limit) > 1e-9:
        return _say(False, "", f"Your epsilons add up to {total:g}; the budget is {limit:g}: "
                    "use all of it, and no more.")
    if not final > explore:
        return _say(False, "",
                    f"The final model gets {final:g} and the exploration {explore:g}: the model "
                    "you keep should have less noise, so the larger epsilon.")
    _say(True,
         f"{explore:g} + {final:g} = {limit:g}, the larger share for the model you keep. An "
         f"owner who sets collab.Policy(max_epsilon={limit:g}) on this table approves both, "
         "and then has no epsilon left for this table: any further DP plan is refused.",
         "")


def _phase(detail):
    if isinstance(detail, str):
        import json

        detail = json.loads(detail)
    return detail.get("phase", "?") if isinstance(detail, dict) else "?"


def check_releases(answer, lake):
    """Exercise 3.3: how many results St Mary released."""
    if answer is None:
        return print(_WAITING)
    audit = lake.audit
    releases = audit[audit["action"] == "release"]
    released = len(releases)
    phases = releases["detail"].map(_phase).value_counts()
    parts = ", ".join(f"{count} {phase}" for phase, count in phases.items())
    _say(answer == released,
         f"{released} releases ({parts}): each is one step of an approved plan whose "
         "(masked) result left the lake; training rounds are only some of them.",
         "Count the rows of lake.audit whose action is 'release' (the cell above counts them "
         "by phase).")
