"""How a lake renders for its owner (tables, policies, requests, audit), and one request as
the owner reviews it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from typing import Any, Protocol

from ._kit import Cell, Report, Section, fmt
from ._schema import ShownTable


class ShownPolicy(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class ShownRequest(Protocol):
    def summary(self) -> dict[str, Any]: ...


class ShownLake(Protocol):
    """What the lake report reads of a :class:`collab.Lake` (all of it the owner's)."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def tables(self) -> Sequence[str]: ...
    @property
    def audit(self) -> Sized: ...
    def schema(self, table: str) -> ShownTable: ...
    def policy(self, table: str) -> ShownPolicy: ...
    def all_requests(self) -> Sequence[ShownRequest]: ...


def lake_info(lake: ShownLake) -> dict[str, Any]:
    """What a lake's repr shows (everything here is the owner's to see)."""
    tables = []
    for name in lake.tables:
        schema, policy = lake.schema(name), lake.policy(name)
        tables.append(
            {
                "name": name,
                "description": schema.description,
                "rows_at_least": schema.rows_at_least,
                "columns": len(schema.columns),
                "private": [c.name for c in schema.columns if c.private],
                "policy": policy.to_dict(),
            }
        )
    requests = [r.summary() for r in lake.all_requests()]
    return {
        "name": lake.name,
        "url": lake.url,
        "tables": tables,
        "requests": requests,
        "audit_entries": len(lake.audit),
    }


def lake_report(info: Mapping[str, Any]) -> Report:
    tables = info["tables"]
    requests = info["requests"]
    pending = sum(1 for r in requests if r["status"] == "pending")
    sections = [
        Section(
            "Tables",
            tuple(
                (
                    t["name"],
                    f"at least {t['rows_at_least']}",
                    fmt(t["columns"]),
                    ", ".join(t["private"]) or "—",
                    t["description"] or "",
                )
                for t in tables
            ),
            header=("table", "rows", "columns", "private", "description"),
        ),
        Section(
            "Policies",
            tuple(
                (
                    t["name"],
                    "all but private"
                    if t["policy"]["allowed_columns"] is None
                    else ", ".join(t["policy"]["allowed_columns"]),
                    fmt(t["policy"]["min_rows"]),
                    fmt(t["policy"]["max_rounds"]),
                    fmt(t["policy"]["max_epsilon"]),
                    fmt(t["policy"]["require_secure_aggregation"]),
                    fmt(t["policy"]["auto_approve"]),
                )
                for t in tables
            ),
            header=(
                "table",
                "allowed columns",
                "min rows",
                "max rounds",
                "max epsilon",
                "secure aggregation required",
                "auto approve",
            ),
            open=False,
        ),
        Section(
            "Requests",
            tuple(
                (
                    r["request"],
                    r["scientist"],
                    r["table"],
                    r["model"],
                    fmt(r["rounds"]),
                    fmt(r["epsilon"]),
                    (r["status"], r["status"]),
                )
                for r in requests
            ),
            header=("request", "scientist", "table", "model", "rounds", "epsilon", "status"),
            note="newest first; lake.requests to approve or deny" if requests else "none yet",
        ),
        Section(
            "Audit",
            (
                ("entries", fmt(info["audit_entries"])),
                ("read", "lake.audit; check the chain with lake.verify_audit()"),
            ),
        ),
    ]
    where = info["url"] or "in-process"
    status: Cell = (f"{pending} pending", "waiting") if pending else ""
    summary = f"{where}; {len(tables)} table{'s' if len(tables) != 1 else ''}"
    return Report("Lake", info["name"], status, summary, None, tuple(sections))


# requests -----------------------------------------------------------------------------------
def request_report(summary: Mapping[str, Any], budget: str = "") -> Report:
    """One request as an owner reviews it (the approval queue's card)."""
    rows: list[tuple[Cell, ...]] = [
        ("scientist", str(summary["scientist"])),
        ("table", str(summary["table"])),
        ("model", str(summary["model"])),
        ("label", str(summary["label"])),
        ("features", str(summary["features"])),
        ("rounds", fmt(summary["rounds"])),
        ("secure aggregation", fmt(summary.get("secure aggregation"))),
        (
            "privacy cost",
            "no DP: spends no epsilon"
            if summary.get("epsilon") is None
            else f"epsilon {fmt(summary['epsilon'])}"
            + (" per update" if summary.get("follow") else ""),
        ),
    ]
    if summary.get("follow"):  # a standing job (fed.follow), approved once for its updates
        rows.insert(5, ("follows the stream", str(summary["follow"])))
    if budget:
        rows.append(("budget after", budget))
    status = str(summary["status"])
    return Report(
        "Request",
        str(summary["request"]),
        (status, status),
        f"{summary['scientist']} asks to train {summary['model']} on {summary['table']}",
        None,
        (Section("Plan", tuple(rows)),),
    )
