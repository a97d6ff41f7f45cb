"""The time axis of survival requests, and how a lake coarsens it for its own rows before it
releases anything.

The grid is public: the times a request asks for, or equal bins over the duration column's
published bounds (:func:`~collab.plans._survival._noise.uniform_times`); without either, the
request is refused. No round reads the grid from the rows, so no lake releases a figure about
the duration (such as an event sketch) that is not a sum of the runs below.

The rule: every figure one lake releases about a duration column, and every difference of two
such figures, across rounds and across the requests of one scientist (the grid is fixed per
scientist, table and column by ``release_terms``), holds 0 or at least ``min_rows`` events
(or censored rows) of every group it is about. To keep it, a lake has ONE partition per grid:

* its runs over ALL its rows (:func:`lake_groups`, :func:`split_runs`): consecutive bins
  merged into the run's last bin until the run holds at least ``min_rows`` of the lake's
  events (a remainder joins the last run); its censored rows on runs of their own, of at
  least ``min_rows`` censored rows, so one censored patient is never the gap between a run's
  rows and its events. A Cox round and an ungrouped Kaplan-Meier or log-rank request release
  these runs. On given times, fine cells (:func:`atom_edges`) are counted, each run of bins
  cut further into runs of cells of at least ``min_rows`` (:func:`nested_runs`).
* a grouped request coarsens those runs in common for all its groups (:func:`common_runs`,
  :func:`group_runs`): adjacent runs merged until every group holds 0 or at least
  ``min_rows`` in each; a group with fewer than ``min_rows`` in all is left out. Every figure
  is then a union of whole runs over all rows, and a grouped figure less an ungrouped one (or
  a Cox round's) over the same runs is another group's count there: 0 or ``min_rows``.

A second round spreads each run's totals back over its bins by shares from pooled figures
only (:func:`spread_runs`, :func:`group_shares`): what leaves still depends on the rows only
through the runs' totals. A grid asked fine enough to isolate one patient's event time is
coarsened by every lake before its sums leave it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..._errors import PolicyViolation
from .._trees._sketch import SKETCH_PER_SIGN, sketch_upper_bounds

__all__ = [
    "GRID_REACH",
    "SHARE_REACH",
    "SHARE_TILT",
    "SurvivalRows",
    "atom_edges",
    "bin_index",
    "check_edges",
    "common_runs",
    "fine_shares",
    "group_runs",
    "group_shares",
    "lake_groups",
    "merge_bins",
    "nested_runs",
    "read_head",
    "refuse_left_out",
    "split_runs",
    "spread_runs",
    "take_left_out",
    "write_head",
]

_KINDS = 8
"""Kinds of a survival step's answer are below this; its head codes ``kind + _KINDS * bins``."""

SHARE_REACH = 4
"""Cells on either side over which :func:`fine_shares` averages the pooled density."""
SHARE_TILT = 8
"""Cells on either side over which :func:`group_shares` averages each group's part."""
GRID_REACH = 12
"""Bins of the public grid on either side over which the shares of a request without
``times`` are averaged, all rows' and each group's part (its bins are narrower than the fine
cells of one with ``times``)."""


def write_head(values: np.ndarray, kind: float, n_bins: int = 0) -> None:
    """A survival step's first two values: ``1`` (one block of rows) and its kind and bins in
    one code. A lake sums its blocks' answers before it suppresses them, so the head reads
    back (:func:`read_head`) however many blocks its rows came in."""
    values[0] = 1.0
    values[1] = float(kind) + _KINDS * int(n_bins)


def read_head(values: np.ndarray) -> tuple[float, int]:
    """The kind and the number of bins of a lake's answer summed over its blocks (kind 0 for
    an answer of no block)."""
    blocks = float(values[0]) if len(values) else 0.0
    if blocks < 0.5:
        return 0.0, 0
    code = round(float(values[1]) / blocks)
    return float(code % _KINDS), code // _KINDS


