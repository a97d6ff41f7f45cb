"""A lake's own records, kept in one SQLite file beside its PySyft state.

The owner's process and the Datasite's process (a separate one for a served lake) both open
this file: tables and policies, approvals, executed rounds, the privacy-budget ledger and the
hash-chained audit log all live here, so they survive restarts and are enforced by the lake
itself rather than by PySyft's output policies.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..protocol import Execution, Schedule

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS approvals (
    job_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, scientist TEXT NOT NULL,
    table_name TEXT NOT NULL, plan_hash TEXT NOT NULL, plan TEXT NOT NULL,
    source_hash TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, decided_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    job_id TEXT NOT NULL, phase TEXT NOT NULL, round INTEGER NOT NULL, at REAL NOT NULL,
    message_hash TEXT NOT NULL, result TEXT, PRIMARY KEY (job_id, phase, round));
CREATE TABLE IF NOT EXISTS ledger (
    scientist TEXT NOT NULL, table_name TEXT NOT NULL, job_id TEXT NOT NULL,
    epsilon REAL NOT NULL, at REAL NOT NULL, PRIMARY KEY (scientist, table_name, job_id));
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
"""

GENESIS = "0" * 64

# Who hears of a charge to a ledger, per state file: a lake's owner process reports the new
# figures to the scientist at once, whichever LakeState object (the lake's own, or the plan
# runner's for an in-process lake) recorded the spend.
_spend_listeners: dict[str, list[Callable[[str, str], None]]] = {}
_listeners_lock = threading.Lock()


def _ledger_key(path: str | Path) -> str:
    return str(Path(path).resolve())


def listen_to_spending(path: str | Path, listener: Callable[[str, str], None]) -> None:
    """Call ``listener(scientist, table)`` after each charge this process records in the
    ledger of the state file at ``path``."""
    with _listeners_lock:
        _spend_listeners.setdefault(_ledger_key(path), []).append(listener)


def stop_listening(path: str | Path, listener: Callable[[str, str], None]) -> None:
    with _listeners_lock:
        listeners = _spend_listeners.get(_ledger_key(path), [])
        if listener in listeners:
            listeners.remove(listener)


@dataclass(frozen=True)
class Approval:
    job_id: str
    request_id: str
    scientist: str
    table: str
    plan_hash: str
    plan: str
    source_hash: str
    status: str
    reason: str | None


