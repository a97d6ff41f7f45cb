"""The lakes as a coordinator sees them: parties that answer a phase's public message."""

from __future__ import annotations

import json
from typing import Any, Protocol

import numpy as np

from .._errors import LakeError, reported_by
from .._schema import TableSchema
from .._syft import ScientistSession
from ..plans import LogisticRegression
from ..plans._steps import Standardizer, dp_sums, local_update, table_stats
from ..secure import MaskingParty, pack, privatise


class Party(Protocol):
    """One lake taking part in a job."""

    name: str

    def compute(self, message: dict[str, Any]) -> Any:
        """The lake's answer to one phase's public message (a dict)."""
        ...


class RemoteParty:
    """A lake reached through PySyft, running an approved request."""

    def __init__(self, session: ScientistSession, function: str, table: str) -> None:
        self.name = session.lake
        self._session = session
        self._function = function
        self._table = table

    def compute(self, message: dict[str, Any]) -> Any:
        answer = self._session.execute(self._function, self._table, json.dumps(message))
        if not isinstance(answer, dict) or "ok" not in answer:
            raise LakeError(self.name, f"answered {type(answer).__name__}, not a collab result")
        if not answer["ok"]:
            error = answer.get("error") or {}
            raise reported_by(
                self.name, str(error.get("type")), str(error.get("message", "unknown error"))
            )
        return answer


class MockParty:
    """A lake's synthetic stand-in for ``simulate``: the same protocol and arithmetic as a lake
    (masking, DP noise included), on rows made from its schema."""

    def __init__(
        self,
        schema: TableSchema,
        plan: LogisticRegression,
        rows: int,
        seed: int,
        job_id: str,
        preset: Standardizer | None = None,
    ) -> None:
        self.name = schema.lake
        frame = schema.synthetic(rows, seed=seed)
        columns = [*plan.features, plan.label]
        self._data = frame[columns].astype(float).to_numpy()
        self._plan = plan
        self._preset = preset
        self._masking = MaskingParty.create(self.name, job_id)

    def compute(self, message: dict[str, Any]) -> Any:
        plan, masking, phase = self._plan, self._masking, message["phase"]
        if phase == "keys":
            return {"keys": masking.public_keys()}
        if phase == "deal":
            sealed = masking.deal(
                message["roster"], message["public"], message["threshold"], slots=plan.rounds + 1
            )
            return {"sealed": sealed}
        if phase == "receive":
            masking.receive(message["inbox"])
            return {"received": len(message["inbox"])}
        if phase == "unmask":
            return {
                "reveal": masking.reveal(
                    message["slot"], message["received"], message["participants"]
                )
            }
        X, y = self._data[:, :-1], self._data[:, -1]
        d = len(plan.features)
        weights = np.asarray(message.get("weights", []))
        if phase == "stats":
            vector = table_stats(X, y)
        elif plan.dp is not None:
            assert self._preset is not None
            vector = privatise(
                dp_sums(X, y, weights, self._preset, plan.dp.clip_norm),
                plan.dp,
                rounds=plan.rounds,
                shares=masking.threshold if plan.secure_aggregation else 1,
                learning_rate=plan.learning_rate,
                n_weights=d + 1,
            )
        else:
            standardizer = Standardizer(
                np.asarray(message["mean"]), np.asarray(message["std"]), 0, 0
            )
            vector = local_update(X, y, weights, standardizer, plan)
        if not plan.secure_aggregation:
            return {"vector": vector.tolist()}
        slot = 0 if phase == "stats" else int(message["round"])
        return {"masked": pack(masking.mask(slot, vector, message["participants"]))}
