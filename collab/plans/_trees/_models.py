"""The boosted-trees models: the ensemble's learned values, and its classifier and
regressor."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..._errors import PlanError
from .._model import BinaryClassifier, Model, Regressor, model_from_document
from ._arrays import TREE_KEYS, plain_tree, raw_scores


@dataclass(frozen=True, eq=False, kw_only=True)
class TreeEnsemble(Model):
    """What a boosted-trees model holds: its trees as plain data, the baseline score, the bin
    edges the lakes binned by, and the shrinkage each leaf's value already includes.

    A tree is a dict of per-node lists (as scikit-learn's ``tree_`` arrays): ``feature``,
    ``threshold`` (a row goes left when its value is at most this), ``missing_left`` (where
    a missing value goes), ``left`` and ``right`` (child positions; -1 at a leaf), ``value``
    (a leaf's contribution to the score), ``count`` (pooled training rows), ``gain`` and
    ``depth``.
    """

    view: ClassVar[str] = "trees"

    trees_: tuple[dict[str, list[Any]], ...]
    baseline_: float
    bin_edges_: tuple[tuple[float, ...], ...]
    learning_rate: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "trees_", tuple(plain_tree(t) for t in self.trees_))
        object.__setattr__(self, "baseline_", float(self.baseline_))
        object.__setattr__(
            self, "bin_edges_", tuple(tuple(float(v) for v in e) for e in self.bin_edges_)
        )

    @property
    def n_estimators_(self) -> int:
        """How many trees the model holds."""
        return len(self.trees_)

    @property
    def feature_importances_(self) -> np.ndarray:
        """Each input's total gain over every split on it, normalised to sum to 1."""
        total = np.zeros(len(self.features))
        for tree in self.trees_:
            for f, left, gain in zip(tree["feature"], tree["left"], tree["gain"], strict=True):
                if left >= 0:
                    total[f] += gain
        return total / total.sum() if total.sum() > 0 else total

    def _inputs(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The model's input columns from ``X``; a missing value stays missing (each split
        knows where to send it)."""
        design = self.design
        fills = (self.inputs or {}).get("fills") or {}
        return self._inputs_of(X, fills if design is None else {**design.constant_fills(), **fills})

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The raw score of each row: the baseline plus every tree's leaf value."""
        return raw_scores(self.trees_, self.baseline_, self._inputs(X))

    def tree_text(self, i: int = 0) -> str:
        """Tree ``i`` as indented text, one node a line."""
        if not 0 <= i < len(self.trees_):
            raise PlanError(f"the model has {len(self.trees_)} trees; tree {i} is not one")
        tree = self.trees_[i]
        lines: list[str] = []

        def walk(node: int, indent: str, prefix: str) -> None:
            rows = f"{tree['count'][node]:.0f} rows"
            if tree["left"][node] < 0:
                lines.append(f"{indent}{prefix}leaf {tree['value'][node]:+.4g} ({rows})")
                return
            name = self.features[tree["feature"][node]]
            missing = "missing left" if tree["missing_left"][node] else "missing right"
            lines.append(
                f"{indent}{prefix}{name} <= {tree['threshold'][node]:.6g} "
                f"({rows}, gain {tree['gain'][node]:.4g}, {missing})"
            )
            walk(tree["left"][node], indent + "  ", "yes: ")
            walk(tree["right"][node], indent + "  ", "no:  ")

        walk(0, "", "")
        return "\n".join(lines)

    def history_by_tree(self) -> pd.DataFrame:
        """The training history one row per number of trees: the loss and score of the
        model holding that many trees (the first round that measured it)."""
        frame = pd.DataFrame(list(self.history))
        if frame.empty or "trees" not in frame:
            return frame
        frame = frame.groupby("trees", as_index=False).first()
        frame["trees"] = frame["trees"].astype(int)
        return frame[["trees", "loss", "score", "rows"]]

    def _sklearn(self, estimator: Any, y: np.ndarray) -> Any:
        """``estimator`` (a HistGradientBoosting one) holding this model's trees: fitted on
        two stand-in rows for its bookkeeping, then given our baseline and predictors."""
        from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

        d = len(self.features)
        estimator.set_params(max_iter=1, early_stopping=False)
        estimator.fit(np.vstack([np.zeros(d), np.ones(d)]), y)
        predictors = []
        for tree in self.trees_:
            nodes = np.zeros(len(tree["left"]), dtype=PREDICTOR_RECORD_DTYPE)
            leaf = np.asarray(tree["left"]) < 0
            nodes["value"] = tree["value"]
            nodes["count"] = np.asarray(tree["count"]).round().clip(0)
            nodes["feature_idx"] = np.where(leaf, 0, tree["feature"])
            nodes["num_threshold"] = tree["threshold"]
            nodes["missing_go_to_left"] = tree["missing_left"]
            nodes["left"] = np.where(leaf, 0, tree["left"])
            nodes["right"] = np.where(leaf, 0, tree["right"])
            nodes["gain"] = tree["gain"]
            nodes["depth"] = tree["depth"]
            nodes["is_leaf"] = leaf
            empty = np.zeros((0, 8), dtype=np.uint32)
            predictors.append([TreePredictor(nodes, empty, empty)])
        estimator._predictors = predictors
        estimator._baseline_prediction = np.array([[self.baseline_]])
        # what it holds, not the stand-in fit's single iteration
        estimator.set_params(max_iter=len(predictors), learning_rate=self.learning_rate)
        return estimator

    def _named(self, estimator: Any) -> Any:
        """As for every model, behind the design's ``ColumnTransformer`` when there is one,
        but leaving a missing number missing (the trees know where it goes)."""
        design = self.design
        if design is None:
            return super()._named(estimator)
        from sklearn.pipeline import Pipeline

        estimator.n_features_in_ = len(self.features)
        assert self.inputs is not None
        fills = {**design.constant_fills(), **(self.inputs.get("fills") or {})}
        columns = design.to_sklearn(fills, np.full(len(self.features), np.nan))
        return Pipeline([("inputs", columns), ("model", estimator)])

    def _misfits(self) -> list[str]:
        problems = super()._misfits()
        d = len(self.features)
        if len(self.bin_edges_) != d:
            problems.append(f"bin_edges_ has {len(self.bin_edges_)} lists for {d} inputs")
        for t, tree in enumerate(self.trees_):
            try:
                arrays = {key: np.asarray(tree[key], dtype=float) for key in TREE_KEYS}
            except (TypeError, ValueError):
                problems.append(f"trees_[{t}] holds a value that is not a number")
                continue
            nodes = len(arrays["left"])
            if any(a.shape != (nodes,) for a in arrays.values()):
                problems.append(f"trees_[{t}] has lists of different lengths")
                continue
            tree = {key: arrays[key].astype(int).tolist() for key in ("left", "right", "feature")}
            for i in range(nodes):
                left, right = tree["left"][i], tree["right"][i]
                if left < 0:
                    continue
                if not 0 <= tree["feature"][i] < d:
                    problems.append(f"trees_[{t}] splits on input {tree['feature'][i]} of {d}")
                if not (0 <= left < nodes and 0 <= right < nodes):
                    problems.append(f"trees_[{t}] has a child outside its {nodes} nodes")
        return problems

    def _params(self) -> dict[str, Any]:
        return {
            "trees": [plain_tree(t) for t in self.trees_],
            "baseline": self.baseline_,
            "bin_edges": [list(e) for e in self.bin_edges_],
            "feature_importances": self.feature_importances_.tolist(),
        }

    def to_json(self) -> str:
        """The model as JSON text (what :meth:`save` writes); :meth:`from_json` reads it."""
        return json.dumps(self.to_document())

    @classmethod
    def from_json(cls, text: str) -> Model:
        return model_from_document(json.loads(text), "the JSON text")

    def report_table(self) -> dict[str, Any]:
        order = np.argsort(-self.feature_importances_, kind="stable")
        rows = [[self.features[j], float(self.feature_importances_[j])] for j in order]
        return {
            "title": "Feature importance",
            "header": ["feature", "share of gain"],
            "rows": rows,
            "note": f"{self.n_estimators_} trees; total split gain per input, normalised",
        }

    def _display_(self) -> tuple[Any, str | None, Any]:
        from ..._display import MODEL_MIME, Section, model_report

        payload = self.to_dict()
        report = model_report(payload)
        if self.trees_:
            lines = tuple((line,) for line in self.tree_text(0).splitlines())
            first = Section("Tree 1", lines, header=("node",), open=False)
            report = replace(report, sections=(*report.sections, first))
        return report, MODEL_MIME, payload


@dataclass(frozen=True, eq=False, kw_only=True)
class BoostedTreesClassifier(TreeEnsemble, BinaryClassifier):
    """Gradient-boosted trees predicting one of two classes (``classes_[1]`` positive)."""

    def to_sklearn(self) -> Any:
        """A fitted ``sklearn.ensemble.HistGradientBoostingClassifier`` whose predictors are
        this model's trees (it predicts the same)."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        sk = self._sklearn(HistGradientBoostingClassifier(), np.array([0, 1]))
        sk.classes_ = self.classes_
        return self._named(sk)


@dataclass(frozen=True, eq=False, kw_only=True)
class BoostedTreesRegressor(TreeEnsemble, Regressor):
    """Gradient-boosted trees predicting a number."""

    family: ClassVar[str] = "gradient_boosted_trees_regression"

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.decision_function(X)

    def to_sklearn(self) -> Any:
        """A fitted ``sklearn.ensemble.HistGradientBoostingRegressor`` whose predictors are
        this model's trees (it predicts the same)."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        return self._named(self._sklearn(HistGradientBoostingRegressor(), np.array([0.0, 1.0])))
