"""The lakes as a coordinator sees them: parties that answer a phase's public message."""

from __future__ import annotations

import json
from typing import Any, Protocol

import numpy as np

from .._errors import ERRORS_BY_NAME, CollabError, LakeError
from .._schema import TableSchema
from .._syft import ScientistSession
from ..plans import LogisticRegression
from ..plans._steps import Standardizer, local_update, table_stats


class Party(Protocol):
    """One lake taking part in a job."""

    name: str

    def compute(self, message: dict[str, Any]) -> np.ndarray:
        """The lake's summed vector for one phase (``stats`` or ``round``)."""
        ...


class RemoteParty:
    """A lake reached through PySyft, running an approved request."""

    def __init__(self, session: ScientistSession, function: str, table: str) -> None:
        self.name = session.lake
        self._session = session
        self._function = function
        self._table = table

    def compute(self, message: dict[str, Any]) -> np.ndarray:
        answer = self._session.execute(self._function, self._table, json.dumps(message))
        if not isinstance(answer, dict) or "ok" not in answer:
            raise LakeError(self.name, f"answered {type(answer).__name__}, not a collab result")
        if not answer["ok"]:
            error = answer.get("error") or {}
            cls = ERRORS_BY_NAME.get(str(error.get("type")), CollabError)
            text = str(error.get("message", "unknown error"))
            if self.name not in text:
                text = f"lake {self.name!r}: {text}"
            raise cls(text)
        return np.asarray(answer["vector"], dtype=np.float64)


class MockParty:
    """A lake's synthetic stand-in for ``simulate``: same arithmetic, rows made from its schema."""

    def __init__(self, schema: TableSchema, plan: LogisticRegression, rows: int, seed: int) -> None:
        self.name = schema.lake
        frame = schema.synthetic(rows, seed=seed)
        columns = [*plan.features, plan.label]
        self._data = frame[columns].astype(float).to_numpy()
        self._plan = plan

    def compute(self, message: dict[str, Any]) -> np.ndarray:
        X, y = self._data[:, :-1], self._data[:, -1]
        if message["phase"] == "stats":
            return table_stats(X, y)
        standardizer = Standardizer(
            mean=np.asarray(message["mean"]), std=np.asarray(message["std"]), rows=0, positives=0
        )
        return local_update(X, y, np.asarray(message["weights"]), standardizer, self._plan)
