"""What a lake's owner reads about it: hosted tables, scientists, budgets and the audit log.

The base of :class:`collab.Lake`: the attributes every part of a lake uses, and the records
that hosting (``_hosting``) and decisions (``_requests``) write and read.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .._args import text
from .._errors import CollabError
from .._policy import Policy
from .._schema import TableSchema
from ..transport import Datasite
from ._state import LakeState

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # a lake's, a table's or a view's name
OWNER = "owner"


class LakeRecords:
    """A lake's records as its owner reads them (the base of :class:`collab.Lake`)."""

    name: str
    data_dir: Path
    _datasite: Datasite
    _state: LakeState
    _lock: Any  # a threading.RLock: one decision or upload at a time
    _reported: dict[str, dict[str, Any]]  # scientist -> figures last sent
    _report_lock: threading.Lock

    @property
    def tables(self) -> list[str]:
        return self._state.table_names()

    def _record(self, table: str) -> dict[str, Any]:
        record = self._state.table(table)
        if record is None:
            hosted = ", ".join(self.tables) or "none"
            raise CollabError(f"lake {self.name!r} has no table {table!r}; it has: {hosted}")
        return record

    def schema(self, table: str) -> TableSchema:
        """The table's published schema."""
        return TableSchema.from_dict(self._record(table)["schema"])

    def unmatched_categories(self, table: str) -> dict[str, int]:
        """Per column with published categories, the rows of ``table`` (or view) whose value
        is not one of them, counted when it was added. Plans read such a value as "other".
        Only the owner sees these counts; they are not part of the published schema."""
        return dict(self._record(table).get("unmatched", {}))

    def policy(self, table: str) -> Policy:
        return Policy.from_dict(self._record(table)["policy"])


    # scientists ---------------------------------------------------------------------------
    def add_scientist(self, email: str, password: str, name: str | None = None) -> None:
        """Register a data scientist who may browse schemas and submit plans."""
        text(email, "email")
        text(password, "password")
        if "@" not in email:
            raise CollabError(f"lake {self.name!r}: {email!r} is not an email address")
        if len(password) < 8:
            raise CollabError(
                f"lake {self.name!r}: the password for {email} is too short; use 8 or more "
                "characters"
            )
        key = self._datasite.register(email, password, name or email.split("@")[0])
        self._remember_scientist(email, key)
        self._state.log(OWNER, "scientist added", scientist=email)
        self._report_budgets([email])

    def _remember_scientist(self, email: str, key: str) -> None:
        """Keep a scientist's PySyft verify key: the address of their budget reports."""
        keys = dict(self._state.setting("scientist keys", {}) or {})
        if keys.get(email) != key:
            self._state.set_setting("scientist keys", {**keys, email: key})
        registered = set(self._state.setting("scientists", []) or [])
        if email not in registered:
            self._state.set_setting("scientists", sorted(registered | {email}))

    # budget reports -----------------------------------------------------------------------
    def _figures(self, scientist: str) -> dict[str, dict[str, float | None]]:
        """Per table: epsilon ``scientist`` spent, the policy's limit and what is left."""
        spent = self._state.spent(scientist)
        figures = {}
        for table in self.tables:
            policy = self.policy(table)
            used = spent.get(table, 0.0)
            figures[table] = {
                "spent": used,
                "limit": None if policy.max_epsilon is None else float(policy.max_epsilon),
                "left": policy.epsilon_left(used),
            }
        return figures

    def _spent(self, scientist: str, table: str) -> None:
        self._report_budgets([scientist])

    def _report_budgets(
        self, scientists: Iterable[str] | None = None, *, audit: bool = True
    ) -> None:
        """Send each scientist (every one registered, by default) their own figures, when they
        changed since the last report: to them alone, through PySyft (see
        ``Datasite.report_budget``). A report that fails is sent again by the watcher."""
        keys = self._state.setting("scientist keys", {}) or {}
        with self._report_lock:
            for scientist in keys if scientists is None else scientists:
                key = keys.get(scientist)
                if key is None:
                    continue
                at = time.time()  # before reading: the newest report holds the newest figures
                figures = self._figures(scientist)
                if self._reported.get(scientist) == figures:
                    continue
                try:
                    self._datasite.report_budget(
                        key, {"lake": self.name, "at": at, "tables": figures}
                    )
                except CollabError as exc:
                    if audit:
                        self._state.log(
                            "lake", "budget report failed", scientist=scientist, error=str(exc)
                        )
                    continue
                self._reported[scientist] = figures

    # records ------------------------------------------------------------------------------
    def budget(self, scientist: str) -> pd.DataFrame:
        """Privacy budget per table for ``scientist``: epsilon spent and left."""
        spent = self._state.spent(scientist)
        rows = []
        for table in self.tables:
            policy = self.policy(table)
            used = spent.get(table, 0.0)
            rows.append(
                {
                    "table": table,
                    "epsilon spent": used,
                    "epsilon limit": policy.max_epsilon,
                    "epsilon left": policy.epsilon_left(used),
                }
            )
        return pd.DataFrame(
            rows, columns=["table", "epsilon spent", "epsilon limit", "epsilon left"]
        )

    @property
    def audit(self) -> pd.DataFrame:
        """The lake's hash-chained audit log, oldest first."""
        rows = self._state.audit_rows()
        frame = pd.DataFrame(
            rows, columns=["seq", "at", "actor", "action", "detail", "prev_hash", "hash"]
        )
        frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
        return frame

    def verify_audit(self) -> bool:
        """Whether every audit entry still chains to the one before it."""
        return self._state.verify_audit() is None
