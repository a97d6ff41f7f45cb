"""The data owner's side of a lake: tables kept in place, scientists, requests, records."""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._args import names, text, whole
from .._display import RichDisplay
from .._errors import AlreadyDecided, BudgetExceeded, CollabError, PlanError, PrivacyError
from .._policy import Policy
from .._schema import NUMERIC_TYPES, ColumnSchema, TableSchema, coarse_rows, column_kind
from ..plans import Plan
from ..transport import CodeRequest, Datasite, recognise
from ._served import ServedProcess
from ._state import Approval, LakeState, listen_to_spending, stop_listening

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
OWNER = "owner"
STATUSES = ("pending", "approved", "denied", "refused")
_ACTIONS = {"approved": "approve", "denied": "deny", "refused": "refuse"}
_DECIDERS = {OWNER: "the owner", "policy": "the table's policy", "lake": "the lake"}
_SOURCE_KEYS = ("source", "format", "view")  # what a view needs of each table it reads


def _category_values(label: str, column: str, values: Any) -> list[Any]:
    """The published categories of ``column`` as a list of distinct plain values."""
    problem = None
    if isinstance(values, str | bytes | Mapping | set | frozenset) or not isinstance(
        values, Iterable
    ):
        problem = f"must be a list of values, not {values!r}"
    else:
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
        if not values:
            problem = "must list at least one value"
        elif not all(isinstance(v, str | int | float | bool) for v in values) or any(
            isinstance(v, float) and math.isnan(v) for v in values
        ):
            problem = (
                f"must be text, numbers or true/false (a missing value is not one): {values!r}"
            )
        elif len({(type(v) is bool, v) for v in values}) != len(values):
            problem = f"name a value more than once: {values!r}"
    if problem is not None:
        raise CollabError(f"{label}: categories of {column!r} {problem}")
    return values


def _mapping(label: str, parameter: str, value: Any) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        example = {"bounds": "{'age': (0, 120)}", "categories": "{'sex': ['F', 'M']}"}.get(
            parameter, "{'age': 'age at admission'}"
        )
        raise TypeError(
            f"{label}: {parameter} must map column names to values, e.g. "
            f"{parameter}={example}, not {value!r}"
        )
    return value


def _descriptions(label: str, value: Any) -> dict[str, str]:
    descriptions = dict(_mapping(label, "column_descriptions", value))
    for column, description in descriptions.items():
        if not isinstance(description, str):
            raise TypeError(
                f"{label}: column_descriptions[{column!r}] must be text, not {description!r}"
            )
    return descriptions


def _ranges(label: str, value: Any) -> dict[str, tuple[float, float]]:
    """The owner's ``bounds`` as ``{column: (low, high)}`` floats, checked."""
    ranges = {}
    for column, pair in _mapping(label, "bounds", value).items():
        if (
            isinstance(pair, str | bytes | Mapping)
            or not isinstance(pair, Iterable)
            or len(pair := tuple(pair)) != 2
            or not all(
                isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in pair
            )
            or not all(math.isfinite(float(v)) for v in pair)
        ):
            raise CollabError(
                f"{label}: bounds of {column!r} must be two finite numbers (low, high), e.g. "
                f"bounds={{{str(column)!r}: (0, 120)}}; got {pair!r}"
            )
        low, high = float(pair[0]), float(pair[1])
        if not low < high:
            raise CollabError(
                f"{label}: bounds of {column!r} must have low < high, got ({low}, {high})"
            )
        ranges[str(column)] = (low, high)
    return ranges


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
    _lake: Lake | None = field(default=None, repr=False, compare=False)

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


