"""Federated statistics as a family of the round protocol: one round of per-lake sums.

A :class:`Statistics` request is a plan without a label. Its one round asks every lake for
counts, missing counts, shifted sums and sums of squares, a histogram over the owner's
published bounds and counts per published category (or, for a crosstab, the joint counts of
two categorical columns). The sums are securely aggregated like any round, so only the pooled
figures leave; a lake blanks every cell of its own below its policy's ``min_rows`` before it
releases anything (and one more when a single blank could be worked out from the total), and
says which cells it blanked. With DP every cell gets Gaussian noise calibrated to the
published bounds, charged to the scientist's ledger like a DP plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._errors import PlanError, PolicyViolation, PrivacyError
from .._histograms import GRID, QUANTILES, quantiles_from_counts, quantiles_from_histogram
from .._policy import Policy
from .._schema import ColumnSchema, TableSchema
from . import _quantiles
from ._classes import class_index
from ._parameters import Param
from ._plan import Plan, register_family
from ._quantiles import QUANTILE_REQUEST, QUANTILE_ROUNDS, SLOTS, THRESHOLD_LIMIT
from ._stats import Standardizer
from ._update import Update

KINDS = ("describe", "crosstab")
REQUEST = {"release": "statistics"}
__all__ = ["GRID", "QUANTILE_ROUNDS", "SLOTS", "THRESHOLD_LIMIT", "Statistics"]


@dataclass(frozen=True)
class _Column:
    """How one column is summarised, from the owners' published schema."""

    name: str
    numeric: bool
    bounds: tuple[float, float] | None
    categories: tuple[Any, ...] | None
    coded: bool  # arrives as the index of its category (a text column, coded by the lake)

    @classmethod
    def from_spec(cls, name: str, data: Mapping[str, Any]) -> _Column:
        bounds = data.get("bounds")
        categories = data.get("categories")
        return cls(
            name=name,
            numeric=bool(data["numeric"]),
            bounds=None if bounds is None else (float(bounds[0]), float(bounds[1])),
            categories=None if categories is None else tuple(categories),
            coded=bool(data.get("coded", False)),
        )

    def to_spec(self) -> dict[str, Any]:
        return {
            "numeric": self.numeric,
            "bounds": None if self.bounds is None else list(self.bounds),
            "categories": None if self.categories is None else list(self.categories),
            "coded": self.coded,
        }

    @classmethod
    def published(cls, column: ColumnSchema) -> _Column:
        categories = column.categories
        if categories is None and column.kind in ("binary", "boolean"):
            categories = (0, 1)
        # a column stored as numbers is summarised as numbers, categories or not
        numeric = column.is_numeric or column.stored_as_numbers
        return cls(
            name=column.name,
            numeric=numeric,
            bounds=column.bounds,
            categories=categories,
            coded=categories is not None and not numeric,
        )

    @property
    def cells(self) -> int:
        """Category cells: one per category and one for any other value."""
        return 0 if self.categories is None else len(self.categories) + 1

    def codes(self, x: np.ndarray) -> np.ndarray:
        """Each present value's category index (``len(categories)`` for any other value)."""
        assert self.categories is not None
        k = len(self.categories)
        if self.coded:
            return np.where((x >= 0) & (x < k), x, k).astype(np.int64)
        index, valid = class_index(x, tuple(float(c) for c in self.categories))
        return np.where(valid, index, k).astype(np.int64)


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class Statistics(Plan):
    """Pooled statistics of a table's columns, computed by each lake with Spark.

    Made by ``fed.describe``, ``fed.histogram`` and ``fed.crosstab``; a lake approves it like
    a plan (or by its policy's ``auto_approve_statistics``).

    Parameters
    ----------
    table, features
        The table and the columns to summarise (none private).
    kind
        ``"describe"`` (each column on its own) or ``"crosstab"`` (two categorical columns
        counted jointly).
    bins
        Histogram bins over each numeric column's published bounds.
    quantile_rounds
        Rounds after the first (at most 3) that refine the quantiles of each numeric column
        with published bounds: each asks every lake how many of its rows lie below at most
        75 thresholds per column (15 per quantile, on a grid of 65,536 steps of the published
        range) that the coordinator chose from the pooled counts alone. A lake blanks a count,
        or its complement, below ``blank_below``. Needs secure aggregation and no DP.
    blank_below
        The owners' largest ``min_rows``, filled in from their policies: every lake blanks
        threshold counts with it (a lake refuses a request below its own minimum), so that
        the coordinator knows how far a blanked count may be from what was released.
    layout
        How each column is summarised, filled in from the owners' published schemas (bounds,
        categories), so that the owners approve an explicit request.
    secure_aggregation, secure_threshold, dp
        Privacy, as for a plan; with ``dp`` every released cell carries calibrated noise.
    """

    model: ClassVar[str] = "federated_statistics"
    task: ClassVar[str] = "statistics"  # type: ignore[misc]
    history_metrics: ClassVar[tuple[str, ...]] = ()
    needs_label: ClassVar[bool] = False
    scales_rows: ClassVar[bool] = False

    parameters: ClassVar[tuple[Param, ...]] = (
        Param(
            "kind",
            "text",
            "describe (each column on its own) or crosstab (two categorical columns counted "
            "jointly).",
            choices=KINDS,
        ),
        Param(
            "bins", "int", "Histogram bins over each numeric column's published bounds.", low=2,
            high=1000,
        ),
        Param(
            "quantile_rounds",
            "int",
            "Rounds after the first that refine each bounded column's quantiles from pooled "
            "counts below thresholds (secure aggregation, no DP).",
            low=0,
            high=QUANTILE_ROUNDS,
        ),
        Param(
            "blank_below",
            "int",
            "The owners' largest min_rows, filled in from their policies: every lake blanks "
            "threshold counts, or their complements, below it.",
            low=1,
            optional=True,
        ),
        Param(
            "layout",
            "mapping",
            "How each column is summarised, filled in from the owners' published schemas.",
            optional=True,
        ),
    )

    label: str = ""
    kind: str = "describe"
    bins: int = 10
    layout: Mapping[str, Mapping[str, Any]] | None = field(default=None, repr=False)
    quantile_rounds: int = 0
    blank_below: int | None = None

    def _validate(self) -> None:
        if self.transforms or self.encoding:
            raise PlanError(
                "a statistics request takes no transforms; it summarises columns as they are"
            )
        if self.quantile_rounds and (
            self.kind != "describe" or self.dp is not None or not self.secure_aggregation
        ):
            raise PlanError(
                "quantile_rounds refine a describe request's quantiles from pooled counts: "
                "they need kind='describe', secure aggregation and no DP (with DP, or "
                "without secure aggregation, quantiles are read off the histogram)"
            )
        if self.kind == "crosstab" and len(self.features) != 2:
            raise PlanError(
                f"a crosstab counts two columns jointly, not {len(self.features)}: "
                f"{list(self.features)}"
            )
        if self.layout is not None:
            if set(self.layout) != set(self.features):
                raise PlanError("the statistics layout must describe exactly the columns asked")
            object.__setattr__(
                self,
                "layout",
                {c: _Column.from_spec(c, self.layout[c]).to_spec() for c in self.features},
            )

    # --- the owners' schema ---------------------------------------------------------------
    def resolved(
        self, schemas: Mapping[str, TableSchema], policies: Mapping[str, Policy] | None = None
    ) -> Statistics:
        # the owners' policies act on the released cells, at each lake: nothing to fill in
        layout: dict[str, dict[str, Any]] = {}
        for name in self.features:
            seen = {lake: _Column.published(s.column(name)) for lake, s in schemas.items()}
            first = next(iter(seen.values()))
            for lake, column in seen.items():
                for setting in ("bounds", "categories"):
                    if getattr(column, setting) != getattr(first, setting):
                        raise PlanError(
                            f"column {name!r} of table {self.table!r} has different published "
                            f"{setting} on different lakes ({lake!r}: {getattr(column, setting)}"
                            f", {next(iter(seen))!r}: {getattr(first, setting)}); pooled "
                            "statistics need the owners to publish the same ones"
                        )
            layout[name] = first.to_spec()
        blank_below = self.blank_below
        if self.quantile_rounds and blank_below is None and policies:
            blank_below = max(int(p.min_rows) for p in policies.values())
        return replace(self, layout=layout, blank_below=blank_below)

    @property
    def _columns(self) -> list[_Column]:
        if self.layout is None:
            raise PlanError(
                "this statistics request has no layout; make it with fed.describe, "
                "fed.histogram or fed.crosstab"
            )
        return [_Column.from_spec(c, self.layout[c]) for c in self.features]

    def check_against(self, schema: TableSchema, policy: Policy) -> None:
        super().check_against(schema, policy)
        if self.quantile_rounds and (self.blank_below or 0) < policy.min_rows:
            raise PolicyViolation(
                f"lake {schema.lake!r}, table {schema.name!r}: the request blanks counts "
                f"below {self.blank_below} rows; the owner's minimum is {policy.min_rows}. "
                "Ask again so that it is filled in from the owners' policies"
            )

    def check_feature(self, column: ColumnSchema, where: str) -> None:
        summarised = _Column.published(column)
        if (
            self.layout is not None
            and _Column.from_spec(column.name, self.layout[column.name]) != summarised
        ):
            raise PrivacyError(
                f"{where}: the request summarises column {column.name!r} with other bounds or "
                "categories than this lake publishes; ask again so that they are filled in "
                "from the published schema"
            )
        if self.kind == "crosstab" and summarised.categories is None:
            raise PlanError(
                f"{where}: column {column.name!r} has no published categories and is not 0/1, "
                "so it cannot be crosstabulated; use fed.histogram for a numeric column, or "
                "ask the owner to publish its categories"
            )
        if not summarised.numeric and summarised.categories is None:
            raise PlanError(
                f"{where}: column {column.name!r} is of type {column.type} ({column.kind}) "
                "with no published categories, so there is nothing to count safely in it. "
                "Leave it out, or ask the owner to publish its categories."
            )

    @property
    def encodings(self) -> dict[str, tuple[Any, ...]]:
        return {c.name: c.categories for c in self._columns if c.coded and c.categories}

    @property
    def dp_bounded_columns(self) -> tuple[str, ...]:
        if self.kind == "crosstab":
            return ()
        return tuple(c.name for c in self._columns if c.numeric)

    def dp_standardizer(self, bounds: Mapping[str, tuple[float, float]]) -> Standardizer:
        # a statistics request reads values as they are (it never standardises)
        d = len(self.features)
        return Standardizer(mean=np.zeros(d), std=np.ones(d))

    def release_terms(self, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if request is not None and request.get("release") == QUANTILE_REQUEST:
            # thresholds released to a scientist accumulate per column, up to a limit
            return {f"below:{c}": list(steps) for c, steps in request["below"].items()}
        return {f"grid:{c.name}": self.bins for c in self._columns if c.bounds is not None}

    # --- the round ------------------------------------------------------------------------
    @property
    def total_rounds(self) -> int:
        return 1 + self.quantile_rounds

    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        return {}

    def _refined(self) -> list[_Column]:
        """The columns whose quantiles further rounds refine."""
        return [c for c in self._columns if c.numeric and c.bounds is not None]

    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        if round_ == 1:
            return dict(REQUEST)
        if round_ > self.total_rounds:
            return None
        below = _quantiles.thresholds(self, state)
        return {"release": QUANTILE_REQUEST, "below": below} if below else None

    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        if dict(request) == REQUEST:
            return
        said = (
            f"a statistics round's request must be {REQUEST}, or (with quantile_rounds) "
            f"{{'release': '{QUANTILE_REQUEST}', 'below': {{column: grid steps}}}}"
        )
        _quantiles.check_request(self, request, said)

    def _groups(self, refine: bool = False) -> list[tuple[str, str, int]]:
        """The released vector's layout: (column, part, length) in order, after a ``layout``
        cell (1 in a lake's answer to a quantile round). Parts ``moments`` (present, sum,
        sum of squares), ``missing``, ``histogram``, ``categories`` and ``crosstab`` hold
        sums; each count part is followed by its blanked-cell flags. A quantile round's
        ``below`` holds counts of rows below each threshold asked, ``below:low`` and
        ``below:high`` the lakes that blanked one (a count, or its complement, below
        ``blank_below``); ``present`` and ``asked`` never leave a lake (zeroed by
        :meth:`suppress`)."""
        out: list[tuple[str, str, int]] = [("", "layout", 1)]
        if refine:
            for c in self._refined():
                for part in ("below", "below:low", "below:high", "asked"):
                    out.append((c.name, part, SLOTS))
                out.append((c.name, "present", 1))
            return out
        if self.kind == "crosstab":
            a, b = self._columns
            return [
                *out,
                ("", "crosstab", a.cells * b.cells),
                ("", "crosstab:blanked", a.cells * b.cells),
            ]
        for c in self._columns:
            out.append((c.name, "moments", 3 if c.numeric else 1))
            out.append((c.name, "moments:blanked", 1))
            out.append((c.name, "missing", 1))
            out.append((c.name, "missing:blanked", 1))
            if c.bounds is not None:
                out.append((c.name, "histogram", self.bins))
                out.append((c.name, "histogram:blanked", self.bins))
            if c.categories is not None:
                out.append((c.name, "categories", c.cells))
                out.append((c.name, "categories:blanked", c.cells))
        return out

    def update_size(self, n_features: int) -> int:
        sizes = [sum(n for _, _, n in self._groups(refine)) for refine in (False, True)]
        return Update.size(0, max(sizes) if self.quantile_rounds else sizes[0])

    def _parts(self, values: np.ndarray, refine: bool = False) -> dict[tuple[str, str], np.ndarray]:
        out, at = {}, 0
        for column, part, n in self._groups(refine):
            out[(column, part)] = values[at : at + n]
            at += n
        return out

    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        if request.get("release") == QUANTILE_REQUEST:
            return _quantiles.count_below(self, Z, request["below"])
        return self._sums(Z, clip=False)

    def dp_update(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any], clip_norm: float
    ) -> Update:
        return self._sums(Z, clip=True)

    def dp_row_bound(self, clip_norm: float) -> float:
        # one row adds at most 1 to one count per group and, scaled to its bounds, at most 1
        # to a numeric column's sum and sum of squares
        if self.kind == "crosstab":
            return 1.0
        squared = 0.0
        for c in self._columns:
            squared += 1.0 + (2.0 if c.numeric else 0.0)  # present or missing; sum, squares
            squared += 1.0 if c.bounds is not None else 0.0
            squared += 1.0 if c.categories is not None else 0.0
        return float(np.sqrt(squared))

    def _sums(self, X: np.ndarray, *, clip: bool) -> Update:
        values = np.zeros(self.update_size(len(self.features)) - Update.size(0, 0))
        parts = self._parts(values)
        columns = self._columns
        if self.kind == "crosstab":
            a, b = columns
            both = ~np.isnan(X[:, 0]) & ~np.isnan(X[:, 1])
            cell = a.codes(X[both, 0]) * b.cells + b.codes(X[both, 1])
            parts[("", "crosstab")][:] = np.bincount(cell, minlength=a.cells * b.cells)
            return Update(rows=float(len(X)), metrics=np.zeros(0), values=values)
        for j, c in enumerate(columns):
            x = X[:, j]
            present = ~np.isnan(x)
            v = x[present]
            moments = parts[(c.name, "moments")]
            moments[0] = float(present.sum())
            parts[(c.name, "missing")][0] = float(len(x) - present.sum())
            if c.numeric:
                low, scale = _scale(c)
                if clip and c.bounds is not None:
                    v = np.clip(v, *c.bounds)
                s = (v - low) / scale
                moments[1], moments[2] = s.sum(), (s * s).sum()
            if c.bounds is not None:
                parts[(c.name, "histogram")][:] = _bin_counts(v, c.bounds, self.bins)
            if c.categories is not None:
                parts[(c.name, "categories")][:] = np.bincount(c.codes(v), minlength=c.cells)
        return Update(rows=float(len(X)), metrics=np.zeros(0), values=values)

    def suppress(self, update: Update, min_rows: int) -> Update:
        """Blank (and flag) every count cell in ``(0, min_rows)``; where that blanks a single
        cell of a histogram, a category list or a crosstab, blank its smallest other non-zero
        cell too, so the blank cannot be worked out from the total. A column with fewer than
        ``min_rows`` present values releases no moments."""
        values = update.values.copy()
        if values[0] > 0.5:  # a quantile round's counts below thresholds
            minimum = max(min_rows, self.blank_below or 0)
            return _quantiles.suppress_below(self, update, values, minimum)
        parts = self._parts(values)
        for (column, part), cells in parts.items():
            if part == "layout" or part.endswith(":blanked"):
                continue
            flags = parts[(column, f"{part}:blanked")]
            if part == "moments":
                if 0 < cells[0] < min_rows:
                    cells[:] = 0.0
                    flags[:] = 1.0
                continue
            small = (cells > 0) & (cells < min_rows)
            if part != "missing" and small.sum() == 1:
                rest = np.where((cells > 0) & ~small, cells, np.inf)
                if np.isfinite(rest.min()):
                    small[int(np.argmin(rest))] = True
            cells[small] = 0.0
            flags[small] = 1.0
        return Update(rows=update.rows, metrics=update.metrics, values=values)

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        if "values" not in state:
            return {"values": update.values.tolist(), "rows": update.rows, "below": {}}
        return _quantiles.absorb(self, state, update)

    def _round_one(self, state: Mapping[str, Any]) -> PooledStatistics:
        """The first round's pooled sums, as the coordinator holds them."""
        return PooledStatistics(self, np.asarray(state["values"], dtype=float), 0.0)

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        return {}

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> PooledStatistics:  # type: ignore[override]
        header = Update.size(0, 0)  # a lake's vector starts with its row counts
        return PooledStatistics(
            plan=self,
            values=np.asarray(state["values"], dtype=np.float64),
            rows=float(state["rows"]),
            state=dict(state),
            lakes=tuple(context.get("lakes", ())),
            per_lake={
                lake: np.asarray(vector, dtype=np.float64)[header:]
                for lake, vector in (context.get("per_lake") or {}).items()
            },
        )

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.ones(n)


