"""A describe request's quantile rounds: counts of rows below thresholds, blanked at each lake,
and the coordinator's estimate of the pooled counts from what was released.

After the first round, the coordinator asks every lake how many of its rows lie below
thresholds chosen from the pooled counts alone. A lake releases a count only where both it
and its complement hold at least ``blank_below`` rows; else it sends 0 (flagged low) or all
its rows (flagged high). Under secure aggregation the coordinator sees, per threshold, the
pooled released count and how many lakes blanked each way: the pooled count lies within
``blank_below - 1`` rows per flagged lake of what was released (the stated error rests on
that), and its estimate models each blanked lake's count from where its flags changed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import numpy as np

from .._errors import PolicyViolation
from .._histograms import (
    GRID,
    QUANTILES,
    THRESHOLDS,
    histogram_facts,
    next_thresholds,
    threshold_facts,
)
from ._update import Update

# the plan (a Statistics request) and its columns, typed loosely: this module serves it
Statistics = Any
_Column = Any

QUANTILE_REQUEST = "quantiles"
# rounds after the first that refine a describe request's quantiles (fed.describe's default
# and the most a lake answers): each asks at most SLOTS thresholds per column
QUANTILE_ROUNDS = 3
SLOTS = len(QUANTILES) * THRESHOLDS
# distinct thresholds per column whose exact counts a lake releases to one scientist on one
# table, over all requests (a describe asked again on the same rows asks the same ones)
THRESHOLD_LIMIT = QUANTILE_ROUNDS * SLOTS

_NORMAL = NormalDist()
# the narrowest spread a lake is modelled with, as a share of the column's pooled spread: a
# lake whose flags change at close thresholds is more often a small lake (its smallest and
# largest rows meet near its middle) than one whose values are packed tight
_NARROWEST = 0.4
# how far (a share of the published range) the mean implied by pooled counts at the thresholds
# asked may lie from the rows' own mean by where the rows lie between thresholds alone (at
# most 0.18% on the penguin measures given their exact counts): a larger gap says where the
# blanked rows lie
_MEAN_TOLERANCE = 0.003


def check_request(plan: Statistics, request: Mapping[str, Any], said: str) -> None:
    """Refuse a quantile round's request that is not increasing grid steps of refined
    columns, at most SLOTS of them per column."""
    if not plan.quantile_rounds or set(request) != {"release", "below"}:
        raise PolicyViolation(said)
    below = request["below"]
    refined = {c.name for c in plan._refined()}
    if request["release"] != QUANTILE_REQUEST or not isinstance(below, Mapping):
        raise PolicyViolation(said)
    for column, steps in below.items():
        if column not in refined:
            raise PolicyViolation(
                f"thresholds for column {column!r}, which is not a numeric column with "
                "published bounds in this request"
            )
        if (
            not isinstance(steps, list)
            or not 0 < len(steps) <= SLOTS
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in steps)
            or any(not 0 < x < GRID for x in steps)
            or any(a >= b for a, b in itertools.pairwise(steps))
        ):
            raise PolicyViolation(
                f"column {column!r}: a round asks at most {SLOTS} thresholds per column, "
                f"as increasing whole grid steps between 0 and {GRID}"
            )


def count_below(plan: Statistics, X: np.ndarray, below: Mapping[str, list[int]]) -> Update:
    """Each lake's rows below each threshold asked (a partition's share; summed)."""
    values = np.zeros(plan.update_size(len(plan.features)) - Update.size(0, 0))
    parts = plan._parts(values, refine=True)
    parts[("", "layout")][0] = 1.0
    for j, c in enumerate(plan._columns):
        if c.name not in below:
            continue
        assert c.bounds is not None
        x = X[:, j]
        v = np.sort(x[~np.isnan(x)])
        low, width = c.bounds[0], c.bounds[1] - c.bounds[0]
        steps = np.asarray(below[c.name], dtype=float)
        counts = np.searchsorted(v, low + steps * width / GRID, side="left")
        parts[(c.name, "below")][: len(steps)] = counts
        parts[(c.name, "asked")][: len(steps)] = 1.0
        parts[(c.name, "present")][0] = float(len(v))
    return Update(rows=float(len(X)), metrics=np.zeros(0), values=values)


def suppress_below(plan: Statistics, update: Update, values: np.ndarray, minimum: int) -> Update:
    """Release a count below a threshold only where both it and its complement hold at
    least ``minimum`` rows; else release 0 (flagged low) or all the lake's rows (flagged
    high), so that the coordinator knows how far the pooled count may be off. The
    lake's own row count and which slots were asked never leave it."""
    parts = plan._parts(values, refine=True)
    values[0] = 0.0
    for c in plan._refined():
        counts = parts[(c.name, "below")]
        asked = parts[(c.name, "asked")] > 0
        n = float(parts[(c.name, "present")][0])
        low = asked & (counts < minimum)
        high = asked & ~low & (n - counts < minimum)
        counts[low] = 0.0
        counts[high] = n
        parts[(c.name, "below:low")][:] = low
        parts[(c.name, "below:high")][:] = high
        parts[(c.name, "asked")][:] = 0.0
        parts[(c.name, "present")][:] = 0.0
    return Update(rows=update.rows, metrics=update.metrics, values=values)