def audit_hash(prev_hash: str, at: float, actor: str, action: str, detail: str) -> str:
    text = json.dumps([prev_hash, repr(at), actor, action, detail], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class LakeState:
    """Connection to one lake's state file; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # every commit on disk before it returns
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self, synced: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction. A ``synced`` commit is on disk when it returns. An unsynced
        one is written to the log file (it survives the process, not the machine's crash)
        and is on disk with the next synced commit of this file, which syncs the whole log:
        only for records that a synced commit always follows before anything they concern
        leaves the lake (:meth:`claim_execution`, :meth:`store_result`,
        :meth:`set_masking`: the release's audit entry, :meth:`log`, follows them)."""
        db = self._db()
        if not synced:
            db.execute("PRAGMA synchronous=NORMAL")
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            if not synced:
                db.execute("PRAGMA synchronous=FULL")

    # settings -----------------------------------------------------------------------------
    def set_setting(self, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(value)))

    def set_masking(self, key: str, value: Any) -> str:
        """Keep a job's secure-aggregation party as setting ``key``, unsynced: a call that
        changes it answers only after its synced audit entry (:meth:`_tx`). Returns the
        text stored."""
        text = json.dumps(value)
        with self._tx(synced=False) as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, text))
        return text

    def setting(self, key: str, default: Any = None) -> Any:
        text = self.setting_text(key)
        return default if text is None else json.loads(text)

    def setting_text(self, key: str) -> str | None:
        """Setting ``key`` as stored (JSON text), or ``None``."""
        row = self._db().execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    # tables -------------------------------------------------------------------------------
    def put_table(self, name: str, record: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO tables VALUES (?, ?)", (name, json.dumps(record)))

    def table(self, name: str) -> dict[str, Any] | None:
        text = self.table_text(name)
        return None if text is None else json.loads(text)

    def table_text(self, name: str) -> str | None:
        """Table ``name``'s record as stored (JSON text), or ``None``."""
        row = self._db().execute("SELECT record FROM tables WHERE name=?", (name,)).fetchone()
        return None if row is None else row[0]

    def table_names(self) -> list[str]:
        return [r[0] for r in self._db().execute("SELECT name FROM tables ORDER BY name")]

    # approvals ----------------------------------------------------------------------------
    def record_decision(self, approval: Approval) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO approvals VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    approval.job_id,
                    approval.request_id,
                    approval.scientist,
                    approval.table,
                    approval.plan_hash,
                    approval.plan,
                    approval.source_hash,
                    approval.status,
                    approval.reason,
                    time.time(),
                ),
            )

    def approval(self, job_id: str) -> Approval | None:
        row = (
            self._db()
            .execute(
                "SELECT job_id, request_id, scientist, table_name, plan_hash, plan, source_hash, "
                "status, reason FROM approvals WHERE job_id=?",
                (job_id,),
            )
            .fetchone()
        )
        return None if row is None else Approval(*row)

    def approval_for_request(self, request_id: str) -> Approval | None:
        row = (
            self._db()
            .execute("SELECT job_id FROM approvals WHERE request_id=?", (request_id,))
            .fetchone()
        )
        return None if row is None else self.approval(row[0])

    # executions ---------------------------------------------------------------------------
    def claim_execution(
        self, job_id: str, phase: str, round_: int, *, schedule: Schedule, message_hash: str
    ) -> Any:
        """Record one execution of ``phase`` ``round_`` that the job's ``schedule`` admits
        (:meth:`collab.protocol.Schedule.admit`: once each, in order, never past the phase's
        limit, whatever PySyft's output policy would allow), or refuse it. A retry of the
        latest execution with the very same message gets the stored result back, or ``None``
        (a recomputation) if the lake stopped before storing it, and never a new release.

        Unsynced (:meth:`_tx`): the release's synced audit entry follows it before the
        answer leaves; a claim lost to a machine's crash released nothing."""
        with self._tx(synced=False) as db:
            row = db.execute(
                "SELECT round, message_hash FROM executions WHERE job_id=? AND phase=? "
                "ORDER BY round DESC LIMIT 1",
                (job_id, phase),
            ).fetchone()
            last = None if row is None else Execution(int(row[0]), row[1])
            if schedule.admit(job_id, phase, round_, message_hash, last):
                # a replay of the latest execution: its stored answer (read only then: an
                # answer can be a large masked vector)
                stored = db.execute(
                    "SELECT result FROM executions WHERE job_id=? AND phase=? AND round=?",
                    (job_id, phase, int(row[0])),
                ).fetchone()
                return None if stored is None or stored[0] is None else json.loads(stored[0])
            db.execute(
                "INSERT INTO executions VALUES (?, ?, ?, ?, ?, NULL)",
                (job_id, phase, round_, time.time(), message_hash),
            )
            return None

    def store_result(self, job_id: str, phase: str, round_: int, result: Any) -> None:
        """Keep the answer of a claimed execution for a retry of it; unsynced, as the claim."""
        with self._tx(synced=False) as db:
            db.execute(
                "UPDATE executions SET result=? WHERE job_id=? AND phase=? AND round=?",
                (json.dumps(result), job_id, phase, round_),
            )

    def last_execution(self, job_id: str, phase: str) -> int:
        row = (
            self._db()
            .execute(
                "SELECT MAX(round) FROM executions WHERE job_id=? AND phase=?", (job_id, phase)
            )
            .fetchone()
        )
        return 0 if row[0] is None else int(row[0])

    def executions(self, job_id: str, phase: str | None = None) -> int:
        """How many messages of ``job_id`` ran here (of ``phase``; of any phase if ``None``)."""
        if phase is None:
            query, args = "SELECT COUNT(*) FROM executions WHERE job_id=?", (job_id,)
        else:
            query = "SELECT COUNT(*) FROM executions WHERE job_id=? AND phase=?"
            args = (job_id, phase)
        return int(self._db().execute(query, args).fetchone()[0])

    # exact releases ------------------------------------------------------------------------
    def fix_release_terms(
        self, scientist: str, table: str, terms: dict[str, Any], *, job: str
    ) -> None:
        """Hold ``scientist``'s exact releases from ``table`` to the ``terms`` of the first one
        (a histogram's grid, the lakes pooled), or refuse this one (:class:`PrivacyError`):
        two exact releases on different terms could be subtracted to isolate a few rows."""
        from .._errors import PrivacyError
        from ..plans._statistics import THRESHOLD_LIMIT as threshold_limit

        key = f"release-terms:{scientist}:{table}"
        with self._tx() as db:
            row = db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
            fixed = {} if row is None else json.loads(row[0])
            for term, value in terms.items():
                if term.startswith("below:"):
                    # thresholds counted below: the same ones again cost nothing, new ones
                    # add up to a limit per column (one describe request's worth)
                    seen = sorted(set(fixed.get(term, [])) | set(value))
                    if len(seen) > threshold_limit:
                        raise PrivacyError(
                            f"table {table!r}: exact counts below {len(fixed.get(term, []))} "
                            f"thresholds of column {term.split(':', 1)[1]!r} were released to "
                            f"you; {len(seen)} would pass the limit of {threshold_limit}, "
                            "past which they would draw the column's distribution finely. "
                            "Ask for the same quantiles again, or with dp=collab.DP(...)."
                        )
                    fixed[term] = seen
                    continue
                if term in fixed and fixed[term] != value:
                    what = term.split(":", 1)
                    if what[0] == "survival":
                        said = (
                            f"counts of column {what[1]!r} per bin of the time grid "
                            f"{fixed[term]} were released to you; counts on another grid "
                            "could be subtracted from them to isolate patients. Ask on the same "
                            "grid (times=None, or the times asked before)"
                        )
                    elif what[0] == "grid":
                        said = (
                            f"an exact histogram of column {what[1]!r} was released to you "
                            f"with {fixed[term]} bins; one with {value} bins would overlap it "
                            f"and their difference could isolate rows. Ask with "
                            f"bins={fixed[term]}"
                        )
                    else:
                        said = (
                            f"exact statistics were released to you pooled over lakes "
                            f"{', '.join(fixed[term])}; pooling {', '.join(value)} instead "
                            "would let the difference reveal the lakes left out. Ask with the "
                            "same lakes"
                        )
                    raise PrivacyError(
                        f"table {table!r}: {said}, or with dp=collab.DP(...), whose noise "
                        "covers any overlap."
                    )
                fixed[term] = value
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(fixed)))

    # ledger -------------------------------------------------------------------------------
    def spend(self, scientist: str, table: str, job_id: str, epsilon: float, policy: Any) -> None:
        """Record ``epsilon`` spent by ``scientist`` on ``table`` for a job, unless it would
        pass the ``policy``'s limit (:class:`BudgetExceeded`)."""
        from .._errors import BudgetExceeded

        with self._tx() as db:
            spent = db.execute(
                "SELECT COALESCE(SUM(epsilon), 0) FROM ledger WHERE scientist=? AND table_name=? "
                "AND job_id != ?",
                (scientist, table, job_id),
            ).fetchone()[0]
            left = policy.epsilon_left(spent)
            if left is not None and epsilon > left + 1e-12:
                raise BudgetExceeded(
                    f"table {table!r}: {scientist} has spent epsilon {spent:g} of the owner's "
                    f"{policy.max_epsilon:g}; this plan needs {epsilon:g}, which would pass the "
                    f"limit. Lower epsilon to at most {left:g}."
                )
            db.execute(
                "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?)",
                (scientist, table, job_id, epsilon, time.time()),
            )
        with _listeners_lock:
            listeners = list(_spend_listeners.get(_ledger_key(self.path), ()))
        for listener in listeners:
            # the charge stands whatever a listener does; a report it fails to send is
            # sent again by the lake's watcher
            try:
                listener(scientist, table)
            except Exception:
                continue

    def spent(self, scientist: str) -> dict[str, float]:
        rows = self._db().execute(
            "SELECT table_name, SUM(epsilon) FROM ledger WHERE scientist=? GROUP BY table_name",
            (scientist,),
        )
        return {name: float(total) for name, total in rows}

    # audit --------------------------------------------------------------------------------
    def log(self, actor: str, action: str, **detail: Any) -> None:
        """Append one entry to the hash-chained audit log."""
        text = json.dumps(detail, sort_keys=True, default=str)
        with self._tx() as db:
            row = db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            prev = GENESIS if row is None else row[0]
            at = time.time()
            db.execute(
                "INSERT INTO audit (at, actor, action, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (at, actor, action, text, prev, audit_hash(prev, at, actor, action, text)),
            )

    def decision_entry(self, job_id: str) -> dict[str, Any] | None:
        """The audit entry that approved ``job_id``: what a model card cites (its ``seq``,
        time, actor and hash, which the owner's log can be checked against)."""
        pattern = f'%"job": {json.dumps(job_id)}%'
        row = (
            self._db()
            .execute(
                "SELECT seq, at, actor, hash FROM audit WHERE action='approve' AND detail LIKE ? "
                "ORDER BY seq DESC LIMIT 1",
                (pattern,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return {"seq": int(row[0]), "at": float(row[1]), "actor": row[2], "hash": row[3]}

    def decision_of(self, request_id: str, action: str) -> dict[str, Any] | None:
        """The newest audit entry that made decision ``action`` (``approve``, ``deny`` or
        ``refuse``) on request ``request_id``: its time and actor."""
        pattern = f'%"request": {json.dumps(request_id)}%'
        row = (
            self._db()
            .execute(
                "SELECT seq, at, actor FROM audit WHERE action=? AND detail LIKE ? "
                "ORDER BY seq DESC LIMIT 1",
                (action, pattern),
            )
            .fetchone()
        )
        return None if row is None else {"seq": int(row[0]), "at": float(row[1]), "actor": row[2]}

    def audit_rows(self) -> list[tuple[int, float, str, str, str, str, str]]:
        return list(
            self._db().execute(
                "SELECT seq, at, actor, action, detail, prev_hash, hash FROM audit ORDER BY seq"
            )
        )

    def verify_audit(self) -> int | None:
        """The ``seq`` of the first entry whose chain is broken, or ``None`` if intact."""
        prev = GENESIS
        for seq, at, actor, action, detail, prev_hash, digest in self.audit_rows():
            if prev_hash != prev or audit_hash(prev, at, actor, action, detail) != digest:
                return seq
            prev = digest
        return None