def _scale(c: _Column) -> tuple[float, float]:
    """Where a numeric column's sums are taken from, and in what unit: its published range
    (so each row adds at most 1 to them), else the values as they are."""
    if c.bounds is None:
        return 0.0, 1.0
    return c.bounds[0], c.bounds[1] - c.bounds[0]


def _bin_counts(v: np.ndarray, bounds: tuple[float, float], bins: int) -> np.ndarray:
    """Counts over ``bins`` equal bins of ``bounds`` (values outside go to the end bins)."""
    low, high = bounds
    index = np.floor((v - low) / (high - low) * bins)
    return np.bincount(np.clip(index, 0, bins - 1).astype(np.int64), minlength=bins)


@dataclass(frozen=True)
class PooledStatistics:
    """A statistics request's pooled (and, with DP, noisy) sums, as the coordinator holds
    them; :meth:`describe`, :meth:`histogram` and :meth:`crosstab` give the tables."""

    plan: Statistics
    values: np.ndarray
    rows: float
    lakes: tuple[str, ...] = ()
    # each lake's own sums, where its owner releases them (a request without secure
    # aggregation under Policy(release_per_lake=True))
    per_lake: dict[str, np.ndarray] = field(default_factory=dict)
    # the job's state, with the quantile rounds' counts below thresholds (``below``)
    state: dict[str, Any] = field(default_factory=dict)

    def lake(self, name: str) -> PooledStatistics:
        """The figures of lake ``name`` alone (only where its owner released them)."""
        if name not in self.per_lake:
            raise PrivacyError(
                f"lake {name!r} released no figures of its own; its owner allows them with "
                "Policy(release_per_lake=True), asked for without secure aggregation"
            )
        return PooledStatistics(self.plan, self.per_lake[name], self.rows, (name,))

    @property
    def noise_std(self) -> float:
        """The standard deviation of the DP noise on every released sum (0 without DP);
        sums of values are in units of the column's published range."""
        dp = self.plan.dp
        if dp is None:
            return 0.0
        from ..secure import noise_multiplier_for, secure_threshold

        sigma = noise_multiplier_for(float(dp.epsilon), float(dp.delta), self.plan.total_rounds)
        # each lake adds 1/shares of the variance, so that any `shares` of them carry it all
        n = max(len(self.lakes), 1)
        shares = (
            secure_threshold(n, self.plan.secure_threshold) if self.plan.secure_aggregation else 1
        )
        return float(sigma * self.plan.dp_row_bound(float(dp.clip_norm)) * np.sqrt(n / shares))

    def _part(self, column: str, part: str, min_rows: int) -> np.ndarray:
        """A part's cells, NaN where any lake blanked one or (with DP) the pooled noisy count
        is below ``min_rows``."""
        parts = self.plan._parts(self.values)
        cells = parts[(column, part)].astype(float).copy()
        blanked = parts[(column, f"{part}:blanked")] > 0.5
        if self.plan.dp is not None:  # lakes blank nothing under DP: the flags are only noise
            blanked[:] = False
        if part == "moments":
            return np.full_like(cells, np.nan) if blanked.any() else cells
        cells[blanked] = np.nan
        if self.plan.dp is not None:
            cells = np.round(cells)
            cells[cells < min_rows] = np.nan
        return cells

    def describe(self, min_rows: int) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The describe table, and per column its histogram, category counts and the
        quantiles' stated error."""
        rows, extras = [], {}
        for c in self.plan._columns:
            moments = self._part(c.name, "moments", min_rows)
            missing = self._part(c.name, "missing", min_rows)[0]
            count = moments[0]
            if self.plan.dp is not None:
                count = float(np.round(count)) if count >= min_rows else np.nan
            row: dict[str, Any] = {"column": c.name, "count": count, "missing": missing}
            extra: dict[str, Any] = {}
            row["mean"] = row["std"] = np.nan
            if c.numeric and np.isfinite(count) and count > 0:
                low, scale = _scale(c)
                mean_s = moments[1] / count
                var_s = max(moments[2] - count * mean_s * mean_s, 0.0) / max(count - 1, 1)
                row["mean"] = low + scale * mean_s
                row["std"] = scale * np.sqrt(var_s) if count > 1 else np.nan
                if self.noise_std:
                    # first-order spread of a ratio of two noisy sums
                    extra["noise"] = {
                        "count": self.noise_std,
                        "mean": scale * self.noise_std / count * np.sqrt(1 + mean_s**2),
                    }
            quantiles = {f"q{round(q * 100):02d}": np.nan for q in QUANTILES}
            if c.bounds is not None:
                counts = self._part(c.name, "histogram", min_rows)
                edges = np.linspace(c.bounds[0], c.bounds[1], self.plan.bins + 1)
                extra["histogram"] = histogram_frame(edges, counts)
                if c.numeric and np.isfinite(count) and self.state.get("below", {}).get(c.name):
                    facts = _quantiles.facts(self.plan, self.state, c, count)
                    estimates, errors = quantiles_from_counts(facts, c.bounds, count)
                    quantiles.update(estimates)
                    extra["quantile_error"] = errors
                elif c.numeric and np.isfinite(count):
                    estimates, errors = quantiles_from_histogram(edges, counts, count)
                    quantiles.update(estimates)
                    extra["quantile_error"] = errors
            row.update(quantiles)
            if c.categories is not None:
                counts = self._part(c.name, "categories", min_rows)
                labels = [*c.categories, "other"]
                extra["categories"] = pd.Series(
                    counts, index=pd.Index(labels, name=c.name), name="count"
                )
            rows.append(row)
            extras[c.name] = extra
        frame = pd.DataFrame(rows).set_index("column")
        return frame, extras

    def crosstab(self, min_rows: int) -> pd.DataFrame:
        a, b = self.plan._columns
        cells = self._part("", "crosstab", min_rows).reshape(a.cells, b.cells)
        frame = pd.DataFrame(
            cells,
            index=pd.Index([*a.categories, "other"], name=a.name),  # type: ignore[misc]
            columns=pd.Index([*b.categories, "other"], name=b.name),  # type: ignore[misc]
        )
        # "other" appears only where some lake holds a value outside the published ones
        keep_rows = [i for i in frame.index if i != "other" or frame.loc[i].fillna(1).any()]
        keep_cols = [j for j in frame.columns if j != "other" or frame[j].fillna(1).any()]
        return frame.loc[keep_rows, keep_cols]


def histogram_frame(edges: np.ndarray, counts: np.ndarray) -> pd.DataFrame:
    """A histogram as ``low``, ``high``, ``count`` (NaN where a cell was suppressed)."""
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "count": counts})