def check_edges(edges: Any, max_bins: int) -> np.ndarray:
    """A request's grid as an array; :class:`PolicyViolation` unless it is increasing finite
    numbers, at most ``max_bins - 1`` of them."""
    try:
        array = np.asarray(edges, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PolicyViolation(f"a survival request's time grid is not numbers ({exc})") from exc
    if array.ndim != 1 or len(array) > max_bins - 1:
        raise PolicyViolation(
            f"a survival request's time grid must be a list of at most {max_bins - 1} edges"
        )
    if not np.all(np.isfinite(array)) or np.any(np.diff(array) <= 0):
        raise PolicyViolation("a survival request's time grid must be increasing finite numbers")
    return array


def bin_index(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each time's bin: bin ``b`` holds the times in ``(edges[b-1], edges[b]]``."""
    return np.searchsorted(edges, t, side="left")


def lake_groups(events: np.ndarray, min_rows: int) -> np.ndarray:
    """Where a lake's rows of each bin go before release: per bin, the bin its run of bins
    ends at (runs holding at least ``min_rows`` of the lake's ``events`` per bin; the
    remainder joins the last run), or -1 for every bin when the lake has fewer events than
    ``min_rows`` in all (it releases none of these rows)."""
    n = len(events)
    end = np.full(n, -1, dtype=np.int64)
    running, start, last = 0.0, 0, -1
    for b in range(n):
        running += events[b]
        if running >= min_rows:
            end[start : b + 1] = b
            start, running, last = b + 1, 0.0, b
    if last < 0:
        return end
    end[start:] = last
    return end


def merge_bins(per_bin: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Sums per bin (rows of ``per_bin``) moved to the bin their group ends at (rows of a
    group of -1 dropped)."""
    out = np.zeros_like(per_bin)
    kept = groups >= 0
    np.add.at(out, groups[kept], per_bin[kept])
    return out


def spread_runs(per_bin: np.ndarray, groups: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Sums per bin (rows of ``per_bin``) totalled over each run of bins (``groups``, as
    :func:`lake_groups` gives) and spread back over the run's bins in proportion to
    ``shares`` (public pooled counts, rows as ``per_bin``, column by column, or one column
    for all); a run whose shares are all 0 keeps its total in its last bin, as
    :func:`merge_bins` leaves it. What leaves depends on the rows only through the runs'
    totals, each of at least ``min_rows`` rows."""
    merged = merge_bins(per_bin, groups)
    shares = np.asarray(shares, dtype=np.float64)
    if shares.ndim == 1:
        shares = np.broadcast_to(shares[:, None], per_bin.shape)
    out = np.zeros_like(per_bin)
    for end in np.unique(groups[groups >= 0]):
        run = np.flatnonzero(groups == end)
        weights = np.maximum(shares[run], 0.0)
        total = weights.sum(axis=0)
        for j in range(per_bin.shape[1]):
            if total[j] > 0:
                out[run, j] = merged[end, j] * weights[:, j] / total[j]
            else:
                out[end, j] = merged[end, j]
    return out


def split_runs(
    events: np.ndarray, censored: np.ndarray, min_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where a lake's events and its censored rows of each bin go before release (as
    :func:`lake_groups`): events on runs of at least ``min_rows`` events, censored rows on
    runs of at least ``min_rows`` censored rows. The two partitions are of different rows,
    so no released figure, nor a difference of two, falls below ``min_rows`` rows."""
    return lake_groups(events, min_rows), lake_groups(censored, min_rows)


def common_runs(per_group: np.ndarray, runs: np.ndarray, min_rows: int) -> np.ndarray:
    """One coarsening, for every group of a request, of a lake's runs over all its rows
    (``runs``: each bin's run end, as :func:`lake_groups` or :func:`nested_runs` give them
    from the counts of all groups): adjacent runs merged, from the first on, until every
    group's count (rows of ``per_group``: per group and bin) in the merged run is 0 or at
    least ``min_rows``; a remainder that is not joins the runs before it. A group with fewer
    than ``min_rows`` in all is left out of the rule (the lake releases none of it). Every
    merged run is a union of whole runs, so a grouped figure less an ungrouped one (or a Cox
    round's) over the same runs holds 0 or at least ``min_rows`` of every group."""
    per_group = np.atleast_2d(np.asarray(per_group, dtype=np.float64))
    ends = np.unique(runs[runs >= 0])
    if len(ends) < 2:
        return runs.copy()
    shown = per_group.sum(axis=1) >= min_rows
    per_run = np.zeros((len(ends), int(shown.sum())))
    np.add.at(per_run, np.searchsorted(ends, runs[runs >= 0]), per_group[shown][:, runs >= 0].T)

    def holds(counts: np.ndarray) -> bool:
        return bool(np.all((counts < 0.5) | (counts >= min_rows)))

    merged: list[list[int]] = []
    current: list[int] = []
    for i in range(len(ends)):
        current.append(i)
        if holds(per_run[current].sum(axis=0)):
            merged.append(current)
            current = []
    if current:
        if not merged:
            merged.append([])
        merged[-1].extend(current)
    while len(merged) > 1 and not holds(per_run[merged[-1]].sum(axis=0)):
        last = merged.pop()
        merged[-1].extend(last)
    out = runs.copy()
    for members in merged:
        last_end = ends[members[-1]]
        for i in members:
            out[runs == ends[i]] = last_end
    return out


def group_runs(per_group: np.ndarray, runs: np.ndarray, min_rows: int) -> np.ndarray:
    """Each group's runs (rows: groups, as ``per_group``): the lake's runs over all its rows
    coarsened in common (:func:`common_runs`), or -1 throughout for a group with fewer than
    ``min_rows`` in all (the lake releases none of its rows)."""
    per_group = np.atleast_2d(np.asarray(per_group, dtype=np.float64))
    common = common_runs(per_group, runs, min_rows)
    out = np.tile(common, (len(per_group), 1))
    out[per_group.sum(axis=1) < min_rows] = -1
    return out


class SurvivalRows:
    """What a lake applies to a block of raw survival rows (the features' raw columns, then
    the duration): the plan's design to the features, the duration kept last."""

    def __init__(self, design: Any, fills: Mapping[str, float], kept: Sequence[int]) -> None:
        self.design = design
        self.fills = dict(fills)
        self.kept = [int(i) for i in kept]

    @property
    def key(self) -> str:
        data = json.dumps(
            ["survival", self.design.to_spec(), self.fills, self.kept], sort_keys=True
        )
        return hashlib.sha256(data.encode()).hexdigest()[:20]

    def transform(self, X: np.ndarray) -> np.ndarray:
        E = self.design.expand(X[:, :-1], self.fills)[:, self.kept]
        return np.column_stack([E, X[:, -1]])


def usable_rows(
    Z: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """The features, durations and events of the rows a survival step uses (every value
    present, the duration not negative: the owner's schema check refuses published bounds
    below 0, and a row below them is left out), how many rows hold an event other than 0/1
    (the lake refuses and releases nothing), and how many rows with a usable duration and
    event it leaves out for a missing feature (:func:`refuse_left_out`)."""
    X, t = Z[:, :-1], Z[:, -1]
    timed = np.isfinite(t) & np.isfinite(y) & (t >= 0)
    present = timed & np.all(np.isfinite(X), axis=1)
    bad = present & (y != 0) & (y != 1)
    keep = present & ~bad
    left = timed & ~present & ((y == 0) | (y == 1))
    return X[keep], t[keep], y[keep], int(np.count_nonzero(bad)), int(np.count_nonzero(left))


def take_left_out(values: np.ndarray) -> float:
    """The count of rows a survival step left out (the last of its values, never released):
    read, and set to 0 in ``values``."""
    left = float(values[-1])
    values[-1] = 0.0
    return left


def refuse_left_out(left: float, columns: Sequence[str], fill: str) -> None:
    """Refused (:class:`PolicyViolation`) when a survival release would leave out some of
    the lake's rows that have a usable duration and event (``columns`` missing): another
    survival release of the same duration column that keeps them (an ungrouped curve, a Cox
    fit on other features) less this one would be those rows' counts and sums, however few.
    ``fill`` says how to keep them."""
    if left > 0.5:
        names = ", ".join(repr(c) for c in columns)
        names = f"one of {names}" if len(columns) > 1 else names
        raise PolicyViolation(
            f"some rows with a duration and an event have no value of {names}; a survival "
            "release leaves out no such row (another release of the same duration column "
            f"less this one would be those rows' figures). {fill}"
        )


def as_sequence(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]


def atom_edges(times: Sequence[float]) -> np.ndarray:
    """The upper ends of the fine cells a request on ``times`` counts in: the quantile
    sketch's cells of times >= 0 (each about a tenth of its time wide), cut at the times.
    A last cell, open above, follows; each cell lies in one bin of the times."""
    upper = sketch_upper_bounds()[SKETCH_PER_SIGN:]
    return np.unique(np.r_[upper, np.asarray(times, dtype=np.float64)])


def nested_runs(per_cell: np.ndarray, cell_bin: np.ndarray, min_rows: int) -> np.ndarray:
    """Where a lake's rows of each fine cell go before release: runs of bins as
    :func:`lake_groups` gives them from the rows per bin (``cell_bin``: each cell's bin),
    each cut further into runs of cells holding at least ``min_rows`` rows (the remainder
    joins the run's last); -1 where the lake releases none. Every run of bins is a sum of
    runs of cells, so no figure of one partition less one of the other isolates fewer than
    ``min_rows`` rows."""
    per_bin = np.bincount(cell_bin, weights=per_cell, minlength=int(cell_bin.max()) + 1)
    by_bin = lake_groups(per_bin, min_rows)
    end = np.full(len(per_cell), -1, dtype=np.int64)
    for run in np.unique(by_bin[by_bin >= 0]):
        inside = np.flatnonzero(by_bin[cell_bin] == run)
        end[inside] = inside[lake_groups(per_cell[inside], min_rows)]
    return end


def fine_shares(
    counts: np.ndarray, widths: np.ndarray, reach: int = SHARE_REACH
) -> np.ndarray:
    """Shares by which lakes spread their runs of fine cells (:func:`spread_runs`), from
    pooled counts that every lake merged into its runs' last cells: each pooled count is
    first spread back, in proportion to the cells' widths, over the cells since the last
    cell holding a count; the density is then averaged over ``reach`` cells on either side.
    A lake's run would otherwise find most of the pooled weight where it, and lakes like
    it, had merged its rows."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 0.0)
    widths = np.asarray(widths, dtype=np.float64)
    filled = np.zeros_like(counts)
    previous = -1
    for cell in np.flatnonzero(counts):
        span = slice(previous + 1, cell + 1)
        weight = widths[span]
        if weight.sum() > 0:
            filled[span] += counts[cell] * weight / weight.sum()
        else:
            filled[cell] += counts[cell]
        previous = cell
    kernel = np.ones(2 * reach + 1)
    mass = np.convolve(filled, kernel, mode="same")
    room = np.convolve(widths, kernel, mode="same")
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(room > 0, mass / room, 0.0)
    return density * widths


def group_shares(
    everyone: np.ndarray, per_group: np.ndarray, widths: np.ndarray, reach: int, tilt: int
) -> np.ndarray:
    """Shares per group, cell and count (events, censored rows: the last axis) by which the
    lakes spread their runs (:func:`spread_runs`), from pooled counts only: the density of
    all rows (``everyone``, each lake's counts merged on its runs over all its rows, the
    finest runs it releases), times each group's part of it (``per_group``, merged on the
    runs coarsened in common, so coarser), both as :func:`fine_shares` spreads them and
    averages them over ``reach`` and ``tilt`` cells on either side. Within a run coarsened
    for the groups, a group's rows then follow the hazard of all rows, tilted towards where
    that group's pooled rows lie."""

    def smooth(counts: np.ndarray, cells: int) -> np.ndarray:
        return np.stack([fine_shares(c, widths, cells) for c in counts.T], axis=-1)

    base = smooth(np.asarray(everyone, dtype=np.float64), reach)
    part = np.stack([smooth(g, tilt) for g in np.asarray(per_group, dtype=np.float64)])
    total = part.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, part / total, 1.0 / len(part))
    return base * ratio
