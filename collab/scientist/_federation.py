"""A data scientist's view of several lakes: schemas, synthetic rows, plans, jobs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._args import whole
from .._errors import BudgetExceeded, CollabError, LakeError, PlanError
from .._policy import Policy
from .._schema import TableSchema, presence
from ..plans import Evaluation, Model, Plan, Standardizer
from ..transport import ScientistSession, function_name, render
from ._job import Job, run_remote, train
from ._parties import MockParty
from ._releases import StatisticsRequests

if TYPE_CHECKING:
    from .._connections import Role
    from ..lake import Lake
    from ._follow import FollowJob

SIMULATION_ROWS = 200


def connect(
    lakes: Sequence[Lake | str] | None = None,
    *,
    email: str | None = None,
    password: str | None = None,
    save: bool = False,
    role: Role = "scientist",
) -> Federation:
    """Log in to every lake in ``lakes`` (``Lake`` objects or ``http://`` URLs).

    Parameters
    ----------
    lakes
        The lakes; ``None`` logs in to the saved lakes of ``role``, each with its saved
        email and password.
    email, password
        The account on every lake in ``lakes``.
    save
        After every login succeeded, save the lakes (name, URL, role, email) to
        ``<Jupyter config dir>/collab/connections.json`` and the password to
        ``credentials.json`` beside it (mode 0600), for ``collab.connect()`` and the
        JupyterLab Data Lakes panel. Only lakes served over HTTP can be saved.
    role
        ``"scientist"``, or ``"owner"`` for a lake's admin account (its email is
        ``info@openmined.org``): the Data Lakes panel then shows the lake's pending requests.

    Returns
    -------
    Federation
        The handle on those lakes.
    """
    from .. import _connections
    from ..lake import Lake

    if role not in _connections.ROLES:
        raise CollabError(f"role must be 'scientist' or 'owner', not {role!r}")
    logins: dict[str, Callable[[], ScientistSession]] = {}
    pending: list[Callable[[], ScientistSession]] = []
    if lakes is None:
        if email is not None or password is not None or save:
            raise CollabError(
                "connect() without lakes logs in to the saved lakes with their saved emails and "
                "passwords; to log in with others (or to save), name the lakes: "
                "connect([url, ...], email=..., password=...)"
            )
        pending = list(_connections.saved_logins(role).values())
    else:
        if isinstance(lakes, str | Lake) or not isinstance(lakes, Iterable):
            raise TypeError(
                "connect() takes a list of lakes (Lake objects or http:// URLs), not "
                f"{lakes!r}; put even one lake in a list: connect([lake], email=..., "
                "password=...)"
            )
        lakes = list(lakes)
        if not lakes:
            raise CollabError(
                "connect() was given an empty list of lakes; it needs at least one lake (a "
                "Lake object or an http:// URL), e.g. connect([lake], email=..., password=...)"
            )
        for lake in lakes:
            if not isinstance(lake, str | Lake):
                raise TypeError(
                    f"connect() takes Lake objects or http:// URLs in its list, not {lake!r}"
                )
        if email is None or password is None:
            raise CollabError("connect() needs email= and password= for the lakes it is given")
        for lake in lakes:
            if isinstance(lake, str):
                name, url = lake, lake
                pending.append(partial(ScientistSession.login, lake, email, password))
            else:
                name, url = lake.name, lake.url
                pending.append(partial(lake._datasite.login, email, password))
            if save:  # before any login: nothing is saved unless everything can be
                _connections.check_savable(name, url, role, email)
    sessions: dict[str, ScientistSession] = {}
    for login in pending:
        session = login()
        if session.lake in sessions:
            raise CollabError(f"lake {session.lake!r} is listed twice")
        sessions[session.lake] = session
        logins[session.lake] = login
    if save:
        assert email is not None and password is not None
        _connections.save_connections(
            [
                _connections.Connection(name, str(s.url), role, email)
                for name, s in sessions.items()
            ],
            dict.fromkeys(sessions, password),
        )
    return Federation(sessions, logins)


class Federation(StatisticsRequests):
    """Lakes a scientist is logged in to. Only public facts and aggregates pass through it.

    ``round_channel`` (default ``True``): after a job's first exchange over PySyft, its later
    rounds travel over the round channel each lake's ticket opens, which the lake checks,
    counts and records like a PySyft execution; ``False`` sends every round over PySyft.
    """

    round_channel: bool = True

    def __init__(
        self,
        sessions: dict[str, ScientistSession],
        logins: dict[str, Callable[[], ScientistSession]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._logins = logins or {}
        self._public: dict[tuple[str, str], dict[str, Any]] = {}

    @property
    def lakes(self) -> list[str]:
        return list(self._sessions)

    def close(self) -> None:
        """Log out of every lake; the federation (and its jobs' calls) can do nothing more,
        and the memory its clients held is freed. Connect again with :func:`collab.connect`."""
        for session in self._sessions.values():
            session.close()

    def __repr__(self) -> str:
        return f"<Federation lakes={self.lakes}>"

    @property
    def tables(self) -> dict[str, list[str]]:
        """Table names, per lake."""
        return {name: session.tables() for name, session in self._sessions.items()}

    @property
    def streams(self) -> dict[str, list[str]]:
        """Per lake, the tables that are streams: their rows keep arriving, and what you
        compute on one reads the rows that have arrived."""
        return {
            lake: [
                t
                for t in session.tables()
                if TableSchema.from_dict(self._published(lake, t)["schema"]).extra.get("stream")
            ]
            for lake, session in self._sessions.items()
        }

    def _published(self, lake: str, table: str) -> dict[str, Any]:
        key = (lake, table)
        if key not in self._public:
            session = self._sessions[lake]
            if table not in session.tables():
                raise PlanError(
                    f"lake {lake!r} has no table {table!r}; it has: "
                    f"{', '.join(session.tables()) or 'none'}"
                )
            self._public[key] = session.table_mock(table)
        return self._public[key]

    def table_schemas(self, table: str) -> dict[str, TableSchema]:
        """Each lake's published schema of ``table``."""
        return {
            lake: TableSchema.from_dict(self._published(lake, table)["schema"])
            for lake in self._sessions
        }

    def policies(self, table: str) -> dict[str, Policy]:
        """Each lake owner's published policy for ``table``."""
        return {
            lake: Policy.from_dict(self._published(lake, table)["policy"])
            for lake in self._sessions
        }

    def schema(self, table: str) -> pd.DataFrame:
        """Columns of ``table`` across lakes: type, nullability, kind, published categories,
        description, private, and one column per lake saying ``ok``, ``missing`` or
        ``differs: <type>``."""
        present: dict[str, TableSchema] = {}
        for lake, session in self._sessions.items():
            if table in session.tables():
                present[lake] = TableSchema.from_dict(self._published(lake, table)["schema"])
        if not present:
            raise PlanError(f"no lake has a table {table!r}; tables per lake: {self.tables}")
        order: list[str] = []
        first: dict[str, Any] = {}
        for schema in present.values():
            for column in schema.columns:
                if column.name not in first:
                    order.append(column.name)
                    first[column.name] = column
        rows = []
        for name in order:
            column = first[name]
            row = {
                "column": name,
                "type": column.type,
                "nullable": column.nullable,
                "kind": column.kind,
                "categories": list(column.categories) if column.categories else None,
                "private": column.private,
                "description": column.description,
            }
            row.update(presence({lake: present.get(lake) for lake in self._sessions}, name))
            rows.append(row)
        frame = pd.DataFrame(rows)
        # the lakes where the table is a stream (its rows keep arriving)
        frame.attrs["stream"] = [k for k, s in present.items() if s.extra.get("stream")]
        return frame

    def budget(self, table: str) -> pd.Series:
        """The differential-privacy budget (epsilon) you have left on ``table``, per lake.

        Each lake reports your own figures to you alone (no other scientist can read them)
        when it registers you and whenever your spending or its policy changes; this reads
        the newest report of every lake.

        Parameters
        ----------
        table
            The table's name, as in :attr:`tables`.

        Returns
        -------
        pandas.Series
            Named ``"epsilon left"``, indexed by lake: the owner's ``max_epsilon`` minus what
            your approved DP plans spent there. ``NaN`` where the lake's policy sets no limit.
        """
        left: dict[str, float] = {}
        for lake, session in self._sessions.items():
            report = session.budget_report() or {}
            figures = (report.get("tables") or {}).get(table)
            if figures is None:
                hosted = session.tables()
                if table not in hosted:
                    raise PlanError(
                        f"lake {lake!r} has no table {table!r}; it has: "
                        f"{', '.join(hosted) or 'none'}"
                    )
                raise LakeError(
                    lake,
                    f"no report yet of your privacy budget on table {table!r}. A lake sends it "
                    "when it registers you and whenever it changes: try again in a few "
                    "seconds, and if it stays missing ask the lake's owner to check the lake "
                    "is running.",
                )
            value = figures.get("left")
            left[lake] = np.nan if value is None else float(value)
        return pd.Series(left, name="epsilon left", dtype=float).rename_axis("lake")

    def _check_budget(self, plan: Plan) -> None:
        """Refuse a DP plan, before it is sent, where the lake's newest report of your budget
        leaves less epsilon than it asks. A lake that has not reported (or sets no limit) is
        not asked here: it checks its ledger itself when its owner approves."""
        if plan.dp is None:
            return
        asked = float(plan.dp.epsilon)
        for lake, session in self._sessions.items():
            report = session.budget_report() or {}
            figures = (report.get("tables") or {}).get(plan.table) or {}
            if figures.get("left") is None:
                continue
            left = float(figures["left"])
            if asked <= left + 1e-12:
                continue
            limit = figures.get("limit")
            of = f" of the owner's {float(limit):g}" if limit is not None else ""
            advice = (
                f"Lower epsilon to at most {left:g}, or ask the lake's owner for more budget"
                if left > 0
                else "Your budget there is spent: ask the lake's owner for more (a higher "
                "Policy(max_epsilon=...))"
            )
            error = BudgetExceeded(
                f"lake {lake!r}: table {plan.table!r}: you have epsilon {left:g} left{of} "
                f"(fed.budget({plan.table!r})) and this request asks for {asked:g}; nothing "
                f"was sent. {advice}."
            )
            error.lake = lake
            raise error

    def mock(self, table: str, n: int = 5, seed: int = 0) -> pd.DataFrame:
        """``n`` synthetic rows per lake, made from each lake's schema (never real rows)."""
        whole(n, "n", least=1)
        whole(seed, "seed")
        frames = []
        for i, (lake, schema) in enumerate(self.table_schemas(table).items()):
            frame = schema.synthetic(n, seed=seed + i)
            frame.insert(0, "lake", lake)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def private_data(self, table: str, lake: str | None = None) -> Any:
        """Always refused: a table's rows never leave its lake."""
        session = self._sessions[lake or self.lakes[0]]
        return session.table_private_data(table)

    def check(self, plan: Plan) -> Plan:
        """Check ``plan`` against every lake's published schema and policy (raises).

        Returns the plan as the lakes will receive it: settings it leaves to the owners (a
        label's classes) filled in from what they publish.
        """
        if not isinstance(plan, Plan):
            raise PlanError(f"expected a collab plan, got {type(plan).__name__}")
        schemas = self.table_schemas(plan.table)
        policies = self.policies(plan.table)
        plan = plan.resolved(schemas, policies)
        for lake, schema in schemas.items():
            plan.check_against(schema, policies[lake])
        if plan.secure_aggregation and (plan.secure_threshold or 0) > len(schemas):
            raise PlanError(
                f"secure_threshold {plan.secure_threshold} is more than the {len(schemas)} "
                "lakes of this federation; lower it (or leave it None for a majority)"
            )
        return plan

    def simulate(self, plan: Plan, *, rows: int = SIMULATION_ROWS) -> Job:
        """Run ``plan`` end to end on every lake's synthetic rows, here, asking no one.

        The same checks, coordinator, phase handler and arithmetic as :meth:`submit`; the
        rows come from each lake's schema, so the model is meaningless but every step and
        every refusal a lake would make for the plan is exercised.
        """
        plan = self.check(plan)
        schemas = self.table_schemas(plan.table)
        policies = self.policies(plan.table)
        job_id = uuid.uuid4().hex
        preset = self._preset(plan)
        parties = [
            MockParty(schema, policies[lake], plan, rows=rows, seed=i, job_id=job_id)
            for i, (lake, schema) in enumerate(schemas.items())
        ]
        job = Job(plan, job_id, list(schemas), lambda j: train(j, parties, preset))
        job.wait()
        return job

    def submit(self, plan: Plan) -> Job:
        """Send ``plan`` to every lake as one PySyft code request each, and start the job.

        Returns at once; ``job.result()`` waits for approvals and training. A plan with
        differential privacy that a lake's budget report (:meth:`budget`) says your budget
        there cannot pay for raises :class:`collab.BudgetExceeded` before anything is sent.
        """
        plan = self.check(plan)
        self._check_budget(plan)
        job_id = uuid.uuid4().hex
        source = render(job_id, plan)
        function = function_name(job_id)
        for session in self._sessions.values():
            session.submit(function, source, plan.table)
        preset = self._preset(plan)
        rows = {lake: s.rows_at_least for lake, s in self.table_schemas(plan.table).items()}
        return Job(
            plan,
            job_id,
            self.lakes,
            run_remote(
                dict(self._sessions),
                function,
                self._relogin,
                preset,
                {"lake_rows": rows},
                channel=self.round_channel,
            ),
        )

    def follow(
        self,
        plan: Plan,
        *,
        every_rows: int,
        max_updates: int,
        until: Any = None,
        window: int | None = None,
        min_lakes: int | None = None,
    ) -> FollowJob:
        """Follow a stream with ``plan`` (a family trained by rounds): a standing job the
        owners approve once, updated whenever every lake (or ``min_lakes``) holds
        ``every_rows`` rows it has not trained on, at most ``max_updates`` times, until
        ``until``; on the ``window`` most recent rows, if given. See :func:`._follow.follow`
        and :class:`collab.FollowJob`."""
        from ._follow import follow

        return follow(self, plan, every_rows, max_updates, until, window, min_lakes)

    def evaluate(self, model: Model, table: str, *, timeout: float | None = None) -> dict[str, Any]:
        """``model``'s metrics on every row of ``table`` (lakes that took no part in training:
        the external validation a study needs; ``model.evaluate(fed, table)`` is the same).

        Sent as a request each owner approves (the learned values travel with it; the
        owner's ``allowed_models`` is checked against the model's family); each lake computes
        its sums with Spark and only the pooled sums leave, securely aggregated. Waits, with
        progress, until the owners decided and the lakes answered.

        Returns
        -------
        dict
            scikit-learn's metric names: ``accuracy``, ``log_loss``, ``precision``,
            ``recall``, ``f1``, ``roc_auc`` (with ``roc_auc_error``, its largest error from
            binning the scores) and ``confusion_matrix`` for a classifier; ``rmse``, ``mae``,
            ``r2`` for a regression.
        """
        if not isinstance(model, Model):
            raise PlanError(f"expected a trained collab model, got {type(model).__name__}")
        request = Evaluation(
            table=table,
            features=tuple(model.feature_names_in_),
            label=model.label,
            trained=model.to_document(learned_only=True),
        )
        return self.submit(request).result(timeout=timeout)  # type: ignore[return-value]

    def _preset(self, plan: Plan) -> Standardizer | None:
        """For a DP plan, scaling by the owners' published bounds (the same on every lake)."""
        if plan.dp is None:
            return None
        schemas = self.table_schemas(plan.table)
        bounds = {}
        for column in plan.dp_bounded_columns:
            seen = {lake: schema.column(column).bounds for lake, schema in schemas.items()}
            if len(set(seen.values())) > 1:
                raise PlanError(
                    f"column {column!r} has different published bounds on different lakes "
                    f"({seen}); a DP plan needs the owners to agree on one range"
                )
            bounds[column] = next(iter(seen.values()))
        return plan.dp_standardizer(bounds)  # type: ignore[arg-type]

    def _relogin(self, lake: str) -> ScientistSession:
        """Log in to ``lake`` again (after it restarted) and use the new session from now on."""
        login = self._logins.get(lake)
        if login is None:
            return self._sessions[lake]
        self._sessions[lake] = login()
        return self._sessions[lake]

    def schema_view(self, table: str):  # type: ignore[no-untyped-def]
        """:meth:`schema` for display: a rich view (mismatches highlighted) in notebooks."""
        from .._display import SchemaView

        return SchemaView.from_federation(self, table)
