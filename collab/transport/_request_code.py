"""The only code a collab lake ever runs for a scientist, and how a lake recognises it.

A plan reaches a lake as a PySyft code request whose source is rendered from one template:
it carries the job id and the plan spec as literals and calls the lake's own trusted runner.
A lake re-renders the template from the literals it parsed and accepts the request only if
the submitted source is that text exactly, so no scientist-written statement can run
(PySyft runs approved code with ``exec`` and no sandbox).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass

from .._errors import PrivacyError
from ..plans import Plan

_TEMPLATE = """def {name}(data, message):
    JOB = {job!r}
    PLAN = {plan!r}
    from collab.lake._runner import run_request

    return run_request(data, JOB, PLAN, message)
"""

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def function_name(job_id: str) -> str:
    return f"collab_plan_{job_id[:16]}"


def render(job_id: str, plan: Plan) -> str:
    """The request source for ``plan`` under ``job_id``."""
    if not _JOB_ID.match(job_id):
        raise ValueError(f"a job id is 32 hex digits, not {job_id!r}")
    return _TEMPLATE.format(name=function_name(job_id), job=job_id, plan=plan.spec_json)


def source_hash(source: str) -> str:
    return hashlib.sha256(source.strip().encode()).hexdigest()


@dataclass(frozen=True)
class RecognisedRequest:
    job_id: str
    plan: Plan
    source_hash: str


def recognise(source: str) -> RecognisedRequest:
    """The job and plan of a collab request; :class:`PrivacyError` for any other code."""
    refusal = (
        "this lake runs only collab's own plan runner and refuses any other code "
        "(PySyft runs approved code unsandboxed). Submit a plan with collab instead: "
        "fed.submit(plan), with a plan from collab.plans."
    )
    try:
        tree = ast.parse(source.strip())
        func = tree.body[0]
        assert len(tree.body) == 1 and isinstance(func, ast.FunctionDef)
        job_node, plan_node = func.body[0], func.body[1]
        assert isinstance(job_node, ast.Assign) and isinstance(plan_node, ast.Assign)
        job_id = ast.literal_eval(job_node.value)
        plan_json = ast.literal_eval(plan_node.value)
        assert isinstance(job_id, str) and isinstance(plan_json, str)
        plan = Plan.from_spec(json.loads(plan_json))
        expected = render(job_id, plan)
    except Exception as exc:
        raise PrivacyError(f"not a collab plan request: {refusal}") from exc
    if expected.strip() != source.strip():
        raise PrivacyError(f"the request's code differs from collab's plan runner: {refusal}")
    return RecognisedRequest(job_id=job_id, plan=plan, source_hash=source_hash(expected))
