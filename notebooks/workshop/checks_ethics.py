"""Feedback on workshop 4's exercises: `%run checks_ethics.py`, answer, then run the check cell.

The same way of answering as checks.py (whose helpers it reuses): each check works out the
right answer from what the model, the lakes or the instructor's held-out rows say.
"""

import math
import runpy
from pathlib import Path

_checks = runpy.run_path(str(Path(__file__).resolve().with_name("checks.py")))
_WAITING, _say = _checks["_WAITING"], _checks["_say"]

STUDY = "study"


def _number(answer):
    return isinstance(answer, int | float) and not isinstance(answer, bool)


def check_epsilon_spent(answer, card):
    """Exercise 4.1: the epsilon the model's training spent on each hospital (from its card)."""
    if answer is None:
        return print(_WAITING)
    dp = card.to_dict().get("dp") or {}
    epsilon = dp.get("epsilon")
    if not _number(answer):
        return _say(False, "", f"Answer with a number, not {type(answer).__name__}.")
    if epsilon is not None and math.isclose(answer, epsilon):
        return _say(True,
                    f"Training spent epsilon {epsilon:g} on every hospital: each lake charged "
                    "it to your budget when it approved the plan, whatever the number of "
                    "rounds (the accountant spreads it over them).",
                    "")
    if dp.get("delta") is not None and math.isclose(answer, dp["delta"]):
        hint = (f"{answer:g} is delta, the small chance the guarantee fails; the board asks "
                "for epsilon.")
    elif dp.get("clip_norm") is not None and math.isclose(answer, dp["clip_norm"]):
        hint = (f"{answer:g} is the clip norm (how far one patient can move a gradient), not "
                "the privacy spent.")
    else:
        hint = "Look for 'differential privacy' in the card's Privacy section."
    _say(False, "", hint)


def check_external(metrics, model, demo):
    """Exercise 4.2: the model's metrics on Northgate's rows, which no training lake holds."""
    if metrics is None:
        return print(_WAITING)
    if not isinstance(metrics, dict) or "confusion_matrix" not in metrics:
        return _say(False, "",
                    "Keep what model.evaluate(...) returns: a dict of metrics with a "
                    "confusion_matrix.")
    test = demo.test_set()
    rows = int(sum(sum(row) for row in metrics["confusion_matrix"]))
    if rows != len(test):
        training = len(demo.pooled_training_set())
        if rows == training:
            hint = (f"These metrics count {rows} rows: the training hospitals' own patients, "
                    "whom the model has already seen. Evaluate on the federation that holds "
                    "only Northgate.")
        else:
            hint = (f"These metrics count {rows} rows; Northgate holds {len(test)}. Evaluate "
                    "on the federation you joined by Northgate's URL, table 'patients'.")
        return _say(False, "", hint)
    local = model.score(test[demo.features], test[demo.label])
    if not math.isclose(metrics["accuracy"], local, abs_tol=1e-9):
        return _say(False, "",
                    f"These metrics count {rows} rows, but not for this model (accuracy "
                    f"{metrics['accuracy']:.3f}, while this model scores {local:.3f} there). "
                    "Evaluate `model`.")
    # the figures come last, after ≈: a DP model's metrics change from run to run
    _say(True,
         f"Northgate's {rows} patients, never seen in training. Only pooled sums left "
         "Northgate, and they give the same figures as scoring its rows here (which only the "
         f"instructor can do): accuracy ≈ {local:.3f}, recall {metrics['recall']:.3f} "
         "(the share of malignant biopsies found).",
         "")


def check_budget_left(answer, fed):
    """Exercise 4.3: the epsilon left on `study` at every hospital after training and the
    two statistics."""
    if answer is None:
        return print(_WAITING)
    if not _number(answer):
        return _say(False, "", f"Answer with a number, not {type(answer).__name__}.")
    left = fed.budget(STUDY)
    if left.nunique() != 1:
        return _say(False, "", f"The hospitals report different amounts left: {dict(left)}.")
    now = float(left.iloc[0])
    limit = next(iter(fed.policies(STUDY).values())).max_epsilon
    if math.isclose(answer, now, abs_tol=1e-9):
        return _say(True,
                    f"{now:g} of the owners' {limit:g} is left on every hospital: training and "
                    "each DP statistic were charged to the same budget. A plan asking for "
                    f"more than {now:g} is refused before it runs.",
                    "")
    if limit is not None and math.isclose(answer, limit):
        hint = f"{limit:g} is the owners' limit; what you spent comes off it."
    elif answer > now:
        hint = ("More than is left: every DP statistic (describe, crosstab) was charged too, "
                "not only training.")
    else:
        hint = "Less than is left: count only the requests the lakes approved."
    _say(False, "", hint + " fed.budget('study') says it.")
