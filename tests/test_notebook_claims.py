"""What the notebooks' text says about their outputs is what the stored outputs show.

Each claim names a markdown cell (by a phrase in it), what the text quotes (a pattern), the
code cell the text refers to (by a phrase in its source), what its stored output shows (a
pattern), and how the two must agree. When a notebook's text or its cells change, this table
changes with them: a claim whose text or cell is gone fails rather than passing unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@dataclass(frozen=True)
class Claim:
    notebook: str
    text: str  # a phrase of the markdown cell that makes the claim
    quoted: str  # a pattern over that cell: what the text quotes (groups, else the match)
    cell: str  # a phrase of the code cell the claim is about
    shown: str  # a pattern over that cell's stored output text
    agree: Callable[[list[str], list[str]], bool]  # quoted values, shown values
    how: str  # what agreeing means, for the failure message


def _numbers(values: list[str]) -> list[float]:
    return [float(v) for v in values]


def every_quoted_number_is_shown(tolerance: float) -> Callable[[list[str], list[str]], bool]:
    def agree(quoted: list[str], shown: list[str]) -> bool:
        return bool(quoted) and all(
            any(abs(q - s) <= tolerance for s in _numbers(shown)) for q in _numbers(quoted)
        )

    return agree


def shown_within_quoted_range(quoted: list[str], shown: list[str]) -> bool:
    low, high = min(_numbers(quoted)), max(_numbers(quoted))
    return bool(shown) and all(low <= s <= high for s in _numbers(shown))


def same_words(quoted: list[str], shown: list[str]) -> bool:
    return bool(quoted) and set(quoted) <= set(shown)


def drift_shown_then_recovered(quoted: list[str], shown: list[str]) -> bool:
    """The text says many local epochs drift from the pooled fit and FedProx brings the model
    back: shown as the test RMSE of the pooled fit, 50 local epochs, and FedProx."""
    if not quoted or len(shown) != 3:
        return False
    pooled, drifted, proximal = _numbers(shown)
    return drifted > pooled + 3 and abs(proximal - pooled) < 1.5


def accuracy_grows_with_epsilon(quoted: list[str], shown: list[str]) -> bool:
    """The text says a smaller epsilon means less accuracy: shown as pairs (epsilon, mean)."""
    pairs = sorted(zip(_numbers(shown[0::2]), _numbers(shown[1::2]), strict=True))
    accuracies = [a for _, a in pairs]
    return bool(quoted) and len(pairs) >= 2 and accuracies == sorted(accuracies)


AUDIT_WORDS = r"decision \((\w+)(?:,\s*(\w+))?\)\s+and\s+each\s+(release)"
AUDIT_SHOWN = r"^(\w[\w ]*?)\s+\d+$"
CLAIMS = [
    Claim(
        "03-federated-training.ipynb",
        "What to notice",
        r"\b0\.\d{3}\b",
        'table = pd.DataFrame({"iid"',
        r"\b0\.\d{3}\b",
        every_quoted_number_is_shown(0.0005),
        "every accuracy quoted is in the table",
    ),
    Claim(
        "03-federated-training.ipynb",
        "What drift looks like",
        r"\b(\d{2}\.\d)\b",
        "drift_table = pd.DataFrame(results)",
        r"\b(\d{2}\.\d)\b",
        every_quoted_number_is_shown(0.05),
        "every RMSE quoted is in the drift table",
    ),
    Claim(
        "03-federated-training.ipynb",
        "What drift looks like",
        r"R² (0\.\d{2})",
        "drift_table = pd.DataFrame(results)",
        r"\b(0\.\d{2})\b",
        every_quoted_number_is_shown(0.005),
        "every R² quoted is in the drift table",
    ),
    Claim(
        "03-federated-training.ipynb",
        "What drift looks like",
        r"FedProx with the same 50 local epochs lands at (\d{2}\.\d)",
        "drift_table = pd.DataFrame(results)",
        r"^(?:pooled \(exact solver\)|50 local epochs|50 epochs, FedProx mu=3) +(\d{2}\.\d)",
        drift_shown_then_recovered,
        "50 local epochs are more than 3 above the pooled fit's test RMSE and FedProx is "
        "within 1.5 of it",
    ),
    Claim(
        "04-privacy-explained.ipynb",
        "Each masked vector looks like noise",
        r"10\^(\d+)",
        "masked = {name: hospitals[name].mask",
        r"e\+(\d+)",
        shown_within_quoted_range,
        "the masked values' powers of ten lie in the quoted range",
    ),
    Claim(
        "04-privacy-explained.ipynb",
        "Differential privacy: accuracy against epsilon",
        r"smaller \*\*epsilon\*\* means more noise: more\s+privacy, less accuracy",
        'print(f"no DP',
        r"epsilon\s+([\d.]+)\s+test accuracy ≈ ([\d.]+)",
        accuracy_grows_with_epsilon,
        "the shown (mean) accuracy grows with epsilon",
    ),
    Claim(
        "05-more-models.ipynb",
        "Least squares needs",
        r'(?:default `solver="(\w+)"`|`solver="(\w+)"`, the default)',
        "ols_plan = diabetes.plan()",
        r"solver\s+(\w+)",
        same_words,
        "the solver named default is the one the plan shows",
    ),
    Claim(
        "01-data-owner.ipynb",
        "The lake and its audit log",
        AUDIT_WORDS,
        'audit["action"].value_counts()',
        AUDIT_SHOWN,
        same_words,
        "the audit actions named are among the shown counts",
    ),
    Claim(
        "workshop/3-privacy-and-budgets.ipynb",
        "## The audit log",
        AUDIT_WORDS,
        'st_mary.audit["action"].value_counts()',
        AUDIT_SHOWN,
        same_words,
        "the audit actions named are among the shown counts",
    ),
    Claim(
        "workshop/solutions/3-privacy-and-budgets.ipynb",
        "## The audit log",
        AUDIT_WORDS,
        'st_mary.audit["action"].value_counts()',
        AUDIT_SHOWN,
        same_words,
        "the audit actions named are among the shown counts",
    ),
]


def _source(cell: nbformat.NotebookNode) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _output_text(cell: nbformat.NotebookNode) -> str:
    texts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append(output["text"])
        plain = output.get("data", {}).get("text/plain")
        if plain:
            texts.append(plain if isinstance(plain, str) else "".join(plain))
    return "\n".join(texts)


def _values(pattern: str, text: str) -> list[str]:
    found = []
    for match in re.finditer(pattern, text, flags=re.MULTILINE):
        groups = [g for g in match.groups() if g is not None] if match.groups() else []
        found.extend(groups or [match.group(0)])
    return found


def check(notebook: nbformat.NotebookNode, claim: Claim) -> str | None:
    """Why the claim does not hold in ``notebook``, or ``None`` when it does."""
    texts = [
        _source(c) for c in notebook.cells if c.cell_type == "markdown" and claim.text in _source(c)
    ]
    cells = [c for c in notebook.cells if c.cell_type == "code" and claim.cell in _source(c)]
    if len(texts) != 1 or len(cells) != 1:
        return (
            f"{len(texts)} markdown cells with {claim.text!r} and {len(cells)} code cells with "
            f"{claim.cell!r} (one of each expected)"
        )
    quoted = _values(claim.quoted, texts[0])
    if not quoted:
        return f"the text no longer quotes {claim.quoted!r}: update the claim"
    shown = _values(claim.shown, _output_text(cells[0]))
    if not claim.agree(quoted, shown):
        return f"{claim.how}: the text quotes {quoted}, the output shows {shown}"
    return None


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.notebook}:{c.text[:30]}")
def test_the_text_says_what_the_stored_output_shows(claim: Claim) -> None:
    notebook = nbformat.read(NOTEBOOKS / claim.notebook, as_version=4)
    problem = check(notebook, claim)
    assert problem is None, f"{claim.notebook}: {problem}"
