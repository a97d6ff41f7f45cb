"""Scientists' requests and the lake's decisions on them: the owner's, the table policy's
(auto-approval, as requests arrive) and the lake's own (refusals: foreign code, the budget)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._errors import AlreadyDecided, BudgetExceeded, CollabError, PlanError, PrivacyError
from ..plans import Plan
from ..transport import CodeRequest, recognise
from ._follow import describe_terms
from ._records import OWNER, LakeRecords
from ._state import Approval

STATUSES = ("pending", "approved", "denied", "refused")
_ACTIONS = {"approved": "approve", "denied": "deny", "refused": "refuse"}
_DECIDERS = {OWNER: "the owner", "policy": "the table's policy", "lake": "the lake"}


@dataclass
class Request:
    """A scientist's plan waiting for (or past) this lake owner's decision.

    ``status`` is ``pending``, ``approved``, ``denied`` (by the owner, or by the table's policy
    when the plan breaks it) or ``refused`` (by the lake: the privacy-budget ledger could not
    pay for it). A denial or a refusal is final, and so is an approval, except that the owner
    may still deny an approved plan to stop it; anything else raises
    :class:`collab.AlreadyDecided`.
    """

    id: str
    scientist: str
    plan: Plan
    job_id: str
    status: str
    reason: str | None = None
    _lake: Decisions | None = field(default=None, repr=False, compare=False)

    @property
    def table(self) -> str:
        return self.plan.table

    def summary(self) -> dict[str, Any]:
        spec = self.plan.to_spec()
        dp = spec.get("dp")
        return {
            "request": self.id[:8],
            "scientist": self.scientist,
            "table": self.table,
            "model": spec["model"],
            "features": ", ".join(spec["features"]),
            "label": spec["label"],
            "rounds": self.plan.total_rounds,
            **({"follow": describe_terms(self.plan)} if self.plan.follow else {}),
            "secure aggregation": spec.get("secure_aggregation"),
            "epsilon": None if dp is None else dp["epsilon"],
            "status": self.status,
        }

    def approve(self) -> None:
        """Approve the plan for its whole training run, after checking it against policy.

        Raises :class:`collab.AlreadyDecided` if it was decided already (a denial is
        final: the scientist can submit the plan again as a new request), and
        :class:`collab.BudgetExceeded` if the scientist's privacy budget cannot pay for it
        (the lake then refuses the request, and the scientist hears so at once).
        """
        assert self._lake is not None
        self._lake._approve(self, actor=OWNER)
        self.status = "approved"

    def deny(self, reason: str) -> None:
        """Deny the plan; the scientist sees ``reason``. Denying an approved plan withdraws
        the approval: its job stops at its next round. Raises :class:`collab.AlreadyDecided`
        if it was denied or refused already."""
        assert self._lake is not None
        self._lake._deny(
            self.id, self.job_id, reason, actor=OWNER, scientist=self.scientist, request=self
        )
        self.status, self.reason = "denied", reason


class Decisions(LakeRecords):
    """Requests and decisions (part of :class:`collab.Lake`)."""

    # requests -----------------------------------------------------------------------------
    @property
    def requests(self) -> list[Request]:
        """Plans waiting for this owner's decision. Decided ones (a decision is final) are
        listed by :meth:`all_requests`."""
        return [r for r in self._pending_requests() if r.status == "pending"]

    def all_requests(self, status: str | Iterable[str] | None = None) -> list[Request]:
        """Every plan submitted to this lake, or those whose status is ``status`` (one of
        ``"pending"``, ``"approved"``, ``"denied"``, ``"refused"``, or a list of them)."""
        if status is None:
            wanted = set(STATUSES)
        else:
            wanted = {status} if isinstance(status, str) else set(status)
            unknown = sorted(map(repr, wanted - set(STATUSES)))
            if unknown or not wanted:
                raise CollabError(
                    f"lake {self.name!r}: all_requests(status=...) takes one of "
                    f"{', '.join(STATUSES)} (or a list of them), not {', '.join(unknown) or '[]'}"
                )
        with self._lock:
            listed = map(self._screen, self._datasite.code_requests())
            return [r for r in listed if r is not None and r.status in wanted]

    def _pending_requests(self) -> list[Request]:
        with self._lock:
            pending = self._datasite.pending_code_requests()
            return [r for r in map(self._screen, pending) if r is not None]

    def _screen(self, raw: CodeRequest) -> Request | None:
        """A collab request, or ``None`` after refusing any other code (logged)."""
        try:
            recognised = recognise(raw.source)
        except PrivacyError as exc:
            if raw.status == "pending":
                self._deny(
                    raw.id, None, f"[PrivacyError] {exc}", actor="lake", scientist=raw.scientist
                )
            return None
        known = self._state.approval(recognised.job_id)
        if known is not None and known.request_id != raw.id:
            known = None  # another request's decision on the same job id (refused on approval)
        status = raw.status
        reason = known.reason if known else None
        if known is not None and known.status != "approved":
            if status == "pending" or (status == "denied" and known.status == "refused"):
                status = known.status  # decided here: refused, or denied not yet in PySyft
        plan, job_id = recognised.plan, recognised.job_id
        return Request(raw.id, raw.scientist, plan, job_id, status, reason, _lake=self)

    def _approve(self, request: Request, *, actor: str) -> None:
        with self._lock:
            raw = next((r for r in self._datasite.code_requests() if r.id == request.id), None)
            if raw is None:
                raise CollabError(f"lake {self.name!r} has no request {request.id}")
            recognised = recognise(raw.source)
            self._check_undecided(raw, recognised.job_id, "approve", actor, request)
            plan = recognised.plan
            if plan.table not in self.tables:
                raise PlanError(
                    f"lake {self.name!r} has no table {plan.table!r}; deny this request"
                )
            plan.check_against(self.schema(plan.table), self.policy(plan.table))
            previous = self._state.approval(recognised.job_id)
            if previous is not None and previous.request_id != raw.id:
                raise PrivacyError(
                    f"lake {self.name!r}: job {recognised.job_id[:8]} was already used by another "
                    "request; a job id cannot be reused"
                )
            dp = plan.dp
            if dp is not None:
                if raw.scientist_key:  # a scientist registered before keys were kept
                    self._remember_scientist(raw.scientist, raw.scientist_key)
                try:
                    self._state.spend(
                        raw.scientist,
                        plan.table,
                        recognised.job_id,
                        float(dp.epsilon),
                        self.policy(plan.table),
                    )
                except BudgetExceeded as exc:
                    self._refuse(raw, recognised.job_id, plan, exc, actor, request)
            self._record_decision(
                recognised.job_id,
                raw.id,
                raw.scientist,
                plan,
                "approved",
                source_hash=recognised.source_hash,
            )
            self._decide(
                actor,
                "approve",
                lambda: self._datasite.approve(raw.id),
                request=raw.id,
                job=recognised.job_id,
                plan=plan.hash,
                scientist=raw.scientist,
                table=plan.table,
                rounds=plan.total_rounds,
                **({"follow": describe_terms(plan)} if plan.follow else {}),
            )

    def _deny(
        self,
        request_id: str,
        job_id: str | None,
        reason: str,
        *,
        actor: str,
        scientist: str,
        request: Request | None = None,
    ) -> None:
        with self._lock:
            if job_id is not None:
                raw = next(r for r in self._datasite.code_requests() if r.id == request_id)
                self._check_undecided(raw, job_id, "deny", actor, request)
                plan = recognise(raw.source).plan
                self._record_decision(job_id, request_id, scientist, plan, "denied", reason)
                from ..engine import drop_job_state

                drop_job_state(job_id)  # state kept for its rounds, if it ran any here
            self._decide(
                actor,
                "deny",
                lambda: self._datasite.deny(request_id, reason),
                request=request_id,
                job=job_id,
                scientist=scientist,
                reason=reason,
            )

    def _check_undecided(
        self, raw: CodeRequest, job_id: str, action: str, actor: str, request: Request | None
    ) -> None:
        """Raise :class:`AlreadyDecided` (and log the attempt) unless ``raw`` waits for a
        decision, or is approved and ``action`` denies it (the owner withdraws an approval;
        the job stops at its next round). A decision on record that did not reach PySyft
        may only be made again."""
        known = self._state.approval_for_request(raw.id)
        status = raw.status
        if known is not None and (status == "pending" or known.status == "refused"):
            status = known.status
        wanted = "approved" if action == "approve" else "denied"
        if status == "pending" or (status == wanted and raw.status == "pending"):
            return
        if (status, action) == ("approved", "deny"):
            return
        if request is not None:
            request.status = status
            request.reason = known.reason if known is not None else request.reason
        self._state.log(
            actor,
            f"{action} refused",
            request=raw.id,
            job=job_id,
            scientist=raw.scientist,
            reason=f"already {status}",
        )
        entry = self._state.decision_of(raw.id, _ACTIONS.get(status, status))
        if entry is None:
            said = f"was already {status} (in PySyft; this lake has no record of who decided)"
        else:
            when = datetime.fromtimestamp(entry["at"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            who = _DECIDERS.get(entry["actor"], entry["actor"])
            said = f"was already {status} by {who} at {when}"
        why = known.reason if known is not None and known.reason else None
        raise AlreadyDecided(
            f"lake {self.name!r}: request {raw.id[:8]} from {raw.scientist} {said}"
            f"{f' ({why})' if why else ''}. A decision is final: nothing was changed. The "
            "scientist can submit the plan again as a new request."
        )

    def _refuse(
        self,
        raw: CodeRequest,
        job_id: str,
        plan: Plan,
        exc: BudgetExceeded,
        actor: str,
        request: Request | None,
    ) -> None:
        """The ledger cannot pay for ``raw``: the lake refuses it for good (the scientist's
        wait ends with ``exc``), then raises ``exc`` to whoever tried to approve it."""
        reason = f"[{type(exc).__name__}] {exc}"
        self._record_decision(job_id, raw.id, raw.scientist, plan, "refused", reason)
        self._decide(
            "lake",
            "refuse",
            lambda: self._datasite.deny(raw.id, reason),
            request=raw.id,
            job=job_id,
            scientist=raw.scientist,
            table=plan.table,
            reason=reason,
            approval_by=actor,
        )
        if request is not None:
            request.status, request.reason = "refused", reason
        error = BudgetExceeded(
            f"lake {self.name!r}: {exc} The lake refused request {raw.id[:8]}: the scientist "
            "is told so and can submit the plan again with a smaller epsilon."
        )
        error.lake = self.name
        raise error from exc

    def _record_decision(
        self,
        job_id: str,
        request_id: str,
        scientist: str,
        plan: Plan,
        status: str,
        reason: str | None = None,
        *,
        source_hash: str = "",
    ) -> None:
        """Keep the decision on ``plan`` in the lake's records (the runner reads them)."""
        what = (plan.table, plan.hash, plan.spec_json, source_hash)  # in Approval's order
        self._state.record_decision(Approval(job_id, request_id, scientist, *what, status, reason))

    def _decide(self, actor: str, action: str, apply: Callable[[], None], **detail: Any) -> None:
        # On record first, visible second: a scientist who sees a decision can always find it
        # in the audit log. A decision that then fails to reach the Datasite is logged too.
        self._state.log(actor, action, **detail)
        try:
            apply()
        except Exception as exc:
            self._state.log(actor, f"{action} failed", request=detail["request"], error=f"{exc}")
            raise

    def _watch(self) -> None:
        """Refuse foreign code and apply auto-approval as requests arrive; report budgets
        that changed elsewhere (a served lake's own process, another owner handle)."""
        while not self._stop.wait(1.0):
            try:
                self._report_budgets(audit=False)
            except Exception:
                pass
            try:
                for request in self._pending_requests():
                    known = self._state.approval_for_request(request.id)
                    if known is not None and known.status in ("denied", "refused"):
                        # decided here, but the decision did not reach PySyft: apply it again
                        with self._lock, contextlib.suppress(CollabError):
                            self._datasite.deny(request.id, known.reason or known.status)
                        continue
                    if request.plan.table in self.tables and self._policy_approves(request.plan):
                        try:
                            self._approve(request, actor="policy")
                        except CollabError as exc:
                            known = self._state.approval_for_request(request.id)
                            if isinstance(exc, AlreadyDecided) or known is not None:
                                continue  # decided meanwhile, or the lake refused it
                            self._deny(
                                request.id,
                                request.job_id,
                                f"[{type(exc).__name__}] {exc}",
                                actor="policy",
                                scientist=request.scientist,
                            )
            except Exception:
                continue

    def _policy_approves(self, plan: Plan) -> bool:
        policy = self.policy(plan.table)
        return policy.auto_approve or (plan.task == "statistics" and policy.auto_approve_statistics)
