"""Nothing outside ``collab/plans/`` names a concrete plan family: the coordinator, lakes,
engine, widgets and displays work on the family interface alone.

``collab/demo/`` is exempt: it is content (data sets and the instructor's example plans),
as the notebooks are.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import collab.plans

ROOT = Path(__file__).resolve().parents[1] / "collab"
EXEMPT = ("plans", "demo")
# the federation's own requests for pooled statistics (fed.describe) and for a model's
# evaluation (fed.evaluate): families of the protocol that the scientist's API names, as it
# names Plan
FEDERATION_REQUESTS = {"Statistics", "Evaluation"}


def concrete_names() -> tuple[set[str], set[str]]:
    """The identifiers (family and model classes) and the family names to look for."""
    families = {
        name: cls
        for name, cls in collab.plans.families().items()
        if cls.__module__.startswith("collab.")
    }
    identifiers = {cls.__name__ for cls in families.values()} - FEDERATION_REQUESTS
    generic = {"Plan", "Model", "Classifier", "Regressor", "RoundPlan", "Standardizer", "Update"}
    for name in collab.plans.__all__:
        obj = getattr(collab.plans, name)
        if isinstance(obj, type) and name not in generic and issubclass(obj, collab.plans.Model):
            identifiers.add(name)
    return identifiers, set(families)


def offences(source: str, identifiers: set[str], names: set[str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in identifiers:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in identifiers:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, a.name) for a in node.names if a.name in identifiers]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            # docstrings and messages too: a family's name as a word, or its class by path
            hits = [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)] + [
                i for i in identifiers if f"plans.{i}" in text
            ]
            found += [(node.lineno, h) for h in hits]
    return found


def test_the_checker_finds_a_named_family():
    identifiers, names = concrete_names()
    source = (
        "from ..plans import LogisticRegression\n"
        "def f(plan):\n"
        "    return isinstance(plan, plans.LinearModel) or plan.model == 'softmax_regression'\n"
        "HINT = 'collab.plans.MLPClassifier(...)'\n"
        "def g():\n"
        '    """For example ``allowed_models=[\'linear_regression\']``."""\n'
        "NOTE = 'the plain words linear regression and mlp_classifiers name nothing'\n"
    )
    assert sorted(line for line, _ in offences(source, identifiers, names)) == [1, 3, 3, 4, 6]


def test_no_module_outside_plans_names_a_concrete_family():
    identifiers, names = concrete_names()
    assert {
        "LogisticRegression",
        "LinearRegression",
        "SoftmaxRegression",
        "MLPClassifier",
    } <= identifiers
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in EXEMPT:
            continue
        found += [
            f"collab/{relative}:{line} names {what}"
            for line, what in offences(path.read_text(), identifiers, names)
        ]
    assert not found, "\n".join(found)