class Lake(RichDisplay):
    """A data owner's lake: a PySyft Datasite with tables that Spark reads where they live.

    Use :meth:`launch` to start one, in this process (``port=None``) or served over HTTP.
    """

    def __init__(
        self,
        name: str,
        datasite: Datasite,
        state: LakeState,
        data_dir: Path,
        *,
        temporary: bool = False,
        watch: bool = True,
    ) -> None:
        self.name = name
        self.data_dir = data_dir
        self._temporary = temporary
        self._datasite = datasite
        self._state = state
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._reported: dict[str, dict[str, Any]] = {}  # scientist -> figures last sent
        self._report_lock = threading.Lock()
        listen_to_spending(state.path, self._spent)
        self._watcher = threading.Thread(
            target=self._watch, name=f"collab-lake-{name}", daemon=True
        )
        if watch:
            self._watcher.start()

    # lifecycle ----------------------------------------------------------------------------
    @classmethod
    def launch(
        cls,
        name: str,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        data_dir: str | Path | None = None,
        spark_master: str | None = None,
        spark_conf: Mapping[str, str] | None = None,
        admin_password: str | None = None,
        database_url: str | None = None,
    ) -> Lake:
        """Start the lake ``name``: in this process, or served at ``http://host:port``.

        Launching again with the same ``data_dir`` reopens the lake with everything it had:
        tables, scientists, approvals, the privacy-budget ledger and the audit log.

        Parameters
        ----------
        name
            The lake's name, shown to scientists (letters, digits, ``-``, ``_``, ``.``).
        port
            Serve the Datasite over HTTP on this port; ``None`` runs it in this process.
        data_dir
            Where the lake keeps its records; a fresh temporary folder when ``None``.
        spark_master, spark_conf
            Spark's master URL (``local[*]`` by default; ``spark://``, ``k8s://`` and ``sc://``
            work too) and extra Spark settings for the lake's jobs.
        admin_password
            Replaces PySyft's default admin password (needed again to reopen the lake).
        database_url
            Keep the Datasite's records in PostgreSQL (``postgresql://user:pw@host/db``)
            instead of SQLite under ``data_dir``.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise CollabError(
                f"{name!r} is not a usable lake name: use 1-63 letters, digits, '-', '_' or '.'"
            )
        if port is not None:
            whole(port, "port", least=1, most=65535)
        text(host, "host")
        temporary = data_dir is None
        directory = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix=f"collab-{name}-"))
        directory = directory.resolve()
        state = LakeState(directory / "collab.sqlite")
        instance = state.setting("instance")
        reopening = instance is not None
        if not reopening:
            instance = uuid.uuid4().hex[:12]
        server = None
        if port is not None:
            server = ServedProcess(name, host, port, state.path)
            server.check_port_free()

        def login_refused(email: str, reason: str) -> None:
            # PySyft refuses a login without a trace; the owner should see attempts
            state.log("lake", "login failed", email=email, reason=reason)

        datasite = Datasite.launch(
            name,
            server=server,
            instance=instance,
            reset=not reopening,
            admin_password=admin_password,
            storage_dir=directory / "syft",
            database_url=database_url,
            login_refused=login_refused,
        )
        # recorded once the Datasite runs: a launch that failed leaves a lake to start afresh
        state.set_setting("instance", instance)
        state.set_setting("name", name)
        state.set_setting("spark", {"master": spark_master, "conf": dict(spark_conf or {})})
        state.log(OWNER, "lake reopened" if reopening else "lake started", url=datasite.url)
        return cls(name, datasite, state, directory, temporary=temporary)

    @classmethod
    def attach(cls, data_dir: str | Path, url: str, admin_password: str) -> Lake:
        """The owner's handle on a lake that another process serves (``collab lake serve``)."""
        directory = Path(data_dir).resolve()
        if not (directory / "collab.sqlite").exists():
            raise CollabError(f"{directory} holds no lake; give the data_dir of a served lake")
        state = LakeState(directory / "collab.sqlite")
        name = state.setting("name")
        datasite = Datasite.attach(name, url, admin_password)
        return cls(name, datasite, state, directory, watch=False)

    @property
    def url(self) -> str | None:
        """The lake's HTTP address, or ``None`` when it runs in this process."""
        return self._datasite.url

    def stop(self) -> None:
        """Stop the lake's Datasite; its records stay in :attr:`data_dir`."""
        if self._stop.is_set():
            return
        self._stop.set()
        stop_listening(self._state.path, self._spent)
        self._datasite.stop()
        self._state.log(OWNER, "lake stopped")
        if self._temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url or "in-process"
        return f"<Lake {self.name!r} ({where}) tables={self.tables}>"

    # tables -------------------------------------------------------------------------------
    def add_table(
        self,
        name: str,
        path: str | Path,
        *,
        format: str | None = None,
        description: str = "",
        private_columns: Iterable[str] = (),
        column_descriptions: Mapping[str, str] | None = None,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
        policy: Policy | None = None,
    ) -> TableSchema:
        """Host a table that stays where it is; publish only its schema and policy.

        Parameters
        ----------
        name
            The table's name as scientists will see it.
        path
            Where the table lives, in any form Spark reads (a file, a folder, a URL), or
            ``catalog:db.table`` for a table in Spark's catalog.
        format
            ``parquet``, ``csv``, ``json``, ``orc`` or ``delta``; guessed from ``path`` (a
            folder with a ``_delta_log`` is Delta).
        private_columns
            Columns no plan may use (identifiers, free text). Shown as private in the schema.
        column_descriptions
            Descriptions shown beside each column.
        bounds
            ``{column: (low, high)}`` ranges the owner publishes for numeric columns; DP plans
            need them (values outside are clipped to them). Publish ranges known in advance
            (clinical limits), not the data's own extremes, which are single rows' values.
        categories
            ``{column: [value, ...]}``: the values a column may hold, published with the
            schema (a label's classes, for example ``{"grade": [1, 2, 3]}``). Rows holding
            another value are counted for the owner (:meth:`unmatched_categories`).
        policy
            The owner's rules for this table (``collab.Policy``); a default policy otherwise.

        Returns
        -------
        TableSchema
            What scientists will see.
        """
        from .. import engine

        self._check_new_name(name, "table")
        source = str(path)
        if source.startswith(engine.CATALOG_PREFIX):
            fmt = engine.CATALOG
            if not source.removeprefix(engine.CATALOG_PREFIX).strip():
                raise CollabError(
                    f"lake {self.name!r}: table {name!r}: name the catalog table, as in "
                    "path='catalog:db.table'"
                )
            if format not in (None, fmt):
                raise CollabError(
                    f"lake {self.name!r}: table {name!r}: {source!r} is a catalog table, which "
                    f"Spark reads in its own format; leave out format={format!r}"
                )
        else:
            if "://" not in source and not Path(source).exists():
                raise CollabError(
                    f"lake {self.name!r}: table {name!r}: no file or folder at {source!r}. Give "
                    "the path of the table's data (Parquet, CSV, JSON, ORC or Delta), or "
                    "'catalog:db.table' for a table in Spark's catalog."
                )
            if format is not None and not isinstance(format, str):
                raise TypeError(
                    f"lake {self.name!r}: table {name!r}: format must be one of "
                    f"{', '.join(engine.FORMATS)}, not {format!r}"
                )
            try:
                fmt = (format or engine.guess_format(source)).lower()
            except CollabError as exc:
                raise CollabError(f"lake {self.name!r}: table {name!r}: {exc}") from exc
            if fmt not in engine.FORMATS:
                raise CollabError(
                    f"lake {self.name!r}: table {name!r}: unknown format {fmt!r}; use parquet, "
                    "csv, json, orc or delta"
                )
        return self._publish(
            "table",
            name,
            {"source": source, "format": fmt},
            description=description,
            private_columns=private_columns,
            column_descriptions=column_descriptions,
            bounds=bounds,
            categories=categories,
            policy=policy,
        )

    def add_view(
        self,
        name: str,
        sql: str,
        *,
        description: str = "",
        private_columns: Iterable[str] = (),
        column_descriptions: Mapping[str, str] | None = None,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
        policy: Policy | None = None,
    ) -> TableSchema:
        """Host a table defined in Spark SQL over the tables this lake hosts: a consented
        subset, a join, derived columns.

        Scientists see it as a table like any other, with its own schema and policy; its SQL
        and the tables it reads stay with the owner. It is read afresh for every job.

        Parameters
        ----------
        name
            The view's name as scientists will see it (as a table).
        sql
            One Spark SQL query naming the lake's tables as it hosts them, for example
            ``SELECT id, age, sex, outcome FROM patients WHERE consent = true``.
        description, private_columns, column_descriptions, policy
            As for :meth:`add_table`, about the view's columns.
        bounds, categories
            As for :meth:`add_table`. A column that passes a hosted table's column through
            unchanged (``SELECT *``, a rename, a filter, a join) keeps the bounds and
            categories that table publishes; give the view's own here to replace them, or
            ``None`` for a column to publish none. A computed column (``age * 2 AS age2``)
            publishes only what is given here.

        Returns
        -------
        TableSchema
            What scientists will see.
        """
        from .. import engine

        self._check_new_name(name, "view")
        self._spark()
        where = f"lake {self.name!r}: view {name!r}"
        hosted = ", ".join(self.tables) or "none"

        def base(table: str) -> dict[str, Any] | None:
            record = self._state.table(table)
            return None if record is None else {k: record.get(k) for k in _SOURCE_KEYS}

        try:
            view = engine.define_view(sql, base, where=where)
        except CollabError as exc:
            raise CollabError(f"{exc} (this lake hosts: {hosted})") from exc
        bounds, categories = self._kept_through(view, where, bounds, categories)
        return self._publish(
            "view",
            name,
            {"source": engine.view_source(name, view), "format": engine.VIEW, "view": view},
            description=description,
            private_columns=private_columns,
            column_descriptions=column_descriptions,
            bounds=bounds,
            categories=categories,
            policy=policy,
        )

    def _kept_through(
        self,
        view: Mapping[str, Any],
        label: str,
        bounds: Mapping[str, Any] | None,
        categories: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A view's bounds and categories: for each column that passes a hosted table's
        column through unchanged, what that table publishes, unless the owner gives the view
        its own (``None`` for a column: publish none); a computed column publishes only what
        the owner gives."""
        from .. import engine

        given_bounds = dict(_mapping(label, "bounds", bounds))
        given_categories = dict(_mapping(label, "categories", categories))
        kept_bounds: dict[str, Any] = {}
        kept_categories: dict[str, Any] = {}
        for column, (table, origin) in engine.view_lineage(view).items():
            source = self.schema(table)
            if origin not in source.column_names:
                continue
            published = source.column(origin)
            if published.bounds is not None:
                kept_bounds[column] = tuple(published.bounds)
            if published.categories is not None:
                kept_categories[column] = list(published.categories)
        merged_bounds = {**kept_bounds, **given_bounds}
        merged_categories = {**kept_categories, **given_categories}
        return (
            {k: v for k, v in merged_bounds.items() if v is not None},
            {k: v for k, v in merged_categories.items() if v is not None},
        )

    def _check_new_name(self, name: str, kind: str) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise CollabError(
                f"lake {self.name!r}: {name!r} is not a usable {kind} name "
                "(1-63 letters, digits, '-', '_' or '.')"
            )
        if name in self._state.table_names():
            raise CollabError(
                f"lake {self.name!r} already hosts a table {name!r}; pick another name for "
                f"this {kind}"
            )

    def _spark(self) -> None:
        """Start Spark with the lake's own settings: a table only the cluster can reach (its
        storage configured in spark.conf) is read there too."""
        from .. import engine

        spark = self._state.setting("spark", {}) or {}
        engine.spark_session(spark.get("master"), spark.get("conf"))

    def _publish(
        self,
        kind: str,
        name: str,
        where: dict[str, Any],
        *,
        description: str,
        private_columns: Iterable[str],
        column_descriptions: Mapping[str, str] | None,
        bounds: Mapping[str, tuple[float, float]] | None,
        categories: Mapping[str, Sequence[Any]] | None,
        policy: Policy | None,
    ) -> TableSchema:
        """Read a table or view (``where``: its ``source``, ``format`` and ``view``), check the
        owner's settings against it, keep its record and publish its schema and policy."""
        from .. import engine

        label = f"lake {self.name!r}: {kind} {name!r}"
        policy = Policy() if policy is None else policy
        if not isinstance(policy, Policy):
            raise TypeError(f"{label}: policy must be collab.Policy(...), not {policy!r}")
        if not isinstance(description, str):
            raise TypeError(f"{label}: description must be text, not {description!r}")
        try:
            private = list(names(private_columns, "private_columns"))
        except TypeError as exc:
            raise TypeError(f"{label}: {exc}") from exc
        descriptions = _descriptions(label, column_descriptions)
        ranges = _ranges(label, bounds)
        published = {
            str(column): _category_values(label, column, values)
            for column, values in _mapping(label, "categories", categories).items()
        }
        self._spark()
        try:
            facts = engine.inspect(
                where["source"], where["format"], view=where.get("view"), categories=published
            )
        except CollabError as exc:
            message = str(exc)
            raise CollabError(message if message.startswith(label) else f"{label}: {exc}") from exc
        for column in [*private, *descriptions, *ranges, *published]:
            if column not in facts.types:
                raise CollabError(
                    f"{label} has no column {column!r}; its columns are {', '.join(facts.types)}"
                )
        for column in ranges:
            base = facts.types[column].split("(")[0]
            if base not in NUMERIC_TYPES:
                raise CollabError(
                    f"{label}: column {column!r} holds {facts.types[column]} values, and bounds "
                    "are a range of numbers; publish bounds only for numeric columns (for a "
                    "column of a few values, publish its categories instead)"
                )
        for column, values in published.items():
            base = facts.types[column].split("(")[0]
            if base == "boolean":
                wanted, fits = "true or false", all(isinstance(v, bool) for v in values)
            elif base in NUMERIC_TYPES:
                wanted = "numbers"
                fits = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            else:
                wanted, fits = "", True
            if not fits:
                raise CollabError(
                    f"{label}: column {column!r} holds {facts.types[column]} values, so its "
                    f"categories must be {wanted}, not {values!r}"
                )
        columns = tuple(
            ColumnSchema(
                name=column,
                type=spark_type,
                nullable=facts.nullable[column],
                kind=column_kind(spark_type, column in facts.binary, column in published),
                description=descriptions.get(column, ""),
                private=column in private,
                bounds=ranges.get(column),
                categories=published.get(column),
            )
            for column, spark_type in facts.types.items()
        )
        schema = TableSchema(
            lake=self.name,
            name=name,
            columns=columns,
            description=description,
            rows_at_least=coarse_rows(facts.rows),
            extra={"meets_min_rows": facts.rows >= policy.min_rows},
        )
        unmatched = {c: facts.unmatched.get(c, 0) for c in published}
        record = {
            **where,
            "rows": facts.rows,
            "schema": schema.to_dict(),
            "policy": policy.to_dict(),
            "unmatched": unmatched,
        }
        with self._lock:
            self._state.put_table(name, record)
            self._datasite.upload_table(
                name,
                description,
                private={"lake": self.name, "table": name, "state": str(self._state.path)},
                mock=self._public(schema, policy),
            )
        detail: dict[str, Any] = {}
        if kind == "view":
            view = where["view"]
            detail = {"sql": view["sql"], "reads": [t["name"] for t in view["tables"]]}
        self._state.log(
            OWNER, f"{kind} added", table=name, rows=facts.rows, private=private, **detail
        )
        if published:
            self._state.log(OWNER, "categories unmatched", table=name, counts=unmatched)
        self._report_budgets()
        return schema

    @staticmethod
    def _public(schema: TableSchema, policy: Policy) -> dict[str, Any]:
        return {"collab": 1, "mock": True, "schema": schema.to_dict(), "policy": policy.to_dict()}

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

    def set_policy(self, table: str, policy: Policy) -> None:
        """Replace a table's policy; it applies to every later approval and execution."""
        record = self._record(table)
        if not isinstance(policy, Policy):
            raise TypeError(
                f"lake {self.name!r}: table {table!r}: policy must be collab.Policy(...), "
                f"not {policy!r}"
            )
        schema = TableSchema.from_dict(record["schema"])
        extra = dict(schema.extra, meets_min_rows=record["rows"] >= policy.min_rows)
        record["schema"] = TableSchema.from_dict({**schema.to_dict(), "extra": extra}).to_dict()
        record["policy"] = policy.to_dict()
        self._state.put_table(table, record)
        self._state.log(OWNER, "policy set", table=table, policy=policy.to_dict())
        self._report_budgets()  # a new max_epsilon changes what every scientist has left

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
        return Request(
            id=raw.id,
            scientist=raw.scientist,
            plan=recognised.plan,
            job_id=recognised.job_id,
            status=status,
            reason=reason,
            _lake=self,
        )

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
            self._state.record_decision(
                Approval(
                    job_id=recognised.job_id,
                    request_id=raw.id,
                    scientist=raw.scientist,
                    table=plan.table,
                    plan_hash=plan.hash,
                    plan=plan.spec_json,
                    source_hash=recognised.source_hash,
                    status="approved",
                    reason=None,
                )
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
                self._state.record_decision(
                    Approval(
                        job_id=job_id,
                        request_id=request_id,
                        scientist=scientist,
                        table=plan.table,
                        plan_hash=plan.hash,
                        plan=plan.spec_json,
                        source_hash="",
                        status="denied",
                        reason=reason,
                    )
                )
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
        self._state.record_decision(
            Approval(
                job_id=job_id,
                request_id=raw.id,
                scientist=raw.scientist,
                table=plan.table,
                plan_hash=plan.hash,
                plan=plan.spec_json,
                source_hash="",
                status="refused",
                reason=reason,
            )
        )
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

    def _display_(self) -> tuple[Any, str | None, Any]:
        from .._display import lake_info, lake_report

        return lake_report(lake_info(self)), None, None
