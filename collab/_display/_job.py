"""How a job renders: its lakes' states, the last rounds of its history, its error and plan
(``application/vnd.collab.job+json``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ._kit import Report, Section, fmt, json_number, short
from ._plan import ShownPlan, dp_text, plan_payload

JOB_MIME = "application/vnd.collab.job+json"
HISTORY_SHOWN = 5  # rounds of a job's history shown in its repr (the last ones)


class ShownRound(Protocol):
    """What the job report reads of one round of a job's history."""

    @property
    def round(self) -> int: ...
    @property
    def metrics(self) -> Mapping[str, float]: ...
    @property
    def rows(self) -> int | None: ...


class ShownProgress(Protocol):
    @property
    def history(self) -> Sequence[ShownRound]: ...


class ShownJob(Protocol):
    """What the job report reads of a :class:`collab.Job`."""

    @property
    def job_id(self) -> str: ...
    @property
    def plan(self) -> ShownPlan: ...
    @property
    def status(self) -> str: ...
    @property
    def error(self) -> BaseException | None: ...
    @property
    def progress(self) -> ShownProgress: ...
    @property
    def lake_states(self) -> Mapping[str, str]: ...
    @property
    def rounds_done(self) -> int: ...


def job_payload(job: ShownJob) -> dict[str, Any]:
    history = [
        {
            "round": int(r.round),
            **{name: json_number(r.metrics.get(name)) for name in job.plan.history_metrics},
            **{k: json_number(v) for k, v in r.metrics.items() if k.startswith("val_")},
            "rows": None if r.rows is None else int(r.rows),
        }
        for r in list(job.progress.history)
    ]
    error = job.error
    return {
        "job_id": job.job_id,
        "plan": plan_payload(job.plan),
        "status": job.status,
        "lakes": dict(job.lake_states),
        "rounds_done": int(job.rounds_done),
        "rounds_total": int(job.plan.total_rounds),
        "history": history,
        "error": None if error is None else f"{type(error).__name__}: {error}",
    }


def job_report(payload: Mapping[str, Any]) -> Report:
    plan = payload["plan"]
    lakes = payload["lakes"]
    history = payload["history"]
    metrics = list(plan.get("metrics") or ["loss"])
    shown = history[-HISTORY_SHOWN:]
    sections = [
        Section(
            "Lakes",
            tuple((lake, (state, state)) for lake, state in lakes.items()),
            header=("lake", "state"),
        ),
    ]
    if history:
        sections.append(
            Section(
                "History",
                tuple(
                    (fmt(r["round"]), *(fmt(r.get(m)) for m in metrics), fmt(r["rows"]))
                    for r in shown
                ),
                header=("round", *metrics, "rows"),
                note=f"last {len(shown)} of {len(history)} rounds; job.history has them all"
                if len(history) > len(shown)
                else "",
            )
        )
    if payload.get("error"):
        sections.append(Section("Error", (("error", (payload["error"], "failed")),)))
    sections.append(
        Section(
            "Plan",
            (
                ("model", f"{plan.get('model')} on {plan.get('table')}"),
                ("label", plan.get("label", "")),
                ("features", ", ".join(plan.get("features", []))),
                ("secure aggregation", fmt(bool(plan.get("secure_aggregation")))),
                ("differential privacy", dp_text(plan.get("dp"))),
                ("plan hash", short(str(plan.get("hash", "")))),
            ),
            open=False,
        )
    )
    summary = f"{plan.get('model')} on {plan.get('table')} across {len(lakes)} lakes"
    status = str(payload["status"])
    return Report(
        "Job",
        str(payload["job_id"])[:8],
        (status, status),
        summary,
        (int(payload["rounds_done"]), int(payload["rounds_total"])),
        tuple(sections),
    )
