"""The lake's trusted plan runner: what an approved collab request executes.

It runs inside the Datasite's process (PySyft calls it with the table's asset and the round's
public message). It checks the call against the lake's own records before touching a row, and
answers with either an aggregate vector or an error the scientist may read. Unexpected
failures are logged for the owner and reported without detail, since an exception's text can
carry a row's value.
"""

from __future__ import annotations

import json
import threading
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import CollabError, PolicyViolation, PrivacyError
from .._policy import Policy
from ..plans import Plan
from ..plans._steps import Standardizer
from ._state import LakeState

_states: dict[str, LakeState] = {}
_states_lock = threading.Lock()


def state_at(path: str | Path) -> LakeState:
    key = str(path)
    with _states_lock:
        if key not in _states:
            _states[key] = LakeState(key)
        return _states[key]


def run_request(data: Any, job_id: str, plan_json: str, message: str) -> dict[str, Any]:
    """Entry point of every collab request (the rendered template calls this)."""
    if not isinstance(data, dict):
        return _error(PrivacyError("this runner only accepts a collab table asset"))
    if data.get("mock"):
        # PySyft also runs approved code on the mock to build its twin result; that run must
        # stay cheap and touch nothing.
        return {"ok": True, "mock": True}
    state = state_at(data["state"])
    try:
        result = _run(state, data, job_id, plan_json, message)
    except CollabError as exc:
        state.log("lake", "execution refused", job=job_id, error=str(exc))
        return _error(exc)
    except Exception:
        state.log("lake", "execution failed", job=job_id, error=traceback.format_exc()[-4000:])
        return _error(
            CollabError(
                f"lake {data.get('lake')!r} failed while computing this step; the details are in "
                "its audit log for the owner (they are not sent, as they may quote data)."
            )
        )
    return {"ok": True, **result}


def _error(exc: CollabError) -> dict[str, Any]:
    return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}


def _run(
    state: LakeState, data: dict[str, Any], job_id: str, plan_json: str, message: str
) -> dict[str, Any]:
    from ..engine import compute_stats, compute_update, spark_session

    approval = state.approval(job_id)
    plan = Plan.from_spec(json.loads(plan_json))
    if approval is None or approval.status != "approved":
        raise PolicyViolation(f"job {job_id[:8]} has not been approved by this lake's owner")
    if approval.plan_hash != plan.hash or approval.table != data["table"]:
        raise PrivacyError(f"job {job_id[:8]}: the plan differs from the one the owner approved")
    try:
        msg = json.loads(message)
        phase, round_ = msg["phase"], int(msg["round"])
    except Exception as exc:
        raise PolicyViolation(f"job {job_id[:8]}: malformed round message ({exc})") from exc
    if msg.get("plan") != plan.hash:
        raise PrivacyError(f"job {job_id[:8]}: the round message names another plan")

    record = state.table(data["table"])
    if record is None:
        raise PolicyViolation(f"this lake no longer hosts table {data['table']!r}")
    policy = Policy.from_dict(record["policy"])
    spark = state.setting("spark", {}) or {}
    spark_session(spark.get("master"), spark.get("conf"))
    source, fmt = record["source"], record["format"]
    d = len(plan.features)

    if phase == "stats":
        state.claim_execution(job_id, "stats", round_, limit=1)
        vector = compute_stats(source, fmt, plan)
        if vector[0] < policy.min_rows:
            raise PolicyViolation(
                f"lake {data['lake']!r}, table {data['table']!r}: fewer labelled rows than the "
                f"owner's minimum of {policy.min_rows}; this lake cannot take part."
            )
    elif phase == "round":
        state.claim_execution(job_id, "round", round_, limit=plan.rounds)
        weights = np.asarray(msg["weights"], dtype=np.float64)
        mean = np.asarray(msg["mean"], dtype=np.float64)
        std = np.asarray(msg["std"], dtype=np.float64)
        if weights.shape != (d + 1,) or mean.shape != (d,) or std.shape != (d,):
            raise PolicyViolation(f"job {job_id[:8]}: round message has the wrong shapes")
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(mean)) and np.all(std > 0)):
            raise PolicyViolation(f"job {job_id[:8]}: round message has non-finite values")
        standardizer = Standardizer(mean=mean, std=std, rows=0, positives=0)
        vector = compute_update(source, fmt, plan, weights, standardizer)
    else:
        raise PolicyViolation(f"job {job_id[:8]}: unknown phase {phase!r}")
    state.log("lake", "release", job=job_id, phase=phase, round=round_, values=int(vector.size))
    return {"vector": vector.tolist()}
