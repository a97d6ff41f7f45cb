"""Cox proportional hazards across lakes: Newton's method on sums over a shared time grid.

The time grid is public: the times asked for, or equal bins over the duration's published
bounds (:func:`~collab.plans._survival._noise.uniform_times`); no round reads it from the
rows, and without published bounds or ``times`` the plan is refused. Rounds:

1. ``newton`` (until the step is small): at the request's coefficients, each lake sums per
   bin over the rows leaving its risk set there, ``exp(x b)``, ``x exp(x b)`` and
   ``x x' exp(x b)``, and over the events there the count, ``x``, and the same three
   weighted sums (Efron's correction for ties needs them), and the count of rows leaving.
   Before release the lake merges its bins into runs: the events' sums on runs of at least
   ``min_rows`` of its events, the censored rows' sums (the rows leaving less the events) on
   runs of at least ``min_rows`` censored rows
   (:func:`~collab.plans._survival._time.split_runs`): the runs over all the lake's rows,
   the same partition a Kaplan-Meier or log-rank request on the grid starts from. From the
   second round on, each lake spreads every run's sums back over its bins in proportion to
   the events and censored rows the first round pooled per bin (public by then;
   :func:`~collab.plans._survival._time.spread_runs`), so that a small lake's events are
   not all placed at the ends of its runs; what leaves it still depends on its rows only
   through its runs' totals. The coordinator accumulates the risk sets from the last bin down and
   takes the Newton step of the (binned) partial likelihood, halving it when the likelihood
   falls.
2. ``concordance``: per bin and per bin of the risk score, counts of events and of rows
   leaving, for Harrell's concordance index on the training rows, released on the Newton
   round's time runs cut further into runs of score bins of at least ``min_rows``
   (:func:`~collab.plans._survival._concordance.release`).

No single patient's event time or covariates is ever a pooled figure: every released bin of
a lake holds its own events, and its own censored rows, in groups of at least ``min_rows``.
Every survival release of a lake counts the same rows (those with a usable duration and
event): a lake refuses a round that would leave some out for a missing feature
(:func:`~collab.plans._survival._time.refuse_left_out`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from ..._errors import PlanError, PolicyViolation
from ..._policy import DEFAULT_MIN_ROWS, Policy
from ..._schema import ColumnSchema, TableSchema
from .._model import Model
from .._parameters import Param
from .._plan import Plan, register_family
from .._stats import Standardizer
from .._update import Update
from ._columns import check_duration, check_event, check_times
from ._concordance import SCORE_BINS, concordance, release, score_bins, score_position
from ._likelihood import efron_terms, symmetric
from ._model import CoxModel
from ._noise import (
    COX_BINS,
    COX_ROW_BOUND,
    DROP_SIGMAS,
    GRID_BINS,
    RISK_CLIP,
    BoundedSurvivalRows,
    capped,
    clean_newton,
    definite,
    in_raw_units,
    input_range,
    least_noise_std,
    scaled_bins,
    uniform_times,
)
from ._time import (
    SurvivalRows,
    bin_index,
    check_edges,
    merge_bins,
    read_head,
    refuse_left_out,
    split_runs,
    spread_runs,
    take_left_out,
    usable_rows,
    write_head,
)

NEWTON, CONCORDANCE, SPREAD = 2.0, 3.0, 4.0
TIES = ("efron", "breslow")
FILL_ADVICE = (
    "Fill the features in the plan (transforms=[collab.features.impute('constant', column, "
    "fill_value=...)]), leave them out, or ask the owner to fill them."
)
TOLERANCE = 1e-7


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class CoxPH(Plan):
    """Cox proportional hazards across lakes, fitted by Newton's method on pooled sums.

    The time grid is public: equal bins over the duration's published bounds (or the times
    asked for), which each lake merges into runs of at least its ``min_rows`` events before
    release; each Newton round the lakes sum the
    risk-set and event statistics of the partial likelihood per bin (securely aggregated)
    and the coordinator takes the step. Events inside one bin count as tied (Efron's or
    Breslow's correction). Categorical features are coded against their first published
    category (no intercept: the baseline hazard takes its place). A lake refuses the plan
    where a row with a duration and an event has no value of a feature after the plan's
    fills (``transforms=[collab.features.impute("constant", ...)]``): left out of the fit, it
    would be the difference between the fit's sums and an ungrouped curve's (or another
    fit's) on the same runs. A last round counts events and rows by bin and by risk score for the
    concordance index on the training rows.

    Parameters
    ----------
    table
        The table.
    duration
        The time from the start of follow-up to the event or to censoring (a non-negative
        number).
    event
        1 (or true) when the event happened at ``duration``, 0 when follow-up ended without it.
    features
        The covariates: numbers, booleans, or columns with published categories.
    label
        Leave it empty: a Cox plan's label is its ``event`` column.
    ties
        ``"efron"`` (as lifelines) or ``"breslow"``: how events inside one bin are counted.
    alpha
        Ridge penalty ``alpha / 2 * sum(coef ** 2)`` on the partial log-likelihood.
    max_iter
        The most Newton rounds.
    max_bins
        The most bins of the time grid.
    min_events
        The fewest pooled events the fit needs (``None``: the owners' largest ``min_rows``).
    times
        The times the grid's bins end at; ``None``: ``max_bins - 1`` (at most 99; with DP,
        10) equal bins over the duration's published bounds.
    dp
        ``collab.DP(epsilon=...)``: each Newton round's sums per bin carry Gaussian noise,
        calibrated over all rounds and charged once to the budget; the features need
        published bounds (each row's contribution is bounded by them, its risk weight
        clipped to at most ``exp(2)``). Keep ``max_iter`` small: every round costs. See
        :mod:`collab.plans._survival._noise`.
    secure_aggregation, secure_threshold
        Privacy (see :class:`collab.plans.Plan`).
    transforms, encoding
        As for every plan (see :class:`collab.plans.Plan`).
    """

    model: ClassVar[str] = "cox_ph"
    model_class: ClassVar[type[Model]] = CoxModel
    task: ClassVar[str] = "survival"  # type: ignore[misc]
    history_metrics: ClassVar[tuple[str, ...]] = ("log_likelihood", "step")
    primary_metric: ClassVar[str] = "log_likelihood"
    scales_rows: ClassVar[bool] = False
    complete_rows: ClassVar[bool] = True
    _left_out_when_empty: ClassVar[tuple[str, ...]] = ("transforms", "encoding", "times")

    parameters: ClassVar[tuple[Param, ...]] = (
        Param("duration", "text", "The time to the event or to censoring (a number >= 0)."),
        Param("event", "text", "1 (or true) when the event happened, 0 when censored."),
        Param("ties", "text", "efron (as lifelines) or breslow.", choices=TIES),
        Param("alpha", "float", "Ridge penalty alpha / 2 * sum(coef ** 2).", low=0),
        Param("max_iter", "int", "The most Newton rounds.", low=1, high=100),
        Param("max_bins", "int", "The most bins of the time grid.", low=2, high=500),
        Param(
            "min_events",
            "int",
            "The fewest pooled events the fit needs; None: the owners' largest min_rows.",
            low=1,
            optional=True,
        ),
        Param("times", "numbers", "The times bins end at; None: a public grid.", optional=True),
    )

    duration: str
    event: str
    label: str = ""
    ties: str = "efron"
    alpha: float = 0.0
    max_iter: int = 20
    max_bins: int = 100
    min_events: int | None = None
    times: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("duration", "event"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise PlanError(f"{name} must be a column name, not {value!r}")
        if self.label and self.label != self.event:
            raise PlanError(
                f"a Cox plan's label is its event column ({self.event!r}); leave label out"
            )
        object.__setattr__(self, "label", self.event)
        object.__setattr__(self, "times", check_times(self.times))
        super().__post_init__()

    def _validate(self) -> None:
        if self.duration == self.event or self.duration in self.features:
            raise PlanError(
                f"duration {self.duration!r} must be a column of its own, not the event or a "
                "feature"
            )
        if self.times is not None and len(self.times) > self.max_bins - 1:
            raise PlanError(f"ask for at most {self.max_bins - 1} times")
        column = self._fitted_fill()
        if column is not None:
            raise PlanError(
                f"impute({column.impute.strategy!r}) on {column.name!r}: a Cox plan reads rows "
                "without the statistics phase that fits such a fill; use impute('constant', "
                "..., fill_value=...) or leave the rows with a missing value out"
            )

    # --- columns and checks -----------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.features, self.duration, self.event)

    def check_label(self, column: ColumnSchema, where: str) -> None:
        check_event(column, where)

    def check_against(self, schema: TableSchema, policy: Policy) -> None:
        where = f"lake {schema.lake!r}, table {schema.name!r}"
        check_duration(schema.column(self.duration), where)
        super().check_against(schema, policy)
        if self.min_events is not None and self.min_events < policy.min_rows:
            raise PolicyViolation(
                f"{where}: min_events is {self.min_events}, below the owner's minimum of "
                f"{policy.min_rows} rows; set min_events={policy.min_rows} or more (None takes "
                "the owners' largest minimum)."
            )

    def _resolved_policies(self, policies: Mapping[str, Policy]) -> Any:
        if self.min_events is not None or not policies:
            return self
        return replace(self, min_events=max(p.min_rows for p in policies.values()))

    @property
    def least_events(self) -> int:
        return int(self.min_events or DEFAULT_MIN_ROWS)

    def invalid_labels(self, y: np.ndarray) -> int:
        y = y[np.isfinite(y)]
        return int(np.count_nonzero((y != 0) & (y != 1)))

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, 2, size=n).astype(np.float64)

    def preset_standardizer(self) -> Standardizer | None:
        # with DP, the scaling by published bounds every lake applies (the DP preset)
        return None if self.dp is not None else super().preset_standardizer()

    def row_scaling(self, standardizer: Any) -> Any:
        if self.dp is not None:  # inputs in [0, 1] by their published bounds
            low, width = input_range(standardizer(), self.kept)
            return BoundedSurvivalRows(
                self.design, self.design.constant_fills(), self.kept, low, width
            )
        return SurvivalRows(self.design, self.design.constant_fills(), self.kept)

    def release_terms(self, request: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Sums per bin of a time grid fix that grid for every later survival release of the
        same duration column (a second grid's difference could isolate patients)."""
        if request is None:
            return {}
        return {f"survival:{self.duration}": [float(e) for e in request["edges"]]}

    # --- the lake's step ----------------------------------------------------------------------
    @property
    def kept(self) -> list[int]:
        """The input positions with a coefficient: all but each categorical feature's first
        category (its reference, absorbed in the baseline hazard as a formula would)."""
        kept, offset = [], 0
        for c in self.design.columns:
            width = len(c.outputs)
            first = offset if c.levels else -1
            kept.extend(i for i in range(offset, offset + width) if i != first)
            offset += width
        return kept

    @property
    def n_coef(self) -> int:
        return len(self.kept)

    def _bin_size(self) -> int:
        p = self.n_coef
        q = p * (p + 1) // 2
        return 4 + 3 * p + 2 * q

    def update_size(self, n_features: int) -> int:
        # a spread Newton round carries the public shares (events, censored rows) per bin,
        # a concordance round its counts, sums and sums of squares per bin and score bin;
        # last, the rows left out for a missing feature (never released)
        body = max(self.max_bins * (self._bin_size() + 2), self.max_bins * 6 * SCORE_BINS)
        return Update.size(0, 2 + body + 1)

    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        try:
            kind = request["kind"]
            if kind not in ("newton", "concordance"):
                raise ValueError(f"unknown kind {kind!r}")
            edges = check_edges(request["edges"], self.max_bins)
            if kind == "newton" and request.get("shares") is not None:
                shares = np.asarray(request["shares"], dtype=np.float64)
                if shares.shape != (2 * (len(edges) + 1),) or not np.all(np.isfinite(shares)):
                    raise ValueError("the shares are not two numbers per bin")
            if self.times is not None and tuple(edges) != self.times:
                raise ValueError("the bins are not the times the owners approved")
            p = self.n_coef
            for name in ("beta", "centre"):
                v = np.asarray(request[name], dtype=np.float64)
                if v.shape != (p,) or not np.all(np.isfinite(v)):
                    raise ValueError(f"{name} must be {p} finite numbers")
            centre = np.asarray(request["centre"], dtype=np.float64)
            if self.dp is not None and not np.all((centre >= 0) & (centre <= 1)):
                raise ValueError("a DP round's centre must lie in [0, 1]")
            if kind == "concordance":
                scale = float(request["scale"])
                if not (np.isfinite(scale) and scale > 0):
                    raise ValueError("the score's scale must be positive")
        except PolicyViolation:
            raise
        except Exception as exc:
            raise PolicyViolation(
                f"a Cox round's request is not one this plan sends ({exc})"
            ) from exc

    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        X, t, e, invalid, left = usable_rows(Z, y)
        size = self.update_size(self.n_inputs) - Update.size(0, 0)
        values = np.zeros(size)
        if self.dp is None:  # with DP nothing is suppressed: noise covers every row
            values[-1] = left
        kind = request["kind"]
        edges = np.asarray(request["edges"], dtype=np.float64)
        n_bins = len(edges) + 1
        k = bin_index(t, edges)
        beta = np.asarray(request["beta"], dtype=np.float64)
        Xc = X - np.asarray(request["centre"], dtype=np.float64)
        eta = Xc @ beta
        if kind == "concordance":
            write_head(values, CONCORDANCE, n_bins)
            u = score_position(eta, float(request["scale"]))
            s = score_bins(eta, float(request["scale"]))
            # per bin, events and all rows (axis 1), score bin: counts, then (suppress reads
            # them for its runs and releases none) the positions' sums and sums of squares
            counts = np.zeros((3, n_bins, 2, SCORE_BINS))
            moments = (1.0, u, u * u) if self.dp is None else (1.0,)
            for i, power in enumerate(moments):
                np.add.at(counts[i], (k, 0, s), e * power)
                np.add.at(counts[i], (k, 1, s), np.broadcast_to(power, t.shape))
            values[2 : 2 + counts.size] = counts.ravel()
            return Update(float(len(t)), np.zeros(0), values, float(invalid))
        write_head(values, NEWTON, n_bins)
        w = np.exp(np.minimum(eta, 700.0 if self.dp is None else RISK_CLIP))
        p = self.n_coef
        iu = np.triu_indices(p)
        out = np.zeros((n_bins, self._bin_size()))
        order = np.argsort(k, kind="stable")
        bounds = np.searchsorted(k[order], np.arange(n_bins + 1))
        for b in range(n_bins):
            rows = order[bounds[b] : bounds[b + 1]]
            if not len(rows):
                continue
            xb, wb, eb = Xc[rows], w[rows], e[rows]
            xw = xb * wb[:, None]
            ev = eb > 0.5
            xe, xwe = xb[ev], xw[ev]
            out[b] = np.concatenate(
                [
                    [wb.sum()],
                    xw.sum(axis=0),
                    (xw.T @ xb)[iu],
                    [float(ev.sum())],
                    xe.sum(axis=0),
                    [wb[ev].sum()],
                    xwe.sum(axis=0),
                    (xwe.T @ xe)[iu],
                    [float(len(rows))],
                ]
            )
        values[2 : 2 + out.size] = out.ravel()
        if request.get("shares") is not None:
            # public pooled counts of an earlier round: suppress spreads each run by them
            # (blocks' copies add up to a multiple; only their ratios are used)
            write_head(values, SPREAD, n_bins)
            values[2 + out.size : 2 + out.size + 2 * n_bins] = request["shares"]
        return Update(float(len(t)), np.zeros(0), values, float(invalid))

    def dp_update(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any], clip_norm: float
    ) -> Update:
        """The round's sums, each part per bin divided by its bound on one row's share."""
        update = self.local_update(Z, y, request)
        if request["kind"] != "newton":
            return update
        n_bins = len(request["edges"]) + 1
        values = scaled_bins(update.values, n_bins, self.n_coef, divide=True)
        return replace(update, values=values)

    def dp_row_bound(self, clip_norm: float) -> float:
        return COX_ROW_BOUND

    def suppress(self, update: Update, min_rows: int) -> Update:
        """A round's bins merged into runs of at least ``min_rows`` of this lake's events for
        the events' sums, and of at least ``min_rows`` of its censored rows for theirs (each
        blanked when the lake has fewer)."""
        values = update.values.copy()
        kind, n_bins = read_head(values)
        refuse_left_out(take_left_out(values), self.features, FILL_ADVICE)
        if kind in (NEWTON, SPREAD):
            p = self.n_coef
            q = p * (p + 1) // 2
            per_bin = values[2 : 2 + n_bins * self._bin_size()].reshape(n_bins, -1)
            # columns: the leaving rows' moments [0, m), the events' count, x sum and moments
            # [m, 2 m + p + 1), the leaving rows' count; the censored rows' moments and count
            # are the leaving rows' less the events'
            m = 1 + p + q
            ev = per_bin[:, m : 2 * m + p + 1]
            moments = ev[:, 1 + p :]
            censored = np.column_stack([per_bin[:, :m] - moments, per_bin[:, -1] - per_bin[:, m]])
            by_event, by_censored = split_runs(per_bin[:, m], censored[:, -1], min_rows)
            if kind == NEWTON:
                ev, censored = merge_bins(ev, by_event), merge_bins(censored, by_censored)
            else:
                at = 2 + per_bin.size
                shares = values[at : at + 2 * n_bins].reshape(2, n_bins)
                ev = spread_runs(ev, by_event, shares[0])
                censored = spread_runs(censored, by_censored, shares[1])
                values[at : at + 2 * n_bins] = 0.0
            merged = np.column_stack(
                [ev[:, 1 + p :] + censored[:, :m], ev, ev[:, 0] + censored[:, -1]]
            )
            values[2 : 2 + merged.size] = merged.ravel()
        elif kind == CONCORDANCE:
            # on the Newton round's time runs, and on runs of score bins inside each
            size = 3 * n_bins * 2 * SCORE_BINS
            per_bin = values[2 : 2 + size].reshape(3, n_bins, 2, SCORE_BINS)
            per_bin = np.stack([per_bin[:, :, 0], per_bin[:, :, 1] - per_bin[:, :, 0]], axis=2)
            events, censored, spread = release(*per_bin, min_rows)
            merged = np.stack([events, events + censored], axis=1)
            values[2 : 2 + size] = 0.0
            values[2 : 2 + merged.size] = merged.ravel()
            values[2 + merged.size : 2 + merged.size + spread.size] = spread.T.ravel()
        return replace(update, values=values)

    # --- the coordinator ----------------------------------------------------------------------
    @property
    def total_rounds(self) -> int:
        return int(self.max_iter) + 1

    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        return self._first_newton(list(self.public_times()), self.public_times()[-1], None)

    def public_times(self) -> tuple[float, ...]:
        """The grid's bin ends: the times asked for, or (filled in from the owners' schemas)
        equal bins over the duration's published bounds."""
        if self.times is None:
            raise PlanError(
                f"table {self.table!r}: a Cox plan on duration column {self.duration!r} has no "
                "time grid; ask the owners to publish the column's bounds, or pass times=[...]"
            )
        return self.times

    def _first_newton(self, edges: list[float], last: float, rows: float | None) -> dict[str, Any]:
        p = self.n_coef
        return {
            "phase": "newton",
            "iteration": 0,
            "edges": edges,
            "last_time": last,
            "beta": [0.0] * p,
            "centre": [0.0] * p,
            "rows": rows,
            "fit": {"log_likelihood": float("nan"), "step": float("nan")},
        }

    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        phase = state["phase"]
        if phase == "done":
            return None
        common = {"edges": state["edges"], "beta": state["beta"], "centre": state["centre"]}
        if phase == "newton":
            return {"kind": "newton", **common, "shares": state.get("shares")}
        return {"kind": "concordance", **common, "scale": state["scale"]}

    def _per_bin(self, update: Update, width: int, n_bins: int) -> np.ndarray:
        return update.values[2 : 2 + n_bins * width].reshape(n_bins, width)

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        phase = state["phase"]
        if update.rows <= 0:
            raise PlanError(f"no lake has usable rows in table {self.table!r}")
        if phase == "newton":
            if self.dp is not None:  # the parts back in their units
                n_bins = len(state["edges"]) + 1
                values = scaled_bins(update.values, n_bins, self.n_coef, divide=False)
                update = replace(update, values=values)
            return self._newton(state, update)
        n_bins = len(state["edges"]) + 1
        counts = self._per_bin(update, 2 * SCORE_BINS, n_bins).reshape(n_bins, 2, SCORE_BINS)
        spread = None
        if self.dp is not None:  # no runs: every count in its own bin
            counts = np.maximum(counts, 0.0)
        else:  # per time bin, the sums of count x variance of the score runs: events', rows'
            at = 2 + counts.size
            spread = update.values[at : at + 2 * n_bins].reshape(2, n_bins).T
        c_index, error = concordance(counts[:, 0], counts[:, 1], spread)
        return {**state, "phase": "done", "concordance": [c_index, error]}

    def _sums(self, update: Update, n_bins: int) -> dict[str, np.ndarray]:
        p = self.n_coef
        q = p * (p + 1) // 2
        per_bin = self._per_bin(update, self._bin_size(), n_bins)
        parts, at = {}, 0
        for name, size in (
            ("L0", 1), ("L1", p), ("L2", q), ("D", 1), ("Dx", p), ("E0", 1), ("E1", p), ("E2", q),
            ("N", 1),
        ):  # fmt: skip
            parts[name] = per_bin[:, at : at + size]
            at += size
        return parts

    def _newton(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        p = self.n_coef
        n_bins = len(state["edges"]) + 1
        s = self._sums(update, n_bins)
        if self.dp is not None:
            spread = least_noise_std(self.dp, self.total_rounds, COX_ROW_BOUND)
            s = clean_newton(s, DROP_SIGMAS * spread * float(np.exp(RISK_CLIP)))
        beta = np.asarray(state["beta"], dtype=np.float64)
        centre = np.asarray(state["centre"], dtype=np.float64)

        def at_risk(a: np.ndarray) -> np.ndarray:
            return np.cumsum(a[::-1], axis=0)[::-1]

        R0, R1, R2 = at_risk(s["L0"])[:, 0], at_risk(s["L1"]), symmetric(at_risk(s["L2"]), p)
        E0, E1, E2 = s["E0"][:, 0], s["E1"], symmetric(s["E2"], p)
        events = s["D"][:, 0]
        part, grad, hess, hazard = efron_terms((R0, R1, R2), (E0, E1, E2), events, self.ties)
        dx = s["Dx"].sum(axis=0)
        ll = float(dx @ beta) + part - 0.5 * self.alpha * float(beta @ beta)
        grad = grad + dx - self.alpha * beta
        hess = hess - self.alpha * np.eye(p)
        iteration = int(state["iteration"]) + 1
        new: dict[str, Any] = {**state, "iteration": iteration}
        if iteration == 1 and self.dp is None and float(events.sum()) < self.least_events:
            raise PlanError(
                f"table {self.table!r}: the lakes released fewer than {self.least_events} "
                "events in all; a Cox model needs more events than the owners' minimum"
            )
        if iteration == 1:  # at zero coefficients and no centre: the rows' mean and spread
            n = float(s["L0"].sum())
            mean = s["L1"].sum(axis=0) / n
            cov = symmetric(s["L2"].sum(axis=0), p) / n - np.outer(mean, mean)
            if self.dp is not None:  # inputs in [0, 1]: so is the centre the lakes accept
                mean = np.clip(mean, 0.0, 1.0)
            new["mean"], new["cov"] = mean.tolist(), cov.tolist()
            new["centre"] = mean.tolist()
            if self.dp is None:  # with DP the lakes merge no runs, so spread none
                # each lake's runs merged into their last bins, pooled: the events and
                # censored rows per bin by which the lakes spread their runs from then on
                censored = s["N"][:, 0] - events
                shares = np.r_[np.maximum(events, 0.0), np.maximum(censored, 0.0)]
                new["shares"] = shares.tolist()
        previous = state.get("previous")
        if previous is not None and ll < previous["ll"] - 1e-9 * abs(previous["ll"]):
            half = np.asarray(previous["step"]) / 2  # the step overshot: take half of it
            new["beta"] = (np.asarray(previous["beta"]) + half).tolist()
            new["previous"] = {**previous, "step": half.tolist()}
            new["fit"] = {"log_likelihood": previous["ll"], "step": float(np.abs(half).max())}
            return self._stop_if_spent(new)
        if self.dp is not None:  # noisy curvature: kept definite, the step kept short
            hess = definite(hess)
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError as exc:
            raise PlanError(
                f"the Cox model's information matrix is singular ({exc}): a feature is "
                "constant or a combination of others; drop it, or set alpha > 0"
            ) from exc
        if self.dp is not None:
            step = capped(step)
        size = float(np.abs(step).max()) if p else 0.0
        new["fit"] = {"log_likelihood": ll, "step": size}
        new["solution"] = {
            "beta": beta.tolist(),
            "information": (-hess).tolist(),
            "hazard": hazard.tolist(),
            "centre": centre.tolist(),
            "log_likelihood": ll,
            "converged": size < TOLERANCE,
        }
        if iteration > 1 and (
            size < TOLERANCE
            or (previous is not None and abs(ll - previous["ll"]) < 1e-12 * max(1.0, abs(ll)))
        ):
            return self._finish(new)
        # the first round's sums were merged, the next ones spread: their likelihoods differ,
        # so the first step is not checked against the next
        if iteration > 1:
            new["previous"] = {"beta": beta.tolist(), "ll": ll, "step": step.tolist()}
        new["beta"] = (beta + step).tolist()
        return self._stop_if_spent(new)

    def _stop_if_spent(self, state: dict[str, Any]) -> dict[str, Any]:
        if int(state["iteration"]) >= int(self.max_iter):
            return self._finish(state)
        return state

    def _finish(self, state: dict[str, Any]) -> dict[str, Any]:
        solution = state["solution"]
        beta = np.asarray(solution["beta"])
        cov = np.asarray(state["cov"])
        spread = float(np.sqrt(max(beta @ cov @ beta, 0.0)))
        return {
            **state,
            "phase": "concordance",
            "beta": solution["beta"],
            "centre": solution["centre"],
            "scale": spread if spread > 0 else 1.0,
        }

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        return dict(state.get("fit") or {})

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> CoxModel:
        solution = state["solution"]
        information = np.asarray(solution["information"])
        try:
            covariance = np.linalg.inv(information)
        except np.linalg.LinAlgError:
            covariance = np.linalg.pinv(information)
        kept, d = self.kept, self.n_inputs
        beta, centre = np.asarray(solution["beta"]), np.asarray(solution["centre"])
        if self.dp is not None:  # fitted on inputs scaled to [0, 1] by their bounds
            beta, covariance, centre = in_raw_units(
                beta, covariance, centre, *input_range(standardizer, kept)
            )
        coef, full_cov = np.zeros(d), np.zeros((d, d))
        coef[kept] = beta
        full_cov[np.ix_(kept, kept)] = covariance
        means = np.zeros(d)
        means[kept] = centre
        edges = list(state["edges"])
        times = np.asarray([*edges, max(float(state["last_time"]), edges[-1] if edges else 0.0)])
        hazard = np.asarray(solution["hazard"])
        c_index, c_error = state.get("concordance", [float("nan"), float("nan")])
        context.pop("per_lake", None)
        return CoxModel(
            features=self.input_names,
            label=self.event,
            duration=self.duration,
            coef_=coef,
            covariance_=full_cov,
            feature_means_=means,
            score_scale_=float(state["scale"]),
            reference=tuple(n for i, n in enumerate(self.input_names) if i not in kept),
            baseline_times_=times,
            baseline_hazard_=hazard,
            concordance_index_=float(c_index),
            concordance_error_=float(c_error),
            log_likelihood_=float(solution["log_likelihood"]),
            converged=bool(solution["converged"]),
            ties=self.ties,
            **context,
        )

    def model_from(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> Model:
        model = self.build_model(state, standardizer, **context)
        if self.design.plain:
            return model
        return replace(model, inputs={**self.design.to_spec(), "fills": {}, "fill_errors": {}})

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Plan:
        if self.times is None:  # public: no round reads it from the rows (with DP, fewer bins)
            bins = min(GRID_BINS if self.dp is None else COX_BINS, self.max_bins - 1)
            return replace(self, times=uniform_times(schemas, self.duration, bins))
        return self
