"""A lake's level step of the boosted-trees plan over one block of rows, with the block's job
state (:meth:`collab.plans.LakeStep.job_update`).

A block keeps, for the life of a job:

- ``codes``: each row's bin per input (``uint8``, the missing-value bin last), binned once;
- ``score``: each row's raw score, the baseline plus the first ``scored`` finished trees,
  moved on by the newest trees only;
- ``node``: the node each row sits in of the tree being grown, moved one level a round;
- ``hist``: the previous level's histograms of its open nodes (``hist_nodes``), from which a
  level derives the larger child of each split;
- ``root_counts``: the rows per input and bin (the root's counts, the same for every tree).

Each entry says what it was computed for (digests of the bin edges and baseline, and of the
finished trees; the grown tree's ``splits``); what does not match the request is rebuilt from
the rows by the same arithmetic, so a step's answer never depends on the state it was given
(an empty one: the first round, a lake that restarted, rows Spark could not keep).

A node's histogram is the direct sum over its rows when it has no more rows in the block than
its sibling, else its parent's histogram minus its sibling's. That rule, applied from the root
down, is the one definition of every node's histogram: a round holding its parents'
histograms applies it for one level, a rebuilt state for every level, to the same values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from ._arrays import TREE_KEYS

_STATS = 3  # gradient, hessian, count per (node, input, bin)


def digest(*parts: Any) -> np.ndarray:
    """A digest of JSON-able ``parts``, as an array a block's state keeps."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return np.frombuffer(hashlib.sha256(text.encode()).digest(), dtype=np.uint8).copy()


def trees_digest(key: np.ndarray, trees: Sequence[Mapping[str, Sequence[Any]]]) -> np.ndarray:
    """A digest of ``key`` and ``trees`` (every node's values of each tree, as ``float64``
    bytes: exact for their integers, booleans and floats), as a block's state keeps it. A
    round's request carries every finished tree, and every block of every round digests
    them: one array of their values, not :func:`digest`'s JSON of them."""
    columns = [tree[name] for tree in trees for name in TREE_KEYS]
    lengths = np.array([len(c) for c in columns], dtype=np.int64)
    values = np.fromiter(chain.from_iterable(columns), dtype=np.float64, count=int(lengths.sum()))
    h = hashlib.sha256(bytes(np.asarray(key, dtype=np.uint8)))
    h.update(lengths.tobytes())
    h.update(values.tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8).copy()


# Digests of a round's request, by the identity of the objects they digest (held here, so
# that an identity is never another object's): every block of a lake computes the same ones
# in a round, and a request is never changed once made.
_digests: dict[tuple[Any, ...], tuple[Any, np.ndarray]] = {}
_DIGESTS_HELD = 64


def _remembered(key: tuple[Any, ...], held: Any, make: Callable[[], np.ndarray]) -> np.ndarray:
    """``make()``, the digest of ``held`` (an object of the request) under ``key``, computed
    once while ``held`` is the same object."""
    hit = _digests.get(key)
    if hit is not None and hit[0] is held:
        return hit[1]
    value = make()
    if len(_digests) >= _DIGESTS_HELD:
        _digests.clear()
    _digests[key] = (held, value)
    return value


def _same(state: Mapping[str, np.ndarray], name: str, value: np.ndarray) -> bool:
    old = state.get(name)
    return old is not None and old.shape == value.shape and bool(np.array_equal(old, value))


def bin_codes(E: np.ndarray, edges: Sequence[Sequence[float]], missing: int) -> np.ndarray:
    """Each row's bin per input: values ``<=`` the bin's upper edge, as ``searchsorted``
    counts; a missing value in bin ``missing``."""
    codes = np.empty(E.shape, dtype=np.uint8)
    for j, e in enumerate(edges):
        x = E[:, j]
        c = np.searchsorted(np.asarray(e, dtype=np.float64), x)
        c[np.isnan(x)] = missing
        codes[:, j] = c
    return codes


