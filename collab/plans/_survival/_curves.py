"""Kaplan-Meier curves and the log-rank test from counts per bin of a shared time grid.

:class:`SurvivalCounts` is the statistics request ``fed.kaplan_meier`` and ``fed.logrank``
send: per group of a categorical column and per bin, each lake counts its events and the rows
whose follow-up ends there. The bins are the times asked for or the public grid (equal bins
over the duration's published bounds): no round reads them from the rows. Before release a
lake merges its bins into its runs over ALL its rows (at least ``min_rows`` events, and
separately at least ``min_rows`` censored rows: the runs a Cox round releases), coarsened in
common for the groups until every group holds 0 or at least ``min_rows`` in each run
(:func:`~collab.plans._survival._time.group_runs`). A lake refuses a request by group when a
group holds between 1 and ``min_rows - 1`` of its events, or of its censored rows, in all
(:meth:`SurvivalCounts.check_groups`): blanked, its counts would still be the table's less the
other groups'. The first
round releases those, and the lake's counts over all rows on its own runs. A second round on
the same runs spreads each run's totals back over its bins by shares from the first round's
pooled figures (:func:`~collab.plans._survival._time.group_shares`): what leaves a lake
still depends on its rows only through its runs' totals. The curves and the log-rank test
read the spread counts; the curves count a row censored inside a bin at risk for half of it,
as a life table does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..._errors import PlanError, PolicyViolation
from ..._policy import Policy
from ..._schema import ColumnSchema, TableSchema
from .._parameters import Param
from .._plan import Plan, register_family
from .._stats import Standardizer
from .._update import Update
from ._columns import check_duration, check_event, check_times
from ._noise import (
    COUNTS_ROW_BOUND,
    CURVE_BINS,
    GRID_BINS,
    clean_counts,
    noise_std,
    uniform_times,
)
from ._time import (
    GRID_REACH,
    SHARE_REACH,
    SHARE_TILT,
    atom_edges,
    bin_index,
    check_edges,
    group_runs,
    group_shares,
    merge_bins,
    nested_runs,
    read_head,
    refuse_left_out,
    split_runs,
    spread_runs,
    take_left_out,
    write_head,
)

COUNTS, SPREAD, FINE_COUNTS, FINE_SPREAD = 4.0, 5.0, 6.0, 7.0
MAX_GROUPS = 50
GROUP_ADVICE = (
    "Group by a column every row holds a published category of, or ask the owner to fill the "
    "column (with a category of its own for the missing values)."
)


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class SurvivalCounts(Plan):
    """Counts of events and of rows leaving follow-up per bin of time (and per group), for
    Kaplan-Meier curves and the log-rank test (``fed.kaplan_meier``, ``fed.logrank``).

    Parameters
    ----------
    table, duration, event
        The table, its time to event or censoring, and its 0/1 event column.
    group
        A column with published categories (or a boolean) to count per group; ``None``:
        one group. A lake refuses the request where a group holds between 1 and
        ``min_rows - 1`` of its events, or of its censored rows, or where a row with a
        duration and an event has no published category of ``group`` (left out, it would
        be the difference from an ungrouped request).
    groups
        The group's categories, filled in from the owners' schemas; leave it ``None``.
    times
        The times to count up to (bins end there); ``None``: the public grid.
    grid
        The public grid: ``max_bins - 1`` (at most 99) equal bins over the duration's
        published bounds, filled in from the owners' schemas; leave it ``None``. No round
        reads a grid from the rows; without published bounds (and without ``times``) the
        request is refused.
    max_bins
        The most bins of a grid (or times + 1).
    features, label
        Filled in from ``group``, ``duration`` and ``event``; leave them out.
    dp
        ``collab.DP(epsilon=...)``: Gaussian noise on every lake's counts per bin (one row
        changes one event count and one leaving count), in one round on the times asked or
        on a grid of equal bins over the duration's published bounds; no bins are merged
        (see :mod:`collab.plans._survival._noise`).
    secure_aggregation, secure_threshold, transforms, encoding
        As for a statistics request.
    """

    model: ClassVar[str] = "survival_counts"
    task: ClassVar[str] = "statistics"  # type: ignore[misc]
    history_metrics: ClassVar[tuple[str, ...]] = ()
    scales_rows: ClassVar[bool] = False
    complete_rows: ClassVar[bool] = True

    parameters: ClassVar[tuple[Param, ...]] = (
        Param("duration", "text", "The time to the event or to censoring (a number >= 0)."),
        Param("event", "text", "1 (or true) when the event happened, 0 when censored."),
        Param("group", "text", "A categorical column to count per group.", optional=True),
        Param("groups", "mapping", "The group's categories, from the owners' schemas."),
        Param("times", "numbers", "The times bins end at; None: a grid.", optional=True),
        Param("grid", "numbers", "The public grid, from the published bounds.", optional=True),
        Param("max_bins", "int", "The most bins of the grid.", low=2, high=500),
    )

    features: Sequence[str] = ()
    label: str = ""
    duration: str
    event: str
    group: str | None = None
    groups: tuple[Any, ...] | None = None
    times: tuple[float, ...] | None = None
    grid: tuple[float, ...] | None = None
    max_bins: int = 100

    def __post_init__(self) -> None:
        for name in ("duration", "event"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise PlanError(f"{name} must be a column name, not {value!r}")
        if self.group is not None and (not isinstance(self.group, str) or not self.group):
            raise PlanError(f"by must be a column name, not {self.group!r}")
        if self.group in (self.duration, self.event):
            raise PlanError(f"by {self.group!r} must be a column other than duration and event")
        object.__setattr__(self, "label", self.event)
        object.__setattr__(self, "features", (self.group,) if self.group else (self.duration,))
        object.__setattr__(self, "times", check_times(self.times))
        object.__setattr__(self, "grid", check_times(self.grid))
        if self.groups is not None:
            object.__setattr__(self, "groups", tuple(self.groups))
        super().__post_init__()
        for name in ("times", "grid"):
            if len(getattr(self, name) or ()) > self.max_bins - 1:
                raise PlanError(f"ask for at most {self.max_bins - 1} {name}")

    @property
    def columns(self) -> tuple[str, ...]:
        group = (self.group,) if self.group else ()
        return (*group, self.duration, self.event)

    @property
    def n_groups(self) -> int:
        return len(self.groups) if self.groups else 1

    # --- checks -----------------------------------------------------------------------------
    def check_label(self, column: ColumnSchema, where: str) -> None:
        check_event(column, where)

    def check_feature(self, column: ColumnSchema, where: str) -> None:
        if self.group is None:
            return check_duration(column, where)
        if column.categories is None and column.kind not in ("boolean", "binary"):
            raise PlanError(
                f"{where}: column {column.name!r} to group by is {column.kind} with no "
                "published categories; group by a column whose categories the owners publish"
            )
        return super().check_feature(column, where) if column.categories is not None else None

    def check_against(self, schema: TableSchema, policy: Policy) -> None:
        where = f"lake {schema.lake!r}, table {schema.name!r}"
        check_duration(schema.column(self.duration), where)
        super().check_against(schema, policy)

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Plan:
        if self.dp is not None and self.times is None:  # a grid that costs no budget
            grid = uniform_times(schemas, self.duration, min(CURVE_BINS, self.max_bins - 1))
            return replace(self, times=grid)._resolved_family(schemas)
        if self.times is None and self.grid is None:  # public: no round reads it from rows
            grid = uniform_times(schemas, self.duration, min(GRID_BINS, self.max_bins - 1))
            return replace(self, grid=grid)._resolved_family(schemas)
        if self.group is None or self.groups is not None:
            return self
        first = next(iter(schemas.values()))
        column = first.column(self.group)
        groups = column.categories if column.categories is not None else (False, True)
        if len(groups) > MAX_GROUPS:
            raise PlanError(f"column {self.group!r} has more than {MAX_GROUPS} categories")
        return replace(self, groups=tuple(groups))

    def invalid_labels(self, y: np.ndarray) -> int:
        y = y[np.isfinite(y)]
        return int(np.count_nonzero((y != 0) & (y != 1)))

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, 2, size=n).astype(np.float64)

    def row_scaling(self, standardizer: Any) -> Any:
        return None

    def release_terms(self, request: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Counts on a time grid fix that grid for every later survival release of the
        same duration column (the difference of two grids' counts could isolate patients)."""
        if request is None:
            return {}
        return {f"survival:{self.duration}": [float(e) for e in request["edges"]]}

    # --- the lake's step ----------------------------------------------------------------------
    @property
    def total_rounds(self) -> int:
        if self.dp is not None:  # one round of noisy counts on a grid fixed beforehand
            return 1
        return 2  # counts on the lakes' runs, then the runs spread by the pooled counts

    @property
    def fine(self) -> bool:
        """Whether the lakes count in fine cells (:func:`atom_edges`): on the times asked,
        without DP."""
        return self.times is not None and self.dp is None

    def cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fine cells' upper ends, each cell's bin of the times (the last cell, open
        above, in the last bin) and each cell's width (0 for the open one)."""
        times = np.asarray(self.times or (), dtype=np.float64)
        upper = atom_edges(times)
        cell_bin = np.r_[np.searchsorted(times, upper, side="left"), len(times)]
        return upper, cell_bin, np.r_[np.diff(np.r_[0.0, upper]), 0.0]

    def update_size(self, n_features: int) -> int:
        # a spread round carries the public shares beside the counts, for suppress to use
        # and, last, the rows left out for a missing group (never released)
        if self.fine:
            n_cells = len(atom_edges(self.times or ())) + 1
            return Update.size(0, 2 + 2 * self.n_groups * n_cells * 2 + 1)
        return Update.size(0, 2 + self.n_groups * self.max_bins * 4 + 1)

    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        try:
            kind = request["kind"]
            keys = {"kind", "edges", "shares"} if kind == "spread" else {"kind", "edges"}
            if kind not in ("counts", "spread") or set(request) != keys:
                raise ValueError("not a counts or spread request")
            if kind == "spread" and self.dp is not None:
                raise ValueError("a DP request spreads no runs")
            edges = check_edges(request["edges"], self.max_bins)
            if kind == "spread":
                shares = np.asarray(request["shares"], dtype=np.float64)
                cells = len(atom_edges(edges)) + 1 if self.fine else len(edges) + 1
                size = self.n_groups * cells * 2
                if shares.shape != (size,) or not np.all(
                    np.isfinite(shares)
                ):
                    raise ValueError("the shares are not one number per cell and count")
            if self.times is not None and tuple(edges) != self.times:
                raise ValueError("the bins are not the times the owners approved")
            if self.grid is not None and tuple(edges) != self.grid:
                raise ValueError("the bins are not the public grid the owners approved")
        except PolicyViolation:
            raise
        except Exception as exc:
            raise PolicyViolation(
                f"a survival counts request is not one this request sends ({exc})"
            ) from exc

    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        t = Z[:, -1]
        g = Z[:, 0] if self.group else np.zeros(len(t))
        timed = np.isfinite(t) & np.isfinite(y) & (t >= 0)
        grouped = np.isfinite(g) & (g >= 0) & (g < self.n_groups)
        present = timed & np.isfinite(g)
        bad = present & (y != 0) & (y != 1)
        keep = present & ~bad & grouped
        left = timed & ~grouped & ((y == 0) | (y == 1))
        t, e, g = t[keep], y[keep], g[keep].astype(np.int64)
        values = np.zeros(self.update_size(0) - Update.size(0, 0))
        if self.dp is None:  # with DP nothing is suppressed: noise covers every row
            values[-1] = float(np.count_nonzero(left))
        if self.fine:
            upper, _, _ = self.cells()
            k = np.searchsorted(upper, t, side="left")
            counts = np.zeros((self.n_groups, len(upper) + 1, 2))
            np.add.at(counts, (g, k, 0), e)
            np.add.at(counts, (g, k, 1), 1.0)
            values[2 : 2 + counts.size] = counts.ravel()
            write_head(values, FINE_COUNTS, len(self.times or ()) + 1)
            if request["kind"] == "spread":  # public shares, per group and cell (events, censored)
                write_head(values, FINE_SPREAD, len(self.times or ()) + 1)
                shares = request["shares"]
                values[2 + counts.size : 2 + counts.size + len(shares)] = shares
        else:
            edges = np.asarray(request["edges"], dtype=np.float64)
            n_bins = len(edges) + 1
            k = bin_index(t, edges)
            counts = np.zeros((self.n_groups, n_bins, 2))
            np.add.at(counts, (g, k, 0), e)
            np.add.at(counts, (g, k, 1), 1.0)
            write_head(values, COUNTS, n_bins)
            values[2 : 2 + counts.size] = counts.ravel()
            if request["kind"] == "spread":
                # public pooled counts of the round before: suppress spreads each run by
                # them (blocks' copies add up to a multiple; only their ratios are used)
                write_head(values, SPREAD, n_bins)
                values[2 + counts.size : 2 + 2 * counts.size] = request["shares"]
        return Update(float(len(t)), np.zeros(0), values, float(np.count_nonzero(bad)))

    def dp_update(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any], clip_norm: float
    ) -> Update:
        return self.local_update(Z, y, request)

    def dp_row_bound(self, clip_norm: float) -> float:
        return COUNTS_ROW_BOUND

    def suppress(self, update: Update, min_rows: int) -> Update:
        """Bins merged into this lake's runs over all its rows, of at least ``min_rows`` events
        (and of censored rows), coarsened in common for the groups until each group holds 0
        or at least ``min_rows`` in every run; refused where a group holds between 1 and
        ``min_rows - 1`` of the lake's events or censored rows (:meth:`check_groups`)."""
        values = update.values.copy()
        kind, n_bins = read_head(values)
        refuse_left_out(take_left_out(values), self.features, GROUP_ADVICE)
        self.check_groups(values, kind, n_bins, min_rows)
        if kind in (COUNTS, SPREAD):
            size = self.n_groups * n_bins * 2
            counts = values[2 : 2 + size].reshape(self.n_groups, n_bins, 2)
            shares = values[2 + size : 2 + 2 * size].reshape(self.n_groups, n_bins, 2)
            # events and censored rows, each on the lake's runs over all its rows of at least
            # min_rows of their own (a Cox round's runs), coarsened in common for the groups
            events, censored = counts[:, :, 0], counts[:, :, 1] - counts[:, :, 0]
            by_event, by_censored = split_runs(events.sum(axis=0), censored.sum(axis=0), min_rows)
            everyone = _all_rows(events, censored, by_event, by_censored)
            by_event = group_runs(events, by_event, min_rows)
            by_censored = group_runs(censored, by_censored, min_rows)
            released = np.zeros_like(counts)
            for i in range(self.n_groups):
                if kind == COUNTS:
                    ev = merge_bins(events[i][:, None], by_event[i])[:, 0]
                    ce = merge_bins(censored[i][:, None], by_censored[i])[:, 0]
                else:
                    w = shares[i]
                    ev = spread_runs(events[i][:, None], by_event[i], w[:, 0])[:, 0]
                    ce = spread_runs(censored[i][:, None], by_censored[i], w[:, 1] - w[:, 0])[:, 0]
                released[i, :, 0], released[i, :, 1] = ev, ev + ce
            values[2 + size : 2 + 2 * size] = 0.0
            if kind == COUNTS:  # all rows on their own runs: the spread round's shares
                values[2 + size : 2 + size + everyone.size] = everyone.ravel()
            values[2 : 2 + size] = released.ravel()
        elif kind in (FINE_COUNTS, FINE_SPREAD):
            _, cell_bin, _ = self.cells()
            n_cells = len(cell_bin)
            size = self.n_groups * n_cells * 2
            counts = values[2 : 2 + size].reshape(self.n_groups, n_cells, 2)
            shares = values[2 + size : 2 + 2 * size].reshape(self.n_groups, n_cells, 2)
            released = np.zeros_like(counts)
            everyone = np.zeros((n_cells, 2))
            # events and censored rows each on the lake's runs of bins over all its rows (of at
            # least min_rows), each cut into runs of cells of at least min_rows, coarsened in
            # common for the groups
            for column in (0, 1):
                rows = counts[:, :, 0] if column == 0 else counts[:, :, 1] - counts[:, :, 0]
                own = nested_runs(rows.sum(axis=0), cell_bin, min_rows)
                everyone[:, column] = merge_bins(rows.sum(axis=0)[:, None], own)[:, 0]
                runs = group_runs(rows, own, min_rows)
                for i in range(self.n_groups):
                    if kind == FINE_COUNTS:
                        out = merge_bins(rows[i][:, None], runs[i])[:, 0]
                    else:
                        out = spread_runs(rows[i][:, None], runs[i], shares[i, :, column])[:, 0]
                    released[i, :, column] += out
            released[:, :, 1] += released[:, :, 0]
            everyone[:, 1] += everyone[:, 0]
            values[2 + size :] = 0.0
            if kind == FINE_COUNTS:  # all rows on their own runs: the spread round's shares
                values[2 + size : 2 + size + everyone.size] = everyone.ravel()
            values[2 : 2 + size] = released.ravel()
        return replace(update, values=values)

    def check_groups(self, values: np.ndarray, kind: float, n_bins: int, min_rows: int) -> None:
        """Refused (:class:`PolicyViolation`) when a group holds between 1 and ``min_rows - 1``
        of this lake's events, or of its censored rows: the lake would blank it, but its counts
        would still be the whole table's (an ungrouped request's, a Cox fit's) less the other
        groups' on the same runs. As DataSHIELD refuses a table with a small cell, before the
        lake releases anything for the request."""
        if self.group is None or kind == 0.0:
            return
        n_cells = len(self.cells()[1]) if kind in (FINE_COUNTS, FINE_SPREAD) else n_bins
        size = self.n_groups * n_cells * 2
        counts = values[2 : 2 + size].reshape(self.n_groups, n_cells, 2).sum(axis=1)
        events, censored = counts[:, 0], counts[:, 1] - counts[:, 0]
        small = ((events > 0.5) & (events < min_rows)) | ((censored > 0.5) & (censored < min_rows))
        if small.any():
            names = ", ".join(repr(self.groups[i]) for i in np.flatnonzero(small))
            raise PolicyViolation(
                f"column {self.group!r} to group by: group(s) {names} hold fewer than the "
                f"owner's minimum of {min_rows} of this lake's events or censored rows (but "
                "some); their counts would be the whole table's less the other groups', so "
                "the lake refuses the request. Group by a column whose categories each hold at "
                f"least {min_rows} of every lake's events and censored rows (or none), or ask "
                "the owner to merge categories"
            )

    # --- the coordinator ----------------------------------------------------------------------
    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        if self.times is not None:
            return {"phase": "counts", "edges": list(self.times), "last_time": None}
        if self.grid is not None:
            return {"phase": "counts", "edges": list(self.grid), "last_time": self.grid[-1]}
        raise PlanError(
            f"table {self.table!r}: a survival request on duration column {self.duration!r} "
            "has no time grid; ask the owners to publish the column's bounds, or pass times=[...]"
        )

    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        if state["phase"] == "counts":
            return {"kind": "counts", "edges": list(state["edges"])}
        if state["phase"] == "spread":
            return {"kind": "spread", "edges": list(state["edges"]), "shares": state["shares"]}
        return None

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        n_bins = len(state["edges"]) + 1
        if self.fine:
            return self._absorb_fine(state, update)
        counts = update.values[2 : 2 + self.n_groups * n_bins * 2]
        if self.dp is not None:  # noisy counts, consistent again; no runs to spread
            counts = clean_counts(counts.reshape(self.n_groups, n_bins, 2)).ravel()
            return {**state, "phase": "done", "counts": counts.tolist(), "rows": update.rows}
        if state["phase"] == "counts":
            # each lake's counts merged on its runs over all rows, and per group on those runs
            # coarsened, pooled over lakes: the shares by which a second round spreads every
            # lake's runs back over their bins
            merged = counts.reshape(self.n_groups, n_bins, 2)
            at = 2 + merged.size
            everyone = update.values[at : at + n_bins * 2].reshape(n_bins, 2)
            edges = np.asarray(state["edges"], dtype=np.float64)
            widths = np.r_[np.diff(np.r_[0.0, edges]), 0.0]  # the last bin is open above
            per_group = np.stack([_censored(g) for g in merged])
            shares = group_shares(_censored(everyone), per_group, widths, GRID_REACH, GRID_REACH)
            shares[..., 1] += shares[..., 0]  # as the counts: events, rows leaving
            return {
                **state,
                "phase": "spread",
                "merged": counts.tolist(),
                "shares": shares.ravel().tolist(),
            }
        return {**state, "phase": "done", "counts": counts.tolist(), "rows": update.rows}

    def _absorb_fine(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        _, cell_bin, widths = self.cells()
        n_cells, n_bins = len(cell_bin), len(state["edges"]) + 1
        fine = update.values[2 : 2 + self.n_groups * n_cells * 2].reshape(self.n_groups, n_cells, 2)
        binned = np.zeros((self.n_groups, n_bins, 2))
        np.add.at(binned, (slice(None), cell_bin), fine)
        if state["phase"] == "counts":
            # each lake's counts merged on its runs over all rows, and per group on those runs
            # coarsened, pooled over lakes: spread back over the cells since the last count
            # and averaged, the shares by which a second round spreads every lake's runs
            at = 2 + self.n_groups * n_cells * 2
            everyone = _censored(update.values[at : at + n_cells * 2].reshape(n_cells, 2))
            per_group = np.stack([_censored(g) for g in fine])
            shares = group_shares(everyone, per_group, widths, SHARE_REACH, SHARE_TILT)
            return {
                **state,
                "phase": "spread",
                "merged": binned.ravel().tolist(),
                "shares": shares.ravel().tolist(),
            }
        return {
            **state,
            "phase": "done",
            "counts": binned.ravel().tolist(),
            "fine": fine.ravel().tolist(),
            "rows": update.rows,
        }

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        return {}

    def build_model(  # type: ignore[override]
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> dict[str, Any]:
        n_bins = len(state["edges"]) + 1
        return {
            "edges": list(state["edges"]),
            "last_time": state.get("last_time"),
            "groups": list(self.groups) if self.groups else None,
            "counts": np.asarray(state["counts"]).reshape(self.n_groups, n_bins, 2),
            "merged": np.asarray(state.get("merged", state["counts"])).reshape(
                self.n_groups, n_bins, 2
            ),
            "fine": (
                np.asarray(state["fine"]).reshape(self.n_groups, -1, 2) if "fine" in state else None
            ),
            "fine_edges": self.cells()[0].tolist() if "fine" in state else None,
            "lakes": list(context.get("lakes", ())),
            "noise": (
                0.0
                if self.dp is None
                else noise_std(self, COUNTS_ROW_BOUND, len(context.get("lakes", ())))
            ),
        }

    def model_from(  # type: ignore[override]
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> dict[str, Any]:
        return self.build_model(state, standardizer, **context)


def _censored(counts: np.ndarray) -> np.ndarray:
    """Counts per bin as (events, censored rows) from (events, rows leaving)."""
    return np.column_stack([counts[:, 0], counts[:, 1] - counts[:, 0]])


def _all_rows(
    events: np.ndarray, censored: np.ndarray, by_event: np.ndarray, by_censored: np.ndarray
) -> np.ndarray:
    """A lake's events and rows leaving per bin over all its groups (rows of ``events`` and
    ``censored``), merged on its own runs over all rows: what an ungrouped request, or a Cox
    round, releases on the same grid."""
    ev = merge_bins(events.sum(axis=0)[:, None], by_event)[:, 0]
    ce = merge_bins(censored.sum(axis=0)[:, None], by_censored)[:, 0]
    return np.column_stack([ev, ev + ce])


# --- what the scientist sees ------------------------------------------------------------------


class KaplanMeier(pd.DataFrame):
    """Kaplan-Meier survival per time (and group): ``survival``, ``at_risk`` (rows still
    followed after the time) and ``events`` (up to the time); NaN for a group with fewer pooled
    rows than the owners' minimum (with DP, from noise: without it, a lake holding between 1
    and ``min_rows - 1`` of a group's events or censored rows refuses the request). Where a
    lake's run of bins spans several of the times, its counts are spread over them
    (:func:`spread_runs`), so ``at_risk`` and ``events`` are estimates and need not be whole.
    On given times, ``survival`` is read off a life table on fine cells, and ``at_risk`` and
    ``events`` count each lake's runs of cells whole, in the bin where they end: each step of
    them holds none or at least ``min_rows`` of every lake's events (or rows) of the group.
    Without times, the rows are the public grid's bin ends. ``.plot()`` draws the curves."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def at(self, times: Sequence[float]) -> pd.DataFrame:
        """Survival, numbers at risk and events at ``times`` (per group), read off the
        curves: the values at the last time of the grid at or before each."""
        times = [float(t) for t in times]
        grouped = self.groupby("group", sort=False) if "group" in self.columns else [(None, self)]
        rows = []
        for name, part in grouped:
            grid = part["time"].to_numpy()
            for t in times:
                i = int(np.searchsorted(grid, t, side="right")) - 1
                values = (
                    part.iloc[i][["survival", "at_risk", "events"]]
                    if i >= 0
                    else pd.Series({"survival": 1.0, "at_risk": np.nan, "events": 0.0})
                )
                rows.append({"group": name, "time": t, **values.to_dict()})
        frame = pd.DataFrame(rows)
        return frame.drop(columns="group") if "group" not in self.columns else frame

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        grouped = self.groupby("group", sort=False) if "group" in self.columns else [("all", self)]
        for name, part in grouped:
            times = np.r_[0.0, part["time"].to_numpy()]
            survival = np.r_[1.0, part["survival"].to_numpy()]
            ax.step(times, survival, where="post", label=str(name), **kwargs)
        ax.set_xlabel(self.attrs.get("duration", "time"))
        ax.set_ylabel("survival")
        ax.set_ylim(0, 1.02)
        if "group" in self.columns:
            ax.legend(title=self.attrs.get("by"))
        return ax


def kaplan_meier_frame(result: Mapping[str, Any], min_rows: int) -> KaplanMeier:
    """The curves from a :class:`SurvivalCounts` result."""
    edges = list(result["edges"])
    times = [*edges]
    if result.get("last_time") is not None:
        times.append(max(float(result["last_time"]), edges[-1] if edges else 0.0))
    counts = np.asarray(result["counts"], dtype=np.float64)
    fine = result.get("fine")
    # on fine cells: runs counted whole where they end (the spread cells give the survival)
    shown = counts if fine is None else np.asarray(result["merged"], dtype=np.float64)
    groups = result["groups"]
    frames = []
    for i, counted in enumerate(counts):
        events, leaving = shown[i, : len(times), 0], shown[i, :, 1]
        at_start = np.cumsum(leaving[::-1])[::-1]
        rows = float(leaving.sum())
        if fine is not None:  # the life table on the fine cells, read at the times
            survival = _life_table(np.asarray(fine[i], dtype=np.float64))
            survival = survival[np.searchsorted(result["fine_edges"], times)]
        else:
            survival = _life_table(counted)[: len(times)]
        frame = pd.DataFrame(
            {
                "time": times,
                "survival": survival,
                "at_risk": np.r_[at_start[1:], 0.0][: len(times)],
                "events": np.cumsum(events),
            }
        )
        if rows < min_rows:
            frame[["survival", "at_risk", "events"]] = np.nan
        if groups is not None:
            frame.insert(0, "group", groups[i])
        frames.append(frame)
    return KaplanMeier(pd.concat(frames, ignore_index=True))


def _life_table(counted: np.ndarray) -> np.ndarray:
    """Survival at the end of each bin from its events and rows leaving (columns of
    ``counted``). Rows censored inside a bin were followed for part of it: counted at risk
    for half of it, as a life table does (their times within the bin are not released)."""
    events, leaving = counted[:, 0], counted[:, 1]
    at_start = np.cumsum(leaving[::-1])[::-1]
    exposed = at_start - 0.5 * (leaving - events)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(exposed > 0, 1 - events / exposed, 1.0)
    return np.cumprod(factor)


def logrank_test(result: Mapping[str, Any], min_rows: int) -> dict[str, Any]:
    """The log-rank statistic over the groups of a :class:`SurvivalCounts` result (those
    with at least ``min_rows`` rows), its degrees of freedom and p-value: from the spread
    counts, as the curves. Left in their runs' last bins, a lake's events would fall late and
    its rows stay at risk past where they left, which inflates the statistic; spread by shares
    pooled over the groups, the groups' hazards are drawn a little together within a run, which
    errs the other way (a conservative test)."""
    from scipy.stats import chi2

    counts = np.asarray(result["counts"], dtype=np.float64)
    shown = [i for i, c in enumerate(counts) if c[:, 1].sum() >= min_rows]
    if len(shown) < 2:
        raise PlanError(
            "the log-rank test needs two groups with at least the owners' minimum of rows; "
            f"fewer than two have {min_rows} or more"
        )
    c = counts[shown]
    d = c[:, :, 0]
    n = np.cumsum(c[:, ::-1, 1], axis=1)[:, ::-1]
    d_all, n_all = d.sum(axis=0), n.sum(axis=0)
    live = n_all > 0
    d, n, d_all, n_all = d[:, live], n[:, live], d_all[live], n_all[live]
    expected = (d_all * n / n_all).sum(axis=1)
    observed = d.sum(axis=1)
    factor = np.where(n_all > 1, d_all * (n_all - d_all) / (n_all - 1), 0.0) / n_all
    share = n / n_all
    variance = np.diag((factor * n_all * share).sum(axis=1)) - np.einsum(
        "b,gb,hb->gh", factor * n_all, share, share
    )
    diff = (observed - expected)[:-1]
    statistic = float(diff @ np.linalg.solve(variance[:-1, :-1], diff))
    dof = len(shown) - 1
    groups = result["groups"]
    return {
        "test_statistic": statistic,
        "degrees_of_freedom": dof,
        "p_value": float(chi2.sf(statistic, dof)),
        "groups": [groups[i] for i in shown] if groups is not None else None,
        "observed": observed.tolist(),
        "expected": expected.tolist(),
    }