def absorb(plan: Statistics, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
    """The state with a quantile round's pooled counts (step, released, low, high) added."""
    asked = thresholds(plan, state)  # the request this update answers
    parts = plan._parts(update.values, refine=True)
    below = {c: [list(f) for f in facts] for c, facts in state.get("below", {}).items()}
    for column, steps in asked.items():
        n = len(steps)
        released = parts[(column, "below")][:n]
        low = np.round(parts[(column, "below:low")][:n])
        high = np.round(parts[(column, "below:high")][:n])
        below.setdefault(column, []).extend(
            [int(s), float(r), int(a), int(b)]
            for s, r, a, b in zip(steps, released, low, high, strict=True)
        )
    return {**state, "below": below}


def _moments(plan: Statistics, state: Mapping[str, Any], c: _Column) -> np.ndarray:
    return plan._round_one(state)._part(c.name, "moments", 0)


def present(plan: Statistics, state: Mapping[str, Any], c: _Column) -> float | None:
    """The pooled count of a column's present values (None where it was blanked)."""
    count = float(_moments(plan, state, c)[0])
    return count if np.isfinite(count) and count > 1 else None


def facts(plan: Statistics, state: Mapping[str, Any], c: _Column, total: float) -> list[Any]:
    """What the released counts say of the pooled rows below thresholds of ``c``."""
    assert c.bounds is not None
    counts = plan._round_one(state)._part(c.name, "histogram", 0)
    edges = np.linspace(c.bounds[0], c.bounds[1], plan.bins + 1)
    out = [histogram_facts(edges, counts, total)]
    asked = state.get("below", {}).get(c.name)
    if asked:
        steps, released, low, high = np.asarray(asked, dtype=float).T
        low_value, width = c.bounds[0], c.bounds[1] - c.bounds[0]
        at = low_value + steps * width / GRID
        slack = float((plan.blank_below or 1) - 1)
        t, fewest, most, _ = threshold_facts(at, released, low, high, slack, total)
        moments = _moments(plan, state, c)
        spread = width * np.sqrt(max(moments[2] - moments[1] ** 2 / total, 0.0) / (total - 1))
        mean = low_value + width * float(moments[1]) / total
        estimate = modelled_counts(at, released, low, high, slack, total, c.bounds, spread, mean)
        out.append((t, fewest, most, np.clip(estimate, fewest, most)))
    return out


def thresholds(plan: Statistics, state: Mapping[str, Any]) -> dict[str, list[int]]:
    """The thresholds the next quantile round asks, per column: chosen from the pooled
    counts alone; none for a column whose pooled count was blanked."""
    out = {}
    for c in plan._refined():
        total = present(plan, state, c)
        if total is None:
            continue
        assert c.bounds is not None
        steps = next_thresholds(facts(plan, state, c, total), c.bounds, total)
        if steps:
            out[c.name] = steps[:SLOTS]
    return out


# --- the coordinator's estimate of the blanked counts --------------------------------------
def _lakes(low: np.ndarray, high: np.ndarray) -> list[tuple[int, int]]:
    """Each lake's transitions, as indices into the sorted thresholds: the first threshold
    at which it no longer blanks low, and the first at which it blanks high (0 if already
    at the first threshold, len if never asked). Lakes are anonymous: a lake that leaves
    low and turns high between the same two thresholds is one small lake; the others are
    paired in order."""
    m = len(low)
    leaves = [i for i in range(1, m) for _ in range(max(int(low[i - 1] - low[i]), 0))]
    leaves += [m] * int(low[-1])
    turns = [0] * int(high[0])
    turns += [i for i in range(1, m) for _ in range(max(int(high[i] - high[i - 1]), 0))]
    pairs = []
    for i in list(leaves):
        if 0 < i < m and i in turns:
            leaves.remove(i)
            turns.remove(i)
            pairs.append((i, i))
    leaves.sort()
    turns.sort()
    pairs += list(itertools.zip_longest(leaves, turns, fillvalue=None))  # type: ignore[arg-type]
    return [(0 if a is None else a, m if b is None else b) for a, b in pairs]


def modelled_counts(
    at: np.ndarray,
    released: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    slack: float,
    total: float,
    bounds: tuple[float, float],
    spread: float,
    mean: float,
) -> np.ndarray:
    """An estimate of the pooled count below each threshold: the released count, plus each
    low lake's modelled count, less each high lake's modelled complement.

    Two models of where a blanked lake's hidden rows lie: a normal distribution per lake
    (:func:`_normal_tails`), which suits lakes whose rows differ from the others', and the
    pooled rows' shape beyond where its flags changed (:func:`_pooled_tails`), which suits
    lakes alike. Each hidden tail takes a share of the second; the shares are chosen so that
    the mean the estimate implies is the column's pooled mean, which the first round
    released exactly: one share for every tail where that suffices, else each tail's moved
    by how much it moves the mean, until the mean is within ``_MEAN_TOLERANCE``. Only an
    estimate: the stated error rests on the bounds of the blanked counts alone."""
    order = np.argsort(at, kind="stable")
    t, r, lo_flags, hi_flags = (
        np.asarray(a, dtype=float)[order] for a in (at, released, low, high)
    )
    lakes = _lakes(lo_flags, hi_flags)
    normal = _normal_tails(t, lakes, slack, total, bounds, spread)
    start = np.clip(r + sum(normal), 0.0, total)
    moves = [p - n for p, n in zip(_pooled_tails(lakes, slack, total, start), normal, strict=True)]

    def counts(shares: np.ndarray) -> np.ndarray:
        return r + sum(normal) + sum(w * d for w, d in zip(shares, moves, strict=True))

    def implied(shares: np.ndarray) -> float:
        return _implied_mean(t, counts(shares), total, bounds)

    # one share for every tail, if that reaches the mean
    a, b = implied(np.zeros(len(moves))), implied(np.ones(len(moves)))
    share = float(np.clip((mean - a) / (b - a), 0.0, 1.0)) if abs(b - a) > 1e-12 else 0.5
    base = np.full(len(moves), share)
    # else each tail's share moved in proportion to how far it moves the mean
    effect = np.array([implied(np.eye(len(moves))[k]) - a for k in range(len(moves))])
    gap = mean - implied(base)
    tolerance = _MEAN_TOLERANCE * (bounds[1] - bounds[0])
    shares = base
    if moves and abs(gap) > tolerance and np.abs(effect).max() > 1e-12:
        goal = mean - np.sign(gap) * tolerance
        reach = 1.0 / np.abs(effect[np.abs(effect) > 1e-12]).min()
        lowest, highest = -reach, reach
        for _ in range(60):
            step = (lowest + highest) / 2
            if implied(np.clip(base + step * effect, 0.0, 1.0)) < goal:
                lowest = step
            else:
                highest = step
        shares = np.clip(base + (lowest + highest) / 2 * effect, 0.0, 1.0)
    estimate = counts(shares)
    out = np.empty_like(estimate)
    out[order] = np.clip(estimate, 0.0, total)
    return out


def _implied_mean(
    t: np.ndarray, estimate: np.ndarray, total: float, bounds: tuple[float, float]
) -> float:
    """The mean of rows whose counts below the sorted thresholds ``t`` are ``estimate``,
    spread evenly between thresholds (and between the outer ones and the bounds)."""
    x = np.concatenate([[bounds[0]], t, [bounds[1]]])
    F = np.concatenate([[0.0], np.clip(np.maximum.accumulate(estimate), 0.0, total), [total]])
    return bounds[1] - float(np.sum((F[1:] + F[:-1]) / 2 * np.diff(x))) / total


def _normal_tails(
    t: np.ndarray,
    lakes: list[tuple[int, int]],
    slack: float,
    total: float,
    bounds: tuple[float, float],
    spread: float,
) -> list[np.ndarray]:
    """Per lake (see :func:`_lakes`), its modelled count below each of the sorted
    thresholds ``t`` where it blanked low, then less its modelled complement where it
    blanked high.

    Each lake's flags change where its count reaches ``slack + 1`` (it leaves low) and where
    its complement falls to ``slack`` (it turns high): those are near its
    ``slack + 1``-th smallest and largest values. A normal distribution through the two
    (or, for a lake whose count and complement are never both released, one with the
    column's pooled spread; never narrower than ``_NARROWEST`` of it) gives its tails."""
    m = len(t)

    def where(i: int) -> float:
        return bounds[0] if i <= 0 else bounds[1] if i >= m else float(t[i - 1] + t[i]) / 2

    edge = slack + 0.5  # rows at a lake's transition, on the boundary between blanked and not
    small = [a == b for a, b in lakes]
    # a lake never released both ways holds fewer than about twice the minimum
    n_small = 1.5 * edge
    n_large = max((total - n_small * sum(small)) / max(len(lakes) - sum(small), 1), 2 * edge + 1)
    out = []
    for (a, b), is_small in zip(lakes, small, strict=True):
        ta, tb = where(a), where(b)
        n = n_small if is_small else n_large
        if is_small or tb <= ta:
            sd = max(spread, 1e-9)
            mu = ta - sd * _NORMAL.inv_cdf(min(edge / n, 0.99))
        else:
            z = _NORMAL.inv_cdf(1 - min(edge / n, 0.49))
            mu, sd = (ta + tb) / 2, max((tb - ta) / (2 * z), _NARROWEST * spread)
        cdf = np.array([_NORMAL.cdf(float(x)) for x in (t - mu) / sd])
        out.append(np.where(t < ta, np.minimum(n * cdf, slack), 0.0))
        out.append(-np.where(t > tb, np.minimum(n * (1 - cdf), slack), 0.0))
    return out


def _pooled_tails(
    lakes: list[tuple[int, int]], slack: float, total: float, reference: np.ndarray
) -> list[np.ndarray]:
    """As :func:`_normal_tails`, with each lake's hidden rows spread like the pooled rows
    (as ``reference`` estimates their counts below the sorted thresholds) on their side of
    where its flags changed: a lake that leaves low between two thresholds holds about
    ``slack + 0.5`` rows below them, in the pooled rows' proportions; likewise above where
    it turns high."""
    m, edge = len(reference), slack + 0.5
    pooled = np.clip(np.maximum.accumulate(reference), 0.0, total)
    index = np.arange(m)

    def at_change(i: int) -> float:
        return 0.0 if i <= 0 else total if i >= m else float(pooled[i - 1] + pooled[i]) / 2

    out = []
    for a, b in lakes:
        below = max(at_change(a), edge)
        out.append(np.where(index < a, np.minimum(edge * pooled / below, slack), 0.0))
        above = max(total - at_change(b), edge)
        out.append(-np.where(index >= b, np.minimum(edge * (total - pooled) / above, slack), 0.0))
    return out