@dataclass(frozen=True)
class CodedTree:
    """A tree whose splits are bin codes: ``x <= edges[f][b]`` exactly when ``x``'s code is
    ``<= b`` (the thresholds are bin edges)."""

    feature: np.ndarray
    bin: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    depth: np.ndarray
    parent: np.ndarray

    @classmethod
    def of(cls, tree: Mapping[str, Sequence[Any]], edges: Sequence[Sequence[float]]) -> CodedTree:
        feature = np.asarray(tree["feature"], dtype=np.int64)
        left = np.asarray(tree["left"], dtype=np.int64)
        right = np.asarray(tree["right"], dtype=np.int64)
        inner = np.flatnonzero(left >= 0)
        bins = np.zeros(len(left), dtype=np.int64)
        for i in inner:
            e = np.asarray(edges[feature[i]], dtype=np.float64)
            bins[i] = int(np.searchsorted(e, float(tree["threshold"][i])))
        parent = np.full(len(left), -1, dtype=np.int64)
        parent[left[inner]] = inner
        parent[right[inner]] = inner
        return cls(
            feature=np.where(left >= 0, feature, 0),
            bin=bins,
            missing_left=np.asarray(tree["missing_left"], dtype=bool),
            left=left,
            right=right,
            value=np.asarray(tree["value"], dtype=np.float64),
            depth=np.asarray(tree["depth"], dtype=np.int64),
            parent=parent,
        )

    def splits(self) -> np.ndarray:
        """Per inner node: its id, feature, bin, missing values' way and left child."""
        inner = np.flatnonzero(self.left >= 0)
        columns = (self.feature, self.bin, self.missing_left, self.left)
        return np.column_stack([inner, *(c[inner] for c in columns)]).astype(np.int64)

    def extends(self, splits: np.ndarray) -> bool:
        """Whether this tree holds every split of ``splits`` (an earlier level of it)."""
        if splits.ndim != 2 or splits.shape[1] != 5:
            return False
        nodes = splits[:, 0]
        if len(nodes) and nodes.max() >= len(self.left):
            return False
        return bool(np.array_equal(self.splits()[np.isin(self.splits()[:, 0], nodes)], splits))

    def advance(self, node: np.ndarray, codes: np.ndarray, missing: int) -> np.ndarray:
        """Each row's node moved down from ``node`` to the leaf (or open node) it reaches."""
        node = node.astype(np.int64)
        n = len(node)
        flat = codes.ravel(order="F")  # (row, input) at row + input * n; a view when F-ordered
        rows = np.flatnonzero(self.left[node] >= 0)
        while rows.size:
            at = node[rows]
            c = flat[self.feature[at] * n + rows]
            go_left = np.where(c == missing, self.missing_left[at], c <= self.bin[at])
            node[rows] = np.where(go_left, self.left[at], self.right[at])
            rows = rows[self.left[node[rows]] >= 0]
        return node


