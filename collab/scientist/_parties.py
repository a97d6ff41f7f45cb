"""The lakes as a coordinator sees them: parties that answer a phase's public message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from .._errors import CollabError, LakeError, reported_by
from .._policy import Policy
from .._schema import TableSchema, category_codes
from ..plans import Plan
from ..protocol import ArrayRows, MemoryExecutions, MemoryMasking, PartyHandler, Rows, digest
from ..transport import ChannelLost, RoundChannel, ScientistSession, open_channel


class Party(Protocol):
    """One lake taking part in a job."""

    name: str

    def compute(self, message: dict[str, Any]) -> Any:
        """The lake's answer to one phase's public message (a dict)."""
        ...


class RemoteParty:
    """A lake reached through PySyft, running an approved request.

    The job's first exchange goes over PySyft; its answer carries the lake's ticket for the
    job, and later messages go over the round channel it opens (:mod:`collab.transport`), the
    lake checking, counting and recording each one as it does a PySyft execution. With
    ``channel=False``, or whenever the channel cannot carry a message, PySyft carries it.
    """

    def __init__(
        self, session: ScientistSession, function: str, table: str, *, channel: bool = True
    ) -> None:
        self.name = session.lake
        self._session = session
        self._function = function
        self._table = table
        self._use_channel = channel
        self._channel: RoundChannel | None = None

    def compute(self, message: dict[str, Any]) -> Any:
        text = json.dumps(message)
        answer: Any = None
        if self._channel is not None:
            try:
                answer = self._channel.send(text)
            except ChannelLost:
                self.close()  # PySyft carries this message, and brings a fresh ticket
        if answer is None:
            answer = self._session.execute(self._function, self._table, text)
            if self._use_channel:
                self._channel = open_channel(answer, self._session.url)
        if not isinstance(answer, dict) or "ok" not in answer:
            raise LakeError(self.name, f"answered {type(answer).__name__}, not a collab result")
        if not answer["ok"]:
            error = answer.get("error") or {}
            raise reported_by(
                self.name, str(error.get("type")), str(error.get("message", "unknown error"))
            )
        return answer

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None


class LocalParty:
    """A lake's phase handler run here, over rows given as :class:`collab.protocol.Rows`:
    the same checks, arithmetic, masking and DP noise as the lake itself, and the same
    schedule, its executions counted in memory as a lake counts them in its records."""

    def __init__(
        self,
        name: str,
        plan: Plan,
        rows: Rows,
        *,
        job_id: str,
        policy: Policy | None = None,
        bounds: Mapping[str, tuple[float, float] | None] | None = None,
    ) -> None:
        self.name = name
        self._handler = PartyHandler(
            plan,
            lake=name,
            job_id=job_id,
            rows=lambda: rows,
            masking=MemoryMasking(),
            policy=policy or Policy(min_rows=1),
            bounds=dict(bounds or {}),
        )
        self._executions = MemoryExecutions()

    def compute(self, message: dict[str, Any]) -> Any:
        handler = self._handler
        try:
            parsed = handler.parse(message)
            handler.check(parsed)  # before the execution is counted: a bad message spends nothing
            return handler.run(parsed, digest(json.dumps(message)), self._executions)[0]
        except CollabError as exc:  # as a real lake's refusal reaches the scientist
            raise reported_by(self.name, type(exc).__name__, str(exc)) from None


class MockParty(LocalParty):
    """A lake's synthetic stand-in for ``simulate``: its handler on rows made from its
    published schema, under its published policy.

    The synthetic table has at least twice the policy's minimum of rows, so a plan a lake
    would accept is not refused for the size of its stand-in.
    """

    def __init__(
        self, schema: TableSchema, policy: Policy, plan: Plan, rows: int, seed: int, job_id: str
    ) -> None:
        n = max(rows, 2 * policy.min_rows)
        frame = schema.synthetic(n, seed=seed)
        rng = np.random.default_rng(seed)
        coded = plan.encodings
        inputs = plan.columns[:-1] if plan.label else plan.columns  # all but the label
        X = np.column_stack(
            [
                category_codes(frame[f], coded[f]) if f in coded else frame[f].astype(float)
                for f in inputs
            ]
        )
        if plan.complete_rows:  # a lake refuses such a plan over rows missing an input
            X = np.nan_to_num(X, nan=0.0)
        if plan.label:
            y = plan.mock_labels(schema.column(plan.label), rng, n).astype(float)
        else:
            y = np.ones(n)
        super().__init__(
            schema.lake,
            plan,
            ArrayRows(X, y),
            job_id=job_id,
            policy=policy,
            bounds={c.name: c.bounds for c in schema.columns},
        )
