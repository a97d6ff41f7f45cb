"""How a trained model and its card render (``application/vnd.collab.model+json``: the
model's ``to_dict()``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ._kit import Cell, Report, Section, count, fmt, short
from ._plan import dp_text, secure_text

MODEL_MIME = "application/vnd.collab.model+json"


class ShownModel(Protocol):
    """What the model report reads of a :class:`collab.plans.Model`."""

    def to_dict(self) -> dict[str, Any]: ...


def model_payload(model: ShownModel) -> dict[str, Any]:
    return model.to_dict()


def model_report(payload: Mapping[str, Any]) -> Report:
    features = list(payload.get("features", []))
    table = payload.get("report") or {}
    rows = tuple(
        tuple(v if isinstance(v, str) else fmt(v) for v in row) for row in table.get("rows", [])
    )
    lakes = list(payload.get("lakes", []))
    sections = (
        Section(
            str(table.get("title", "Parameters")),
            rows,
            header=tuple(table.get("header", ())),
            note=str(table.get("note", "")),
            open=len(rows) <= 12,
        ),
        Section(
            "Training",
            (
                ("lakes", ", ".join(lakes) or "—"),
                ("rounds", fmt(payload.get("rounds"))),
                ("plan hash", short(str(payload.get("plan_hash", ""))) or "—"),
            ),
        ),
    )
    summary = (
        f"predicts {payload.get('label')} from {count(len(features), 'feature')}; trained "
        f"over {count(len(lakes), 'lake')} in {count(payload.get('rounds') or 0, 'round')}"
    )
    model = str(payload.get("model", "model")).replace("_", " ")
    return Report("Model", model, "", summary, None, sections)


def _validation_rows(
    validation: Mapping[str, Any], share: float | None
) -> tuple[tuple[str, Cell], ...]:
    if not validation:
        return (("held out", "none: the model was not validated during training"),)
    rows: list[tuple[str, Cell]] = []
    if share:
        rows.append(("held out", f"{share:.0%} of each lake's rows, never trained on"))
    for name, value in validation.items():
        if name == "confusion_matrix":
            value = " / ".join(" ".join(str(int(v)) for v in row) for row in value)
        elif name == "roc_auc_error":
            continue
        rows.append((name.replace("_", " "), fmt(value)))
    return tuple(rows)


def model_card_report(facts: Mapping[str, Any]) -> Report:
    features = list(facts.get("features", []))
    lakes = list(facts.get("lakes", []))
    plan = facts.get("plan")
    metrics = facts.get("training_metrics") or {}
    # under differential privacy the lakes' counts and training figures carry noise
    noisy = "≈ " if facts.get("dp") else ""
    rows = facts.get("rows")
    sections = (
        Section(
            "Plan",
            (
                ("model", str(facts.get("model", "")).replace("_", " ")),
                ("table", fmt(facts.get("table")) if plan else "not recorded"),
                ("label", str(facts.get("label", ""))),
                ("features", ", ".join(features)),
                ("plan hash", str(facts.get("plan_hash") or "not recorded")),
            ),
        ),
        Section(
            "Data and training",
            (
                ("lakes", ", ".join(lakes) or "—"),
                *(
                    (f"rows at {lake}", f"at least {fmt(int(n))}")
                    for lake, n in (facts.get("lake_rows") or {}).items()
                ),
                ("rows (pooled, last round)", "—" if rows is None else noisy + fmt(int(rows))),
                ("rounds", fmt(facts.get("rounds"))),
                *((f"training {k}", noisy + fmt(v)) for k, v in metrics.items()),
            ),
        ),
        Section(
            "Validation on held-out rows",
            _validation_rows(facts.get("validation") or {}, facts.get("validation_share")),
        ),
        Section(
            "Privacy",
            (
                ("secure aggregation", secure_text(facts) if plan else "not recorded"),
                ("differential privacy", dp_text(facts.get("dp")) if plan else "not recorded"),
            ),
        ),
        Section(
            "Provenance",
            (
                ("collab version", str(facts.get("collab_version", ""))),
                *(
                    (
                        f"approved at {lake}",
                        f"audit entry {entry.get('seq')} by {entry.get('actor')}, hash "
                        f"{short(str(entry.get('hash', '')))}",
                    )
                    for lake, entry in (facts.get("approvals") or {}).items()
                ),
            ),
        ),
    )
    summary = (
        f"predicts {facts.get('label')} from {count(len(features), 'feature')}; trained over "
        f"{count(len(lakes), 'lake')} in {count(int(facts.get('rounds') or 0), 'round')}"
    )
    model = str(facts.get("model", "model")).replace("_", " ")
    return Report("Model card", model, "", summary, None, sections)