class TreeState:
    """One block's job state for a trees request (see the module's docstring).

    ``labelled()`` gives the block's usable-row mask, their labels as the arithmetic uses
    them and the count of unusable labels; ``inputs(keep)`` the usable rows' inputs."""

    def __init__(
        self,
        state: dict[str, np.ndarray],
        labelled: Callable[[], tuple[np.ndarray, np.ndarray, int]],
        inputs: Callable[[np.ndarray], np.ndarray],
        rows: int,
        request: Mapping[str, Any],
        missing: int,
    ) -> None:
        self.state, self.missing = state, missing
        self.edges = request["edges"]
        self.baseline = float(request["baseline"])
        scale = request["label_scale"]
        key = _remembered(
            ("edges", id(self.edges), self.baseline, tuple(scale), rows),
            self.edges,
            lambda: digest(self.edges, self.baseline, scale, rows),
        )
        if not (_same(state, "key", key) and {"codes", "labels", "invalid"} <= state.keys()):
            state.clear()
            keep, t, invalid = labelled()
            state["key"] = key
            state["labels"] = t
            state["invalid"] = np.array([invalid], dtype=np.int64)
            # column by column in memory: a histogram reads one input at a time
            state["codes"] = np.asfortranarray(bin_codes(inputs(keep), self.edges, missing))
        self.key = key
        self.codes, self.labels = state["codes"], state["labels"]
        self.invalid = int(state["invalid"][0])

    def _trees_key(self, trees: Sequence[Any], upto: int | None = None) -> np.ndarray:
        """The digest of the first ``upto`` trees (all when ``None``) of ``trees``."""
        upto = len(trees) if upto is None else upto
        return _remembered(
            ("trees", id(trees), len(trees), upto, self.key.tobytes()),
            trees,
            lambda: trees_digest(self.key, trees[:upto]),
        )

    def gradients(
        self,
        trees: Sequence[Mapping[str, Any]],
        terms: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row's gradient and hessian at its raw score (the baseline plus every tree's
        value, added in order as :func:`~._arrays.raw_scores` adds them), and the sums of
        ``terms``' metric terms; from the kept score when it holds some of the trees, and
        kept as they are until the next tree."""
        state = self.state
        done = int(state["scored"][0]) if "scored" in state else -1
        kept = (
            {"score", "grad", "hess", "metrics"} <= state.keys()
            and 0 <= done <= len(trees)
            and _same(state, "score_key", self._trees_key(trees, done))
        )
        if kept and done == len(trees):
            return state["grad"], state["hess"], state["metrics"]
        if kept:
            F = state["score"]
        else:  # what is kept (if any) was scored for other trees, or only part of it is left
            F, done = np.full(len(self.codes), self.baseline), 0
        for i, tree in enumerate(trees[done:], start=done):
            coded = CodedTree.of(tree, self.edges)
            start = self._grown_to(trees, i, coded)
            F = F + coded.value[coded.advance(start, self.codes, self.missing)]
        g, h, each = terms(F)
        metrics = each.sum(axis=0) if len(F) else np.zeros(each.shape[1])
        state.update(score=F, grad=g, hess=h, metrics=metrics)
        state["scored"] = np.array([len(trees)], dtype=np.int64)
        state["score_key"] = self._trees_key(trees)
        return g, h, metrics

    def _grown_to(self, trees: Sequence[Any], before: int, coded: CodedTree) -> np.ndarray:
        """Where each row sits in ``coded`` (grown after the first ``before`` of ``trees``)
        as far as the kept ``node`` has moved it while it grew (its last level round), else at
        the root: moved on to its leaf from there, a row reaches the leaf it reaches from the
        root."""
        state = self.state
        if (
            "node" in state
            and "splits" in state
            and len(state["node"]) == len(self.codes)
            and _same(state, "grown_for", self._trees_key(trees, before))
            and coded.extends(state["splits"])
        ):
            return state["node"]
        return np.zeros(len(self.codes), np.int64)

    def histograms(
        self,
        g: np.ndarray,
        h: np.ndarray,
        trees: Sequence[Any],
        tree: Mapping[str, Sequence[Any]],
        opened: Sequence[int],
        slots: int,
    ) -> np.ndarray:
        """Per open node, input and bin: the sums of gradient, hessian and rows
        (``(len(opened), inputs, slots, 3)``)."""
        state = self.state
        coded = CodedTree.of(tree, self.edges)
        grown_for = self._trees_key(trees)
        kept = (
            "node" in state
            and "splits" in state
            and _same(state, "grown_for", grown_for)
            and coded.extends(state["splits"])
        )
        start = state["node"] if kept else np.zeros(len(self.codes), np.int64)
        node = coded.advance(start, self.codes, self.missing)
        stored: dict[int, np.ndarray] = {}
        if (
            kept
            and {"hist", "hist_nodes"} <= state.keys()
            and len(state["hist"]) == len(state["hist_nodes"])
        ):
            stored = {int(n): state["hist"][i] for i, n in enumerate(state["hist_nodes"])}
        counts = state.get("root_counts")
        if counts is not None and counts.shape != (self.codes.shape[1], slots):
            counts = None
        level = _Level(self.codes, g, h, node, coded, slots, counts)
        found = level.of(int(coded.depth[opened[0]]), [int(n) for n in opened], stored)
        if level.root_counts is not None:
            state["root_counts"] = level.root_counts
        hist = np.stack([found[int(n)] for n in opened])
        state["node"] = node.astype(np.int32)
        state["splits"] = coded.splits()
        state["grown_for"] = grown_for
        state["hist"] = hist
        state["hist_nodes"] = np.asarray(opened, dtype=np.int64)
        return hist


class _Level:
    """Node histograms of one block by the rule of the module's docstring."""

    def __init__(
        self,
        codes: np.ndarray,
        g: np.ndarray,
        h: np.ndarray,
        node: np.ndarray,
        tree: CodedTree,
        slots: int,
        root_counts: np.ndarray | None = None,
    ) -> None:
        self.codes, self.g, self.h, self.tree, self.slots = codes, g, h, tree, slots
        self.root_counts = root_counts  # (inputs, slots), counted once per block
        self._at: dict[int, np.ndarray] = {int(tree.depth.max(initial=0)): node}

    def at(self, depth: int) -> np.ndarray:
        """Each row's node at ``depth`` (a row in a shallower leaf keeps its leaf)."""
        if depth not in self._at:
            below = self.at(depth + 1)
            deeper = self.tree.depth[below] > depth
            self._at[depth] = np.where(deeper, self.tree.parent[below], below)
        return self._at[depth]

    def direct(self, nodes: Sequence[int], depth: int) -> dict[int, np.ndarray]:
        """Each of ``nodes``' histogram summed over its rows: per input, one ``bincount`` of
        gradient, hessian and rows over node x bin."""
        d, S = self.codes.shape[1], self.slots
        slot_of = np.full(len(self.tree.left), -1, dtype=np.int64)
        slot_of[np.asarray(nodes, dtype=np.int64)] = np.arange(len(nodes))
        slot = slot_of[self.at(depth)]
        every = bool((slot >= 0).all())
        rows = slice(None) if every else np.flatnonzero(slot >= 0)
        base, g, h = slot[rows] * S, self.g[rows], self.h[rows]
        one = every and len(nodes) == 1  # every row in one node (a root): its bin is its cell
        size = len(nodes) * S
        out = np.empty((len(nodes), d, S, _STATS))
        counted = one and self.root_counts is not None
        for j in range(d):
            # one conversion to indices per input (``bincount`` converts ``uint8`` per call)
            cell = self.codes[:, j].astype(np.intp) if one else base + self.codes[:, j][rows]
            out[:, j, :, 0] = np.bincount(cell, weights=g, minlength=size).reshape(-1, S)
            out[:, j, :, 1] = np.bincount(cell, weights=h, minlength=size).reshape(-1, S)
            if not counted:
                out[:, j, :, 2] = np.bincount(cell, minlength=size).reshape(-1, S)
        if counted:  # whole numbers: the very counts of every earlier tree's root
            out[0, :, :, 2] = self.root_counts
        elif one:
            self.root_counts = out[0, :, :, 2].copy()
        return {n: out[i] for i, n in enumerate(nodes)}

    def of(
        self, depth: int, nodes: Sequence[int], stored: Mapping[int, np.ndarray]
    ) -> dict[int, np.ndarray]:
        """The histograms of ``nodes`` (all at ``depth``), from ``stored`` parents' where
        held."""
        if depth == 0:
            return self.direct([0], 0)
        tree = self.tree
        counts = np.bincount(self.at(depth), minlength=len(tree.left))
        parents = sorted({int(tree.parent[n]) for n in nodes})
        smaller = {}
        for p in parents:
            left, right = int(tree.left[p]), int(tree.right[p])
            smaller[p] = left if counts[left] <= counts[right] else right
        sums = self.direct(sorted(smaller.values()), depth)
        derived = sorted({int(tree.parent[n]) for n in nodes if smaller[tree.parent[n]] != n})
        held = {p: stored[p] for p in derived if p in stored}
        missing = [p for p in derived if p not in held]
        if missing:
            held.update(self.of(depth - 1, missing, {}))
        out: dict[int, np.ndarray] = {}
        for n in nodes:
            p = int(tree.parent[n])
            out[n] = sums[n] if smaller[p] == n else held[p] - sums[smaller[p]]
        return out
