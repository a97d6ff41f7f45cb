"""Trees as plain data (per-node lists, as saved models and requests carry them) and as
arrays (to route rows down a tree)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TREE_KEYS = (
    "feature", "threshold", "missing_left", "left", "right", "value", "count", "gain", "depth"
)  # fmt: skip


def new_tree() -> dict[str, list[Any]]:
    """A tree with one open node, its root."""
    return {
        "feature": [-1], "threshold": [0.0], "missing_left": [True], "left": [-1],
        "right": [-1], "value": [0.0], "count": [0.0], "gain": [0.0], "depth": [0],
    }  # fmt: skip


def plain_tree(tree: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """``tree`` with exactly :data:`TREE_KEYS`, each a list (as saved models read back)."""
    return {key: list(tree[key]) for key in TREE_KEYS}


@dataclass(frozen=True)
class TreeArrays:
    """One tree's nodes as arrays (a node is a leaf where ``left < 0``)."""

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    depth: int

    @classmethod
    def of(cls, tree: Mapping[str, Sequence[Any]]) -> TreeArrays:
        return cls(
            feature=np.asarray(tree["feature"], dtype=np.int64),
            threshold=np.asarray(tree["threshold"], dtype=np.float64),
            missing_left=np.asarray(tree["missing_left"], dtype=bool),
            left=np.asarray(tree["left"], dtype=np.int64),
            right=np.asarray(tree["right"], dtype=np.int64),
            value=np.asarray(tree["value"], dtype=np.float64),
            depth=int(max(tree["depth"], default=0)),
        )

    def nodes_of(self, E: np.ndarray) -> np.ndarray:
        """The leaf (or open node) each row of ``E`` reaches: ``x <= threshold`` goes left,
        a missing value the node's learned way (as scikit-learn's predictors)."""
        node = np.zeros(len(E), dtype=np.int64)
        rows = np.arange(len(E))
        for _ in range(self.depth):
            inner = self.left[node] >= 0
            if not inner.any():
                break
            f = np.where(inner, self.feature[node], 0)
            x = E[rows, f]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return node

    def predict(self, E: np.ndarray) -> np.ndarray:
        return self.value[self.nodes_of(E)]


def raw_scores(trees: Sequence[Mapping[str, Any]], baseline: float, E: np.ndarray) -> np.ndarray:
    """The baseline plus every tree's value, added in order (as scikit-learn adds them)."""
    F = np.full(len(E), float(baseline))
    for tree in trees:
        F += TreeArrays.of(tree).predict(E)
    return F
