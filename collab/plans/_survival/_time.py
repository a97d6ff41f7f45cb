"""The time axis of survival requests: a grid of bins every lake agrees on, and how a lake
coarsens it for its own rows before it releases anything.

The grid comes from a first round in which each lake counts its event times in the fixed
cells of the quantile sketch trees use (:mod:`collab.plans._trees._sketch`), coarsened so
that every cell it releases holds at least its policy's ``min_rows`` events; the coordinator
cuts the pooled counts into bins of at least the owners' ``min_rows`` events each.

Whatever grid a request carries, a lake releases its sums per bin only after merging its
bins (:func:`lake_groups`): runs of consecutive bins are merged into the run's last bin
until the run holds at least ``min_rows`` of the lake's events, and a remainder joins the
last run. A lake's rows therefore leave its risk set, and its events occur, only in groups of
at least ``min_rows`` events: a grid asked fine enough to isolate one patient's event time is
coarsened by every lake before its sums leave it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..._errors import PolicyViolation
from .._trees._sketch import SKETCH_CELLS, coarsened, sketch_cells, sketch_upper_bounds

__all__ = [
    "SKETCH_CELLS",
    "SurvivalRows",
    "bin_index",
    "check_edges",
    "coarsened",
    "event_sketch",
    "grid_edges",
    "lake_groups",
    "merge_bins",
]


def event_sketch(t: np.ndarray, event: np.ndarray) -> np.ndarray:
    """The count of events in each sketch cell of their times."""
    times = t[event > 0.5]
    return np.bincount(sketch_cells(times), minlength=SKETCH_CELLS).astype(np.float64)


def grid_edges(counts: np.ndarray, min_events: int, max_bins: int) -> tuple[list[float], float]:
    """The grid's inner edges from a pooled event sketch: bins of at least ``min_events``
    events (and at most ``max_bins`` bins), the last bin open above; and the upper bound of
    the last cell holding events (the time the last bin stands for)."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 0.0)
    total = float(counts.sum())
    upper = sketch_upper_bounds()
    if total <= 0:
        return [], 0.0
    target = max(float(min_events), float(np.ceil(total / max(max_bins, 1))))
    cuts: list[int] = []
    running = 0.0
    for i in np.flatnonzero(counts):
        running += counts[i]
        if running >= target:
            cuts.append(int(i))
            running = 0.0
    last = float(upper[int(np.flatnonzero(counts)[-1])])
    # the events above the last cut join the last bin (which is open above)
    edges = [float(upper[i]) for i in cuts[:-1]]
    return edges, last


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


def usable_rows(Z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The features, durations and events of the rows a survival step uses (every value
    present, the duration not negative: the owner's schema check refuses published bounds
    below 0, and a row below them is left out), and how many rows hold an event other than
    0/1 (the lake refuses and releases nothing)."""
    X, t = Z[:, :-1], Z[:, -1]
    present = np.isfinite(t) & np.isfinite(y) & np.all(np.isfinite(X), axis=1) & (t >= 0)
    bad = present & (y != 0) & (y != 1)
    keep = present & ~bad
    return X[keep], t[keep], y[keep], int(np.count_nonzero(bad))


def as_sequence(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]
