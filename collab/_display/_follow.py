"""How a followed job renders: its status and why it ended, its lakes, and its last updates
(each with the model tested on the new rows before training on them, and drift flagged)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ._kit import Report, Section, fmt

UPDATES_SHOWN = 8  # updates of a followed job shown in its report (the last ones)


class ShownFollowJob(Protocol):
    """What the report reads of a :class:`collab.FollowJob`."""

    @property
    def job_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def terms(self) -> Mapping[str, Any]: ...
    @property
    def lake_states(self) -> Mapping[str, str]: ...
    @property
    def history(self) -> Sequence[Mapping[str, Any]]: ...


def update_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns of a followed job's updates shown: counts, then the test-then-train
    metrics, the training metrics after, drift and timings."""
    first = ["update", "new_rows", "lakes"]
    last = ["drift", "seconds", "latency"]
    seen: list[str] = []
    for row in rows:
        seen += [k for k in row if k not in seen and k not in first and k not in last]
    before = [k for k in seen if k.startswith("before_")]
    return first + before + [k for k in seen if k not in before] + last


def follow_report(job: ShownFollowJob) -> Report:
    rows = list(job.history)
    cap = job.terms.get("max_updates")
    every = job.terms.get("every_rows")
    summary = f"{len(rows)} of {fmt(cap)} updates, every {fmt(every)} new rows"
    drifted = [int(r["update"]) for r in rows if r.get("drift")]
    if drifted:
        summary += f"; drift at update {', '.join(map(str, drifted))}"
    if job.reason:
        summary += f". {job.reason}"
    lakes = Section("Lakes", tuple((name, (s, s)) for name, s in job.lake_states.items()))
    columns = update_columns(rows)
    shown = rows[-UPDATES_SHOWN:]
    grid = tuple(
        tuple(("yes", "failed") if c == "drift" and r.get(c) else fmt(r.get(c)) for c in columns)
        for r in shown
    )
    note = f"the last {len(shown)} of {len(rows)}" if len(shown) < len(rows) else ""
    updates = Section("Updates", grid, header=tuple(columns), note=note)
    return Report(
        "Followed job",
        job.job_id[:8],
        (job.status, job.status),
        summary,
        (len(rows), int(cap)) if isinstance(cap, int) and cap > 0 else None,
        (lakes, updates) if rows else (lakes,),
    )
