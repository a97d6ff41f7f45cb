"""Hosting a table where it lives, or a view over the lake's tables, and publishing them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Unpack

from .._errors import CollabError
from .._policy import Policy
from .._publication import Publication, Settings, by_column
from .._schema import ColumnSchema, TableSchema, coarse_rows, column_kind
from ._records import NAME, OWNER, LakeRecords

_SOURCE_KEYS = ("source", "format", "view")  # what a view needs of each table it reads


class Hosting(LakeRecords):
    """The owner's tables and views (part of :class:`collab.Lake`)."""

    def add_table(
        self,
        name: str,
        path: str | Path,
        *,
        format: str | None = None,
        **settings: Unpack[Settings],
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
        publication = Publication.checked(f"lake {self.name!r}: table {name!r}", settings)
        return self._publish("table", name, {"source": source, "format": fmt}, publication)

    def add_view(self, name: str, sql: str, **settings: Unpack[Settings]) -> TableSchema:
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
            if record is not None and record.get("stream"):
                raise CollabError(
                    f"{where}: its SQL reads {table!r}, a stream, whose rows keep changing; "
                    "a view reads the lake's tables (train on the stream itself)"
                )
            return None if record is None else {k: record.get(k) for k in _SOURCE_KEYS}

        try:
            view = engine.define_view(sql, base, where=where)
        except CollabError as exc:
            raise CollabError(f"{exc} (this lake hosts: {hosted})") from exc
        bounds, categories = self._kept_through(
            view, where, settings.get("bounds"), settings.get("categories")
        )
        publication = Publication.checked(
            where, {**settings, "bounds": bounds, "categories": categories}
        )
        source = {"source": engine.view_source(name, view), "format": engine.VIEW, "view": view}
        return self._publish("view", name, source, publication)

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

        given_bounds = dict(by_column(label, "bounds", bounds))
        given_categories = dict(by_column(label, "categories", categories))
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
        if not isinstance(name, str) or not NAME.match(name):
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
        publication: Publication,
        binary: frozenset[str] | None = None,
    ) -> TableSchema:
        """Read a table or view (``where``: its ``source``, ``format`` and ``view``), check the
        owner's settings against it, keep its record and publish its schema and policy.
        ``binary``: the 0/1-only columns, when not those of the rows read (a stream's come
        from the files present when it is added)."""
        from .. import engine

        label = f"lake {self.name!r}: {kind} {name!r}"
        policy, published = publication.policy, publication.categories
        self._spark()
        try:
            facts = engine.inspect(
                where["source"], where["format"], view=where.get("view"), publication=publication
            )
        except CollabError as exc:
            message = str(exc)
            raise CollabError(message if message.startswith(label) else f"{label}: {exc}") from exc
        publication.check_columns(label, facts.types)
        columns = tuple(
            ColumnSchema(
                name=column,
                type=spark_type,
                nullable=facts.nullable[column],
                kind=column_kind(
                    spark_type,
                    column in (facts.binary if binary is None else binary),
                    column in published,
                ),
                description=publication.column_descriptions.get(column, ""),
                private=column in publication.private_columns,
                bounds=publication.bounds.get(column),
                categories=published.get(column),
            )
            for column, spark_type in facts.types.items()
        )
        schema = TableSchema(
            lake=self.name,
            name=name,
            columns=columns,
            description=publication.description,
            rows_at_least=coarse_rows(facts.rows),
            # a stream's rows are still to come: the lake checks its minimum at every step
            extra={"stream": True}
            if kind == "stream"
            else {"meets_min_rows": facts.rows >= policy.min_rows},
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
                publication.description,
                private={"lake": self.name, "table": name, "state": str(self._state.path)},
                mock=self._public(schema, policy),
            )
        detail: dict[str, Any] = {}
        if kind == "view":
            view = where["view"]
            detail = {"sql": view["sql"], "reads": [t["name"] for t in view["tables"]]}
        elif kind == "stream":
            detail = {"path": where["stream"]["path"], "format": where["stream"]["format"]}
        private = list(publication.private_columns)
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

    def set_policy(self, table: str, policy: Policy) -> None:
        """Replace a table's policy; it applies to every later approval and execution."""
        record = self._record(table)
        if not isinstance(policy, Policy):
            raise TypeError(
                f"lake {self.name!r}: table {table!r}: policy must be collab.Policy(...), "
                f"not {policy!r}"
            )
        schema = TableSchema.from_dict(record["schema"])
        extra = dict(schema.extra)
        if not record.get("stream"):
            extra["meets_min_rows"] = record["rows"] >= policy.min_rows
        record["schema"] = TableSchema.from_dict({**schema.to_dict(), "extra": extra}).to_dict()
        record["policy"] = policy.to_dict()
        self._state.put_table(table, record)
        self._state.log(OWNER, "policy set", table=table, policy=policy.to_dict())
        self._report_budgets()  # a new max_epsilon changes what every scientist has left
