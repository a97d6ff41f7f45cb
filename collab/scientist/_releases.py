"""The pooled statistics a scientist asks for: describe, histograms, crosstabs,
Kaplan-Meier curves and the log-rank test. Each is a request the owners approve like a plan
(see :meth:`Federation.submit`); only pooled, blanked figures come back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._args import names
from .._errors import PlanError
from .._policy import Policy
from .._schema import TableSchema
from ..plans import Plan, PooledStatistics, Statistics
from ..plans._statistics import QUANTILE_ROUNDS

if TYPE_CHECKING:
    from ..secure import DP
    from ._job import Job
    from ._statistics import Crosstab, Description, Histogram


class StatisticsRequests:
    """Statistics requests of a :class:`Federation` (it supplies the three methods below)."""

    def table_schemas(self, table: str) -> dict[str, TableSchema]:
        raise NotImplementedError

    def policies(self, table: str) -> Mapping[str, Policy]:
        raise NotImplementedError

    def submit(self, plan: Plan) -> Job:
        raise NotImplementedError

    def describe(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        *,
        dp: DP | None = None,
        bins: int = 10,
        secure_aggregation: bool = True,
        timeout: float | None = None,
    ) -> Description:
        """Pooled statistics of ``table``'s columns, computed by each lake with Spark.

        A request like a plan: every owner approves it (or their policy's
        ``auto_approve_statistics`` does); this call waits, with progress, until it is decided
        and computed. Only the sums over lakes leave them (secure aggregation); a lake blanks
        any cell below its policy's ``min_rows`` before it sends anything, and the table
        shows NaN there.

        Parameters
        ----------
        table
            The table.
        columns
            Columns to describe: numeric ones, or ones whose categories the owners publish.
            All such non-private columns by default.
        dp
            ``collab.DP(epsilon=...)``: every figure carries Gaussian noise calibrated to the
            published bounds, charged to your budget on each lake. Required where an owner
            sets ``max_epsilon``; numeric columns then need published bounds.
        bins
            Histogram bins over each numeric column's published bounds. Exact histograms of
            a column always use the bins of the first one released to you. Without DP (and
            with secure aggregation) quantiles come from three more rounds of the request,
            in which the lakes count their rows below thresholds the coordinator chose from
            the pooled counts; with DP they are read off the noisy histogram.
        secure_aggregation, timeout
            As for a plan; ``timeout`` in seconds for the owners and the lakes.

        Returns
        -------
        Description
            A DataFrame indexed by column with ``count``, ``missing``, ``mean``, ``std``
            (ddof=1), ``q05``, ``q25``, ``q50``, ``q75``, ``q95`` (NaN where a column is not
            numeric, has no published bounds, or was suppressed). ``attrs`` holds
            ``per_lake`` (each lake's own table, asked for with ``secure_aggregation=False``
            where every owner's policy says ``release_per_lake``), and per column
            ``histograms``, ``categories``, ``quantile_error`` and, with DP, ``noise`` (the
            standard deviation of the noise on each column's count and mean).
        """
        from ._statistics import DESCRIBE_COLUMNS, Description

        chosen = list(names(columns, "columns")) if columns is not None else None
        if chosen is None:
            chosen = self._describable(table)
        # exact quantiles come from further rounds of pooled counts below thresholds
        first = next(iter(self.table_schemas(table).values()))
        bounded = any(
            c in first.column_names and first.column(c).bounds is not None for c in chosen
        )
        refine = QUANTILE_ROUNDS if dp is None and secure_aggregation and bounded else 0
        pooled = self._release(
            table, chosen, "describe", bins, dp, secure_aggregation, timeout, refine
        )
        frame, extras = pooled.describe(self._min_rows(table))
        result = Description(frame.reindex(columns=DESCRIBE_COLUMNS))
        per_lake = {}
        for lake in pooled.per_lake:  # only where the owners release a lake's own figures
            own, _ = pooled.lake(lake).describe(self._min_rows(table))
            per_lake[lake] = own.reindex(columns=DESCRIBE_COLUMNS)
        result.attrs.update(
            per_lake=per_lake,
            histograms={c: e["histogram"] for c, e in extras.items() if "histogram" in e},
            categories={c: e["categories"] for c, e in extras.items() if "categories" in e},
            quantile_error={
                c: e["quantile_error"] for c, e in extras.items() if "quantile_error" in e
            },
            noise={c: e["noise"] for c, e in extras.items() if "noise" in e},
            lakes=list(pooled.lakes),
            note=_release_note(pooled, self._min_rows(table)),
        )
        return result

    def histogram(
        self,
        table: str,
        column: str,
        bins: int = 10,
        *,
        dp: DP | None = None,
        secure_aggregation: bool = True,
        timeout: float | None = None,
    ) -> Histogram:
        """The pooled histogram of numeric ``column`` over its published bounds.

        Approved, computed and suppressed as :meth:`describe`. Returns a DataFrame with
        ``low``, ``high`` and ``count`` (NaN where suppressed) that draws itself in a notebook
        (``.plot()`` draws it with matplotlib).
        """
        from ._statistics import Histogram

        schemas = self.table_schemas(table)
        for lake, schema in schemas.items():
            if schema.column(column).bounds is None:
                raise PlanError(
                    f"lake {lake!r}, table {table!r}: column {column!r} has no published bounds, "
                    "so there is no agreed range to bin; ask the owner to publish them "
                    "(add_table(..., bounds={...})), or use fed.describe for its mean and spread"
                )
        pooled = self._release(table, [column], "describe", bins, dp, secure_aggregation, timeout)
        _, extras = pooled.describe(self._min_rows(table))
        result = Histogram(extras[column]["histogram"])
        result.attrs.update(column=column, note=_release_note(pooled, self._min_rows(table)))
        return result

    def crosstab(
        self,
        table: str,
        a: str,
        b: str,
        *,
        dp: DP | None = None,
        secure_aggregation: bool = True,
        timeout: float | None = None,
    ) -> Crosstab:
        """Pooled counts of rows by the categories of ``a`` (rows) and ``b`` (columns).

        Both columns need published categories or 0/1 values; a row missing either is not
        counted. Approved, computed and suppressed as :meth:`describe`: a cell below an
        owner's ``min_rows`` is NaN.
        """
        from ._statistics import Crosstab

        pooled = self._release(table, [a, b], "crosstab", 10, dp, secure_aggregation, timeout)
        result = Crosstab(pooled.crosstab(self._min_rows(table)))
        result.attrs.update(note=_release_note(pooled, self._min_rows(table)))
        return result

    def kaplan_meier(
        self,
        table: str,
        *,
        duration: str,
        event: str,
        times: Sequence[float] | None = None,
        by: str | None = None,
        dp: DP | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Kaplan-Meier survival of ``table``'s rows at ``times`` (or at the end of each bin of
        the public grid: equal bins over the duration's published bounds; without them, pass
        ``times``), per category of ``by``.

        Approved like :meth:`describe`. Each lake merges its bins into its runs over all its
        rows (at least its ``min_rows`` events, and censored rows), the runs a Cox model on
        the same grid uses, coarsened in common for the groups until each group holds none or
        at least ``min_rows`` in every run, before its counts leave it; a second round spreads
        each run's counts over its bins by shares from the first round's pooled counts (on
        given ``times``, in fine cells: each run of bins cut into runs of cells of at least
        ``min_rows``). A lake where a group of ``by`` holds between 1 and ``min_rows - 1``
        of its events, or of its censored rows, refuses the request before it releases
        anything (:class:`collab.PolicyViolation` naming the lake, table, column and group):
        the table's counts less the other groups' would be that group's; and where a row
        with a duration and an event has no category of ``by``. Group by a column
        whose categories each hold at least ``min_rows`` of every lake's events and censored
        rows, or ask the owners to merge categories. A group with fewer pooled rows than the
        owners' minimum (with DP, from noise) shows NaN. Returns a DataFrame (``group``, ``time``,
        ``survival``, ``at_risk``, ``events``) whose ``.plot()`` draws the curves.

        With ``dp=collab.DP(epsilon=...)`` (required where an owner sets ``max_epsilon``),
        each lake adds Gaussian noise to its event and leaving counts per bin instead of
        merging bins, charged once to your budget on each lake; the times are those asked
        or equal bins over the duration's published bounds, and ``attrs["noise"]`` is the
        noise's standard deviation on each pooled count.
        """
        from ..plans._survival._curves import kaplan_meier_frame

        result = self._survival_counts(table, duration, event, times, by, dp, timeout)
        frame = kaplan_meier_frame(result, self._min_rows(table))
        frame.attrs.update(
            duration=duration, event=event, by=by, lakes=result["lakes"], noise=result["noise"]
        )
        return frame

    def logrank(
        self,
        table: str,
        *,
        duration: str,
        event: str,
        group: str,
        dp: DP | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """The log-rank test of equal survival across the categories of ``group``:
        ``test_statistic``, ``degrees_of_freedom``, ``p_value`` (from the counts
        :meth:`kaplan_meier` pools, on the same grid; with ``dp``, from noisy counts as
        there). Refused, as there, where a lake holds between 1 and ``min_rows - 1`` of a
        group's events or censored rows; groups with fewer pooled rows than the owners'
        minimum (with DP) are left out of the test."""
        from ..plans._survival._curves import logrank_test

        result = self._survival_counts(table, duration, event, None, group, dp, timeout)
        return logrank_test(result, self._min_rows(table))

    def _survival_counts(
        self,
        table: str,
        duration: str,
        event: str,
        times: Sequence[float] | None,
        by: str | None,
        dp: DP | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        from ..plans._survival import SurvivalCounts

        request = SurvivalCounts(
            table=table, duration=duration, event=event, group=by, times=times, dp=dp
        )
        return self.submit(request).result(timeout=timeout)  # type: ignore[no-any-return]

    def _describable(self, table: str) -> list[str]:
        """Non-private columns every lake allows and publishes enough about to summarise."""
        schemas = self.table_schemas(table)
        policies = self.policies(table)
        first = next(iter(schemas.values()))
        chosen = []
        for column in first.columns:
            usable = True
            for lake, schema in schemas.items():
                allowed = policies[lake].allowed_columns
                if column.name not in schema.column_names:
                    usable = False
                    break
                c = schema.column(column.name)
                if c.private or (allowed is not None and c.name not in allowed):
                    usable = False
                elif not c.is_numeric and c.categories is None:
                    usable = False
            if usable:
                chosen.append(column.name)
        if not chosen:
            raise PlanError(
                f"table {table!r} has no column every lake allows and that can be summarised "
                "(numeric, or with published categories)"
            )
        return chosen

    def _min_rows(self, table: str) -> int:
        return max(p.min_rows for p in self.policies(table).values())

    def _release(
        self,
        table: str,
        columns: list[str],
        kind: str,
        bins: int,
        dp: DP | None,
        secure_aggregation: bool,
        timeout: float | None,
        quantile_rounds: int = 0,
    ) -> PooledStatistics:
        """Send a statistics request, wait for the owners and the lakes, and return the
        pooled sums."""
        request = Statistics(
            table=table,
            features=columns,
            kind=kind,
            bins=bins,
            dp=dp,
            secure_aggregation=secure_aggregation,
            quantile_rounds=quantile_rounds,
        )
        return self.submit(request).result(timeout=timeout)  # type: ignore[return-value]


def _release_note(pooled: PooledStatistics, min_rows: int) -> str:
    plan = pooled.plan
    privacy = (
        f"with DP noise (epsilon {plan.dp.epsilon:g}, delta {plan.dp.delta:g}; standard "
        f"deviation {pooled.noise_std:.3g} rows on each count)"
        if plan.dp is not None
        else "exact"
    )
    pooling = "securely aggregated" if plan.secure_aggregation else "summed"
    return (
        f"Pooled over {', '.join(pooled.lakes)} ({pooling}, {privacy}); cells below "
        f"{min_rows} rows are suppressed (NaN). Request {plan.hash[:12]}."
    )
