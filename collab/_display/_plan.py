"""How a plan renders: its spec, hash and the family's settings
(``application/vnd.collab.plan+json``); a statistics request's own report; and the privacy
lines the job and model reports repeat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from ._kit import Cell, Report, Section, count, fmt, short

PLAN_MIME = "application/vnd.collab.plan+json"


class ShownPlan(Protocol):
    """What the plan report reads of a plan (a :class:`collab.plans.Plan`)."""

    task: ClassVar[str]
    history_metrics: ClassVar[tuple[str, ...]]
    primary_metric: ClassVar[str]

    @property
    def hash(self) -> str: ...
    @property
    def total_rounds(self) -> int: ...
    def to_spec(self) -> dict[str, Any]: ...
    @classmethod
    def settings(cls) -> list[dict[str, Any]]: ...


def plan_payload(plan: ShownPlan) -> dict[str, Any]:
    """The plan's spec, its hash, and what displays need to show any family: its task, the
    rounds it runs, the metrics its history records, and its own settings in order."""
    spec = plan.to_spec()
    own = [s["name"] for s in type(plan).settings()]
    return {
        **spec,
        "hash": plan.hash,
        "task": plan.task,
        "total_rounds": int(plan.total_rounds),
        "metrics": list(plan.history_metrics),
        "primary_metric": plan.primary_metric,
        "settings": [[name, spec.get(name)] for name in own],
    }


def dp_text(dp: Mapping[str, Any] | None) -> str:
    if not dp:
        return "off"
    return (
        f"epsilon {fmt(dp.get('epsilon'))}, delta {fmt(dp.get('delta'))}, "
        f"clip norm {fmt(dp.get('clip_norm'))}"
    )


def secure_text(spec: Mapping[str, Any]) -> str:
    if not spec.get("secure_aggregation"):
        return "off: each lake's update is seen by the coordinator"
    threshold = spec.get("secure_threshold")
    survivors = "a majority of lakes" if threshold is None else f"{threshold} lakes"
    return f"on: only the sum over lakes is revealed (needs {survivors} each round)"


def _setting_text(name: str, value: Any) -> str:
    if name == "batch_size" and value is None:
        return "full batch"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return fmt(value)


def _layout_text(layout: Mapping[str, Any]) -> str:
    """What a statistics request computes per column (as its owners approve it)."""
    parts = []
    for column, how in layout.items():
        said = ["moments" if how.get("numeric") else "counts"]
        if how.get("bounds"):
            said.append(f"histogram over {fmt(how['bounds'][0])}..{fmt(how['bounds'][1])}")
        if how.get("categories"):
            said.append(f"{len(how['categories'])} categories")
        parts.append(f"{column} ({', '.join(said)})")
    return "; ".join(parts)


def plan_report(payload: Mapping[str, Any]) -> Report:
    features = list(payload.get("features", []))
    settings = payload.get("settings") or []
    if payload.get("task") == "statistics":
        return _statistics_request_report(payload, features, settings)
    sections = (
        Section(
            "Columns",
            (("label", payload.get("label", "")), ("features", ", ".join(features))),
        ),
        Section(
            "Training",
            tuple(
                (str(name).replace("_", " "), _setting_text(str(name), value))
                for name, value in settings
            ),
        ),
        Section(
            "Privacy",
            (
                ("secure aggregation", secure_text(payload)),
                ("differential privacy", dp_text(payload.get("dp"))),
            ),
        ),
        Section("Identity", (("hash", short(str(payload.get("hash", "")))),), open=False),
    )
    summary = (
        f"predicts {payload.get('label')} from {len(features)} feature"
        f"{'s' if len(features) != 1 else ''} in "
        f"{count(int(payload.get('total_rounds') or 0), 'round')}"
    )
    title = f"{payload.get('model')} on {payload.get('table')}"
    return Report("Plan", title, "", summary, None, sections)


def _statistics_request_report(
    payload: Mapping[str, Any], columns: list[str], settings: Sequence[Sequence[Any]]
) -> Report:
    own = {str(name): value for name, value in settings}
    kind = str(own.get("kind", "describe"))
    rows: list[tuple[str, Cell]] = [("columns", ", ".join(columns)), ("kind", kind)]
    if kind == "describe":
        rows.append(("histogram bins", fmt(own.get("bins"))))
    if isinstance(own.get("layout"), Mapping):
        rows.append(("computes", _layout_text(own["layout"])))
    sections = (
        Section("Request", tuple(rows)),
        Section(
            "Privacy",
            (
                ("secure aggregation", secure_text(payload)),
                ("differential privacy", dp_text(payload.get("dp"))),
                ("small cells", "each lake blanks its cells below its policy's min_rows"),
            ),
        ),
        Section("Identity", (("hash", short(str(payload.get("hash", "")))),), open=False),
    )
    summary = f"pooled statistics ({kind}) of {count(len(columns), 'column')}"
    return Report("Statistics request", f"on {payload.get('table')}", "", summary, None, sections)
