"""The lake's trusted plan runner: what an approved collab request executes.

It runs inside the Datasite's process (PySyft calls it with the table's asset and the round's
public message). It checks the call against the lake's own records before touching a row, and
answers with either an aggregate vector or an error the scientist may read. Unexpected
failures are logged for the owner and reported without detail, since an exception's text can
carry a row's value.
"""

from __future__ import annotations

import hashlib
import json
import threading
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import CollabError, PolicyViolation, PrivacyError
from .._policy import Policy
from .._schema import TableSchema
from ..plans import Plan
from ..plans._steps import Standardizer
from ._state import LakeState

MAX_MESSAGE_CHARS = 8_000_000  # a 100,000-parameter round is about 4 MB of JSON

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


PHASE_LIMITS = {"keys": 1, "deal": 1, "receive": 1, "stats": 1}


def _secure_party(state: LakeState, job_id: str) -> Any:
    from ..secure import MaskingParty

    saved = state.setting(f"secagg:{job_id}")
    if saved is None:
        raise PolicyViolation(f"job {job_id[:8]}: secure aggregation was not set up on this lake")
    return MaskingParty.from_dict(saved)


def _run(
    state: LakeState, data: dict[str, Any], job_id: str, plan_json: str, message: str
) -> dict[str, Any]:
    from ..engine import compute_dp_sums, compute_stats, compute_update, spark_session
    from ..secure import MaskingParty, pack, privatise

    approval = state.approval(job_id)
    plan = Plan.from_spec(json.loads(plan_json))
    if approval is None or approval.status != "approved":
        raise PolicyViolation(f"job {job_id[:8]} has not been approved by this lake's owner")
    if approval.plan_hash != plan.hash or approval.table != data["table"]:
        raise PrivacyError(f"job {job_id[:8]}: the plan differs from the one the owner approved")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
        raise PolicyViolation(
            f"job {job_id[:8]}: a round message must be text of at most {MAX_MESSAGE_CHARS} "
            "characters"
        )
    try:
        msg = json.loads(message)
        phase, round_ = msg["phase"], int(msg["round"])
    except Exception as exc:
        raise PolicyViolation(f"job {job_id[:8]}: malformed round message ({exc})") from exc
    if msg.get("plan") != plan.hash:
        raise PrivacyError(f"job {job_id[:8]}: the round message names another plan")
    secure = bool(plan.secure_aggregation)
    if phase in ("keys", "deal", "receive", "unmask") and not secure:
        raise PolicyViolation(f"job {job_id[:8]}: the plan does not use secure aggregation")
    if phase == "stats" and plan.dp is not None:
        raise PrivacyError(
            f"job {job_id[:8]}: a DP plan scales by published bounds; exact statistics are "
            "never released for it"
        )
    limits = {**PHASE_LIMITS, "round": plan.rounds, "unmask": plan.rounds + 1}
    if phase not in limits:
        raise PolicyViolation(f"job {job_id[:8]}: unknown phase {phase!r}")

    record = state.table(data["table"])
    if record is None:
        raise PolicyViolation(f"this lake no longer hosts table {data['table']!r}")
    policy = Policy.from_dict(record["policy"])
    lake = data["lake"]
    message_hash = hashlib.sha256(message.encode()).hexdigest()
    stored = state.claim_execution(
        job_id,
        phase,
        round_,
        limit=limits[phase],
        message_hash=message_hash,
        consecutive=phase != "unmask",  # a DP plan has no statistics slot to unmask
    )
    if stored is not None:
        state.log("lake", "release repeated", job=job_id, phase=phase, round=round_)
        return stored

    result: dict[str, Any]
    if phase == "keys":
        party = MaskingParty.create(lake, job_id)
        state.set_setting(f"secagg:{job_id}", party.to_dict())
        result = {"keys": party.public_keys()}
    elif phase == "deal":
        party = _secure_party(state, job_id)
        roster, threshold = list(msg["roster"]), int(msg["threshold"])
        floor = plan.secure_threshold or (len(roster) // 2 + 1)
        if threshold < floor:
            raise PrivacyError(
                f"job {job_id[:8]}: threshold {threshold} is below the plan's {floor}; "
                "a lower threshold would let fewer lakes unmask shares"
            )
        sealed = party.deal(roster, msg["public"], threshold, slots=plan.rounds + 1)
        state.set_setting(f"secagg:{job_id}", party.to_dict())
        result = {"sealed": sealed}
    elif phase == "receive":
        party = _secure_party(state, job_id)
        party.receive(msg["inbox"])
        state.set_setting(f"secagg:{job_id}", party.to_dict())
        result = {"received": len(msg["inbox"])}
    elif phase == "unmask":
        party = _secure_party(state, job_id)
        reveal = party.reveal(int(msg["slot"]), msg["received"], msg["participants"])
        state.set_setting(f"secagg:{job_id}", party.to_dict())
        result = {"reveal": reveal}
    else:
        spark = state.setting("spark", {}) or {}
        spark_session(spark.get("master"), spark.get("conf"))
        source, fmt = record["source"], record["format"]
        d = len(plan.features)
        if phase == "stats":
            vector = compute_stats(source, fmt, plan)
            labelled_rows = vector[0]
        else:
            weights = np.asarray(msg["weights"], dtype=np.float64)
            if weights.shape != (d + 1,) or not np.all(np.isfinite(weights)):
                raise PolicyViolation(f"job {job_id[:8]}: round message has bad weights")
            if plan.dp is not None:
                schema = TableSchema.from_dict(record["schema"])
                standardizer = Standardizer.from_bounds(
                    [schema.column(f).bounds for f in plan.features]  # type: ignore[misc]
                )
                sums = compute_dp_sums(source, fmt, plan, weights, standardizer)
                labelled_rows = sums[d + 1]
                vector = privatise(
                    sums,
                    plan.dp,
                    rounds=plan.rounds,
                    shares=_secure_party(state, job_id).threshold if secure else 1,
                    learning_rate=plan.learning_rate,
                    n_weights=d + 1,
                )
            else:
                mean = np.asarray(msg["mean"], dtype=np.float64)
                std = np.asarray(msg["std"], dtype=np.float64)
                if mean.shape != (d,) or std.shape != (d,) or not np.all(std > 0):
                    raise PolicyViolation(f"job {job_id[:8]}: round message has the wrong shapes")
                standardizer = Standardizer(mean=mean, std=std, rows=0, positives=0)
                vector = compute_update(source, fmt, plan, weights, standardizer)
                labelled_rows = vector[d + 1]
        if labelled_rows < policy.min_rows:
            raise PolicyViolation(
                f"lake {lake!r}, table {data['table']!r}: fewer labelled rows than the "
                f"owner's minimum of {policy.min_rows}; this lake cannot take part."
            )
        if secure:
            party = _secure_party(state, job_id)
            slot = 0 if phase == "stats" else round_
            result = {"masked": pack(party.mask(slot, vector, msg["participants"]))}
        else:
            result = {"vector": vector.tolist()}
    state.store_result(job_id, phase, round_, result)
    state.log("lake", "release", job=job_id, phase=phase, round=round_)
    return result
