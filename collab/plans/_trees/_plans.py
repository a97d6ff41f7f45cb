"""The boosted-trees plan: its settings, the lakes' step (label sums and sketches, then
per-node gradient histograms) and the coordinator's (bin edges, then each level's splits)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from ..._errors import PlanError, PolicyViolation
from ..._policy import DEFAULT_MIN_ROWS, Policy
from ..._schema import TableSchema
from .._classes import BinaryLabels, ClassLabels
from .._model import Model, expit
from .._parameters import Param
from .._plan import Plan, register_family
from .._stats import Standardizer
from .._update import Update
from ._arrays import TREE_KEYS, new_tree, plain_tree
from ._level import TreeState
from ._models import BoostedTreesClassifier
from ._sketch import SKETCH_CELLS, coarsened, quantile_edges, sketch_cells

OBJECTIVES = ("binary", "squared_error")
MAX_BINS = 255  # as scikit-learn's HistGradientBoosting (one more bin holds missing values)
# each setting's name in scikit-learn's HistGradientBoosting (min_rows: min_rows_in_leaf resolved)
SKLEARN_NAMES = {
    "n_trees": "max_iter",
    "max_depth": "max_depth",
    "learning_rate": "learning_rate",
    "max_bins": "max_bins",
    "l2": "l2_regularization",
    "min_rows": "min_samples_leaf",
}

# the first value of every update says what the round summed (read by the lake's suppress)
_LEVEL, _START = 0.0, 1.0
_STATS = 3  # gradient, hessian, count per (node, input, bin)
_MIN_HESSIAN = 1e-3  # as scikit-learn's min_hessian_to_split
DP_METRIC_BOUND = 1.0  # per-row loss and score terms are clipped to this under DP


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class GradientBoostedTrees(BinaryLabels, Plan):
    """Gradient-boosted decision trees trained across lakes, one round per tree level.

    Each lake sums, for every open node of the level at once, the gradient and hessian of
    the loss over its rows per input and bin; the sums are securely aggregated (or noised,
    with DP) and the coordinator grows the trees from the pooled histograms, as XGBoost's
    federated mode does. No lake's own histogram is ever read.

    Parameters
    ----------
    table, features, label
        The table, its input columns (numbers, booleans or published categories, which are
        one-hot encoded) and the label: binary for ``objective="binary"`` (0/1, true/false or
        two published categories), a number for ``"squared_error"``.
    n_trees
        Boosting iterations (trees).
    max_depth
        Depth of each tree (the root is depth 0): one round per level, up to
        ``2**max_depth`` leaves.
    learning_rate
        Shrinkage of each leaf's value.
    max_bins
        Bins per input for values present (2 to 255); a missing value has its own bin and
        goes down the branch its node learned for missing values.
    min_rows_in_leaf
        The fewest pooled rows a split may leave in a child. ``None`` takes the largest
        ``min_rows`` the owners' policies set, and at least 20 (scikit-learn's
        ``min_samples_leaf``). A lake refuses a plan below its own policy's ``min_rows``.
    l2
        L2 penalty on leaf values (scikit-learn's ``l2_regularization``, XGBoost's
        ``lambda``).
    objective
        ``"binary"`` (log loss) or ``"squared_error"`` (regression).
    classes
        For ``"binary"``: the label's two values, the second positive; ``None`` takes 0 and 1
        or the two categories the owners publish.
    secure_aggregation, secure_threshold, dp, transforms
        See :class:`collab.plans.Plan`. With ``dp``, every numeric input (and a regression's
        label) needs published bounds; each row's gradient is bounded (binary: ``|g| <= 1``,
        ``h <= 1/4``; squared error: the label scaled to [-1, 1] by its bounds and the
        residual clipped to [-2, 2]) and every round's sums get calibrated noise.

    Notes
    -----
    Rounds: 1 (labels and sketch) + ``n_trees * max_depth`` (levels) + 1 (final metrics); a
    tree whose nodes cannot split any further ends early and spends fewer rounds. The public
    state after every round (finished trees, the open nodes of the tree being grown) is
    complete, so ``job.resume()`` continues from the last completed round, even inside a tree,
    and a lake replays an interrupted round only with the very same request.

    ``impute('constant', ...)`` fills missing values before binning; the statistics-based
    fills (mean, median, most frequent) are refused: trees send missing values down the
    branch that gains most instead.
    """

    model: ClassVar[str] = "gradient_boosted_trees"
    model_class: ClassVar[type[Model]] = BoostedTreesClassifier
    scales_rows: ClassVar[bool] = False
    offer_order: ClassVar[int] = 1  # after the linear classifiers: a builder's default stays cheap
    metric_sums: ClassVar[tuple[str, ...]] = ("loss", "correct")
    # loss and score (accuracy, or R² for a regression, as scikit-learn's score) of the model
    # entering the round; the trees it holds, and the level the round grew (NaN: none)
    history_metrics: ClassVar[tuple[str, ...]] = ("loss", "score", "trees", "level")
    primary_metric: ClassVar[str] = "score"
    parameters: ClassVar[tuple[Param, ...]] = (
        Param("n_trees", "int", "Boosting iterations (trees).", low=1),
        Param(
            "max_depth",
            "int",
            "Depth of each tree (the root is depth 0): one round per level, up to 2**max_depth "
            "leaves.",
            low=1,
            high=10,
            why_high=" (a level's histograms grow as 2**depth)",
        ),
        Param("learning_rate", "float", "Shrinkage of each leaf's value.", low=0, positive=True),
        Param(
            "max_bins",
            "int",
            "Bins per input for values present (2 to 255); a missing value has its own bin and "
            "goes down the branch its node learned for missing values.",
            low=2,
            high=MAX_BINS,
        ),
        Param(
            "min_rows_in_leaf",
            "int",
            "The fewest pooled rows a split may leave in a child. None takes the largest "
            "min_rows the owners' policies set, and at least 20 (scikit-learn's "
            "min_samples_leaf). A lake refuses a plan below its own policy's min_rows.",
            low=1,
            optional=True,
        ),
        Param(
            "l2",
            "float",
            "L2 penalty on leaf values (scikit-learn's l2_regularization, XGBoost's lambda).",
            low=0,
        ),
        Param(
            "objective",
            "text",
            "binary (log loss) or squared_error (regression).",
            choices=OBJECTIVES,
        ),
        replace(
            ClassLabels.parameters[0],
            help="For binary: the label's two values, the second positive; None takes 0 and 1 "
            "or the two categories the owners publish.",
        ),
    )
    _left_out_when_empty: ClassVar[tuple[str, ...]] = ("transforms", "encoding", "classes")
    binary_name: ClassVar[str] = "objective='binary'"
    other_label_hint: ClassVar[str] = "For a number use objective='squared_error'."

    n_trees: int = 50
    max_depth: int = 4
    learning_rate: float = 0.1
    max_bins: int = 32  # bins of present values (a missing value has one more)
    min_rows_in_leaf: int | None = None
    l2: float = 1.0
    objective: str = "binary"
    classes: tuple[Any, ...] | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> GradientBoostedTrees:
        # a regression is the same plan with the label handling and task of a regressor: the
        # variant (a subclass) whose default objective is the one asked for
        objective = kwargs.get("objective")
        if cls is GradientBoostedTrees and objective not in (None, cls.objective):
            cls = next((v for v in cls.__subclasses__() if v.objective == objective), cls)
        return object.__new__(cls)

    # --- settings ---------------------------------------------------------------------------
    def _validate(self) -> None:
        self._validate_classes()
        column = self._fitted_fill()
        if column is not None:
            raise PlanError(
                f"impute({column.impute.strategy!r}) on {column.name!r}: trees read rows "
                "without the statistics phase that fits such a fill, and send missing "
                "values down the branch that gains most. Leave the values missing, or "
                "use impute('constant', ..., fill_value=...)."
            )

    @property
    def min_rows(self) -> int:
        """The fewest pooled rows a split may leave in a child."""
        return int(self.min_rows_in_leaf or DEFAULT_MIN_ROWS)

    def _resolved_policies(self, policies: Mapping[str, Policy]) -> Any:
        if self.min_rows_in_leaf is not None or not policies:
            return self
        least = max(DEFAULT_MIN_ROWS, *(p.min_rows for p in policies.values()))
        return replace(self, min_rows_in_leaf=least)

    def _published_encoding(self, schemas: Mapping[str, TableSchema]) -> dict[str, Any]:
        """The categories as for every plan, and the bounds of every numeric feature that
        every lake publishes alike (its bins are uniform over them)."""
        encoding = super()._published_encoding(schemas)
        bounds = dict(encoding.get("bounds") or {})
        for name in self.features:
            ranges = {
                s.column(name).bounds if name in s.column_names else None for s in schemas.values()
            }
            categorical = any(
                name in s.column_names and s.column(name).categories is not None
                for s in schemas.values()
            )
            if len(ranges) == 1 and None not in ranges and not categorical:
                bounds[name] = list(next(iter(ranges)))  # type: ignore[arg-type]
        if bounds:
            encoding["bounds"] = bounds
        return encoding

    def check_against(self, schema: TableSchema, policy: Policy) -> None:
        super().check_against(schema, policy)
        where = f"lake {schema.lake!r}, table {schema.name!r}"
        if self.min_rows < policy.min_rows:
            raise PolicyViolation(
                f"{where}: min_rows_in_leaf is {self.min_rows}, below the owner's minimum of "
                f"{policy.min_rows} rows; set min_rows_in_leaf={policy.min_rows} or more (None "
                "takes the owners' largest minimum)."
            )
        for name, published in self.design.bounds.items():
            if tuple(schema.column(name).bounds or ()) != tuple(published):
                raise PolicyViolation(
                    f"{where}: the plan bins feature {name!r} over bounds {list(published)}, "
                    f"not the ones this lake publishes ({schema.column(name).bounds}); leave "
                    "encoding=None so that they are filled in from the schemas."
                )

    @property
    def dp_bounded_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.design.columns if not c.levels)

    # --- the shape of the job ---------------------------------------------------------------
    @property
    def total_rounds(self) -> int:
        return 1 + self.n_trees * self.max_depth + 1

    @property
    def _nodes_per_level(self) -> int:
        return 2 ** (self.max_depth - 1)

    @property
    def _slots(self) -> int:
        return self.max_bins + 1  # the bins of present values, then missing values

    def _histogram_size(self, n_inputs: int) -> int:
        return self._nodes_per_level * n_inputs * self._slots * _STATS

    def _input_bins(self) -> list[tuple[str, tuple[float, float] | None]]:
        """Per input column, how it is binned: ``"binary"`` (a one-hot level, an indicator:
        one edge at 0.5), ``"bounded"`` (uniform over its published bounds, carried through
        its transforms) or ``"sketch"`` (the quantiles of the pooled sketch)."""
        bins: list[tuple[str, tuple[float, float] | None]] = []
        for c in self.design.columns:
            if c.levels:
                bins.extend([("binary", None)] * c.levels)
            else:
                bounds = c.value_bounds
                bins.append(("sketch", None) if bounds is None else ("bounded", bounds))
            if c.indicator:
                bins.append(("binary", None))
        return bins

    def _sketched(self) -> list[int]:
        """Input positions of numbers binned by the sketch."""
        return [i for i, (kind, _) in enumerate(self._input_bins()) if kind == "sketch"]

    def update_size(self, n_features: int) -> int:
        start = 2 + len(self._sketched()) * SKETCH_CELLS
        return Update.size(len(self.metric_sums), 1 + max(start, self._histogram_size(n_features)))

    # --- the lake's step --------------------------------------------------------------------
    def _inputs(self, X: np.ndarray) -> np.ndarray:
        return self.design.expand(X, self.design.constant_fills())

    def _targets(
        self, y: np.ndarray, request: Mapping[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """The usable rows' mask, their labels as the arithmetic uses them, and the count of
        labels the family cannot use."""
        keep = ~np.isnan(y)
        invalid = self.invalid_labels(y[keep])
        if invalid:
            keep[keep] = self._valid_mask(y[keep])
        return keep, self.prepare_labels(y[keep], request), invalid

    def _terms(
        self, t: np.ndarray, F: np.ndarray, request: Mapping[str, Any], dp: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: gradient, hessian and the (loss, score) terms of the scores ``F``."""
        p = expit(F)
        loss = np.logaddexp(0.0, F) - t * F
        if dp:
            loss = np.minimum(loss, DP_METRIC_BOUND)
        return p - t, p * (1.0 - p), np.column_stack([loss, (F > 0) == (t > 0.5)])

    def _step(
        self,
        X: np.ndarray,
        y: np.ndarray,
        request: Mapping[str, Any],
        dp: bool,
        state: dict[str, np.ndarray] | None = None,
    ) -> Update:
        """A block's sums; with the block's job ``state`` (see ``_level``), what it keeps is
        reused and what it lacks is rebuilt, to the same sums."""
        n_metrics, n_values = len(self.metric_sums), self.update_size(self.n_inputs) - 2 - 2
        values = np.zeros(n_values)
        kind = request.get("kind")
        if kind == "start":
            keep, t, invalid = self._targets(y, request)
            E = self._inputs(X[keep] if not keep.all() else X)
            values[0] = _START
            values[1], values[2] = float(t.sum()), float((t * t).sum())
            for k, i in enumerate(self._sketched()):
                v = E[:, i]
                cells = sketch_cells(v[~np.isnan(v)])
                offset = 3 + k * SKETCH_CELLS
                values[offset : offset + SKETCH_CELLS] = np.bincount(cells, minlength=SKETCH_CELLS)
            return Update(float(len(t)), np.zeros(n_metrics), values, float(invalid))
        block = TreeState(
            {} if state is None else state,
            lambda: self._targets(y, request),
            lambda keep: self._inputs(X[keep] if not keep.all() else X),
            len(y),
            request,
            missing=self._slots - 1,
        )
        t, trees = block.labels, request["trees"]
        g, h, metrics = block.gradients(trees, lambda F: self._terms(t, F, request, dp))
        if kind == "level":
            hist = block.histograms(g, h, trees, request["tree"], request["open"], self._slots)
            values[1 : 1 + hist.size] = hist.ravel()
        return Update(float(len(t)), np.array(metrics), values, float(block.invalid))

    def local_update(self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any]) -> Update:
        """One lake's sums over a block of raw rows (see the module's rounds)."""
        return self._step(Z, y, request, dp=False)

    keeps_job_state: ClassVar[bool] = True  # bin codes, scores, nodes and histograms

    def job_update(
        self,
        Z: np.ndarray,
        y: np.ndarray,
        request: Mapping[str, Any],
        state: dict[str, np.ndarray],
        clip_norm: float | None,
    ) -> Update:
        """:meth:`local_update` (or :meth:`dp_update`) with the block's job state."""
        return self._step(Z, y, request, dp=clip_norm is not None, state=state)

    def ends_job_state(self, request: Mapping[str, Any]) -> bool:
        return request.get("kind") == "final"

    def dp_update(
        self, Z: np.ndarray, y: np.ndarray, request: Mapping[str, Any], clip_norm: float
    ) -> Update:
        """The sums with each row's terms bounded (the family's own bounds: ``clip_norm``
        does not apply)."""
        return self._step(Z, y, request, dp=True)

    def _gradient_bounds(self) -> tuple[float, float]:
        return 1.0, 0.25

    def dp_row_bound(self, clip_norm: float) -> float:
        # one row: 1 to the rows, at most 1 to each metric, and per input one bin's gradient,
        # hessian and count (or, in the start round, its label and squared label)
        g, h = self._gradient_bounds()
        level = self.n_inputs * (g * g + h * h + 1.0)
        return float(np.sqrt(1.0 + len(self.metric_sums) + max(level, 2.0)))

    def suppress(self, update: Update, min_rows: int) -> Update:
        """The start round's sketch, coarsened so every released cell holds at least
        ``min_rows`` of this lake's rows; other rounds as they are."""
        # a lake sums its blocks' answers first: a start round's head is _START per block
        if not len(update.values) or update.values[0] < _START / 2:
            return update
        values = update.values.copy()
        for k in range(len(self._sketched())):
            offset = 3 + k * SKETCH_CELLS
            cells = values[offset : offset + SKETCH_CELLS]
            values[offset : offset + SKETCH_CELLS] = coarsened(cells, min_rows)
        return replace(update, values=values)

    # --- the coordinator's side -------------------------------------------------------------
    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        return {"phase": "start", "trees": []}

    def round_request(self, state: Mapping[str, Any], round_: int) -> dict[str, Any] | None:
        phase = state["phase"]
        if phase == "done":
            return None
        if phase == "start":
            return {"kind": "start"}
        common = {
            "baseline": state["baseline"],
            "label_scale": state["label_scale"],
            "edges": state["edges"],
            "trees": state["trees"],
        }
        if phase == "final":
            return {"kind": "final", **common}
        return {"kind": "level", **common, "tree": state["tree"], "open": state["open"]}

    def check_request(self, request: Mapping[str, Any], n_features: int) -> None:
        try:
            kind = request["kind"]
            if kind == "start":
                if set(request) != {"kind"}:
                    raise ValueError("a start request carries nothing else")
                return
            if kind not in ("level", "final"):
                raise ValueError(f"unknown kind {kind!r}")
            edges = [np.asarray(e, dtype=np.float64) for e in request["edges"]]
            if len(edges) != n_features or any(
                e.ndim != 1
                or len(e) > self.max_bins - 1
                or not np.all(np.isfinite(e))
                or np.any(np.diff(e) <= 0)
                for e in edges
            ):
                raise ValueError("bad bin edges")
            if not math.isfinite(float(request["baseline"])):
                raise ValueError("bad baseline")
            mid, half = (float(v) for v in request["label_scale"])
            if not (math.isfinite(mid) and math.isfinite(half) and half > 0):
                raise ValueError("bad label scale")
            if len(request["trees"]) > self.n_trees:
                raise ValueError(f"more than {self.n_trees} trees")
            for tree in request["trees"]:
                self._check_tree(tree, edges)
            if kind == "level":
                tree = request["tree"]
                self._check_tree(tree, edges)
                opened = [int(i) for i in request["open"]]
                depths = {int(tree["depth"][i]) for i in opened}
                if (
                    not opened
                    or len(opened) > self._nodes_per_level
                    or len(set(opened)) != len(opened)
                    or len(depths) != 1
                    or depths.pop() >= self.max_depth
                    or any(tree["left"][i] >= 0 for i in opened)
                ):
                    raise ValueError("bad open nodes")
        except PolicyViolation:
            raise
        except Exception as exc:
            raise PolicyViolation(f"round message has a bad trees request ({exc})") from exc

    def _check_tree(self, tree: Mapping[str, Any], edges: Sequence[np.ndarray]) -> None:
        """A tree's structure: children after their parent one level deeper, splits at one of
        the job's bin edges."""
        nodes = len(tree["left"])
        if set(tree) != set(TREE_KEYS) or any(len(tree[k]) != nodes for k in TREE_KEYS):
            raise ValueError("a tree's nodes are incomplete")
        if nodes > 2 ** (self.max_depth + 1) - 1:
            raise ValueError("a tree has too many nodes")
        for i in range(nodes):
            left, right = int(tree["left"][i]), int(tree["right"][i])
            depth = int(tree["depth"][i])
            if left < 0:
                continue
            f = int(tree["feature"][i])
            if not (0 <= f < len(edges)) or float(tree["threshold"][i]) not in set(
                edges[f].tolist()
            ):
                raise ValueError("a split is not at one of the job's bin edges")
            if not (i < left < nodes and right == left + 1 and right < nodes):
                raise ValueError("a node's children are out of order")
            if int(tree["depth"][left]) != depth + 1 or depth + 1 > self.max_depth:
                raise ValueError("a node's children are at the wrong depth")

    def _edges(self, update: Update) -> list[list[float]]:
        """Per input: its bin edges (public from here on: in every request and the model)."""
        sketched = iter(range(len(self._sketched())))
        edges: list[list[float]] = []
        for kind, bounds in self._input_bins():
            if kind == "binary":
                edges.append([0.5])
            elif kind == "bounded":
                low, high = bounds  # type: ignore[misc]
                grid = np.linspace(low, high, self.max_bins + 1)[1:-1]
                edges.append(sorted({float(v) for v in grid}) if high > low else [])
            else:
                offset = 3 + next(sketched) * SKETCH_CELLS
                counts = np.maximum(update.values[offset : offset + SKETCH_CELLS], 0.0)
                edges.append(quantile_edges(counts, self.max_bins))
        return edges

    def _label_scale(self) -> tuple[float, float]:
        """The label's centre and half-range its arithmetic uses (a DP regression scales it
        into [-1, 1]); the identity otherwise."""
        return 0.0, 1.0

    def _baseline(self, label_sum: float, rows: float) -> float:
        """The score before any tree (in the label's scaled units)."""
        share = min(max(label_sum / rows, 1e-12), 1 - 1e-12)
        return float(np.log(share / (1.0 - share)))

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        phase, done = state["phase"], int(state.get("rounds", 0)) + 1
        measured = {"trees": len(state["trees"]), "level": None}
        if phase == "start":
            if update.rows <= 0:
                raise PlanError(f"no lake has labelled rows in table {self.table!r}")
            mid, half = self._label_scale()
            label_sum, label_sq = float(update.values[1]), float(update.values[2])
            return {
                "phase": "level",
                "rounds": done,
                "measured": {"start": True, "trees": 0, "level": None},
                "baseline": self._baseline(label_sum, update.rows) * half + mid,
                "label_scale": [mid, half],
                "label_sums": [float(update.rows), label_sum, label_sq],
                "edges": self._edges(update),
                "trees": [],
                "tree": new_tree(),
                "open": [0],
            }
        if phase == "final":
            return {**state, "phase": "done", "rounds": done, "measured": measured}
        measured["level"] = int(state["tree"]["depth"][state["open"][0]])
        grown = self._grow(state, update)
        grown.update(rounds=done, measured=measured)
        return grown

    def _grow(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        """The tree after one level: each open node split as its pooled histograms say best,
        or made a leaf."""
        d, S, m = self.n_inputs, self._slots, self.min_rows
        l2, rate = float(self.l2), float(self.learning_rate)
        half = float(state["label_scale"][1])
        tree = {k: list(v) for k, v in state["tree"].items()}
        opened = list(state["open"])
        hist = update.values[1 : 1 + self._histogram_size(d)].reshape(
            self._nodes_per_level, d, S, _STATS
        )[: len(opened)]
        n_edges = np.array([len(e) for e in state["edges"]])

        g, h, c = hist[..., 0], hist[..., 1], hist[..., 2]
        B = S - 1
        cg, ch, cc = (np.cumsum(a[..., :B], axis=2) for a in (g, h, c))
        mg, mh, mc = g[..., B:], h[..., B:], c[..., B:]
        G, H, N = cg[..., -1:] + mg, ch[..., -1:] + mh, cc[..., -1:] + mc

        def score(gs: np.ndarray, hs: np.ndarray) -> np.ndarray:
            return gs * gs / np.maximum(hs + l2, 1e-12)

        parent = score(G, H)
        best: list[tuple[float, int, int, bool, tuple[float, float, float]]] = []
        candidate = np.arange(B)[None, None, :] < n_edges[None, :, None]
        for missing_left in (True, False):
            GL = cg + (mg if missing_left else 0.0)
            HL = ch + (mh if missing_left else 0.0)
            NL = cc + (mc if missing_left else 0.0)
            GR, HR, NR = G - GL, H - HL, N - NL
            gain = 0.5 * (score(GL, HL) + score(GR, HR) - parent)
            ok = candidate & (NL >= m) & (NR >= m) & (HL >= _MIN_HESSIAN) & (HR >= _MIN_HESSIAN)
            gain = np.where(ok, gain, -np.inf)
            flat = gain.reshape(len(opened), -1)
            for k in range(len(opened)):
                i = int(np.argmax(flat[k]))
                f, b = divmod(i, B)
                sums = (float(GL[k, f, b]), float(HL[k, f, b]), float(NL[k, f, b]))
                entry = (float(flat[k, i]), f, b, missing_left, sums)
                if missing_left:
                    best.append(entry)
                elif entry[0] > best[k][0]:
                    best[k] = entry

        totals = (G[..., 0].mean(axis=1), H[..., 0].mean(axis=1), N[..., 0].mean(axis=1))
        next_open: list[int] = []
        for k, node in enumerate(opened):
            Gk, Hk, Nk = (float(a[k]) for a in totals)
            if len(tree["left"]) == 1:  # the root: its value and rows from its histograms
                tree["value"][0] = -Gk / max(Hk + l2, 1e-12) * rate * half
                tree["count"][0] = Nk
            gain, f, b, missing_left, (gl, hl, nl) = best[k]
            if not gain > 1e-12:
                continue  # stays a leaf with the value its parent's sums gave it
            no_missing = float(mc[k, f, 0]) <= 0
            if no_missing:  # no missing value here: they go the way most rows go
                missing_left = nl >= Nk - nl
            depth = int(tree["depth"][node]) + 1
            left = len(tree["left"])
            tree["feature"][node] = f
            tree["threshold"][node] = float(state["edges"][f][b])
            tree["missing_left"][node] = bool(missing_left)
            tree["left"][node], tree["right"][node] = left, left + 1
            tree["gain"][node] = gain
            for gs, hs, ns in ((gl, hl, nl), (Gk - gl, Hk - hl, Nk - nl)):
                tree["feature"].append(-1)
                tree["threshold"].append(0.0)
                tree["missing_left"].append(True)
                tree["left"].append(-1)
                tree["right"].append(-1)
                tree["value"].append(-gs / max(hs + l2, 1e-12) * rate * half)
                tree["count"].append(ns)
                tree["gain"].append(0.0)
                tree["depth"].append(depth)
                if depth < self.max_depth and ns >= 2 * m:
                    next_open.append(len(tree["left"]) - 1)
        if next_open:
            return {**state, "tree": tree, "open": next_open}
        trees = [*state["trees"], tree]
        if len(trees) >= self.n_trees:
            return {**state, "phase": "final", "trees": trees}
        return {**state, "trees": trees, "tree": new_tree(), "open": [0]}

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        """The loss and score of the model the round measured (its finished trees), how many
        trees it held, and the level the round grew (NaN for the start and final rounds)."""
        measured = state["measured"]
        rows, label_sum, label_sq = state["label_sums"]
        if measured.get("start"):  # the baseline's own fit, from the label sums
            values = self._baseline_metrics(rows, label_sum, label_sq, state)
        else:
            values = self._fit_metrics(update.metrics, max(update.rows, 1e-12), state)
        level = measured.get("level")
        return {
            **values,
            "trees": float(measured["trees"]),
            "level": float("nan") if level is None else float(level),
        }

    def _baseline_metrics(
        self, rows: float, positives: float, _sq: float, state: Mapping[str, Any]
    ) -> dict[str, float]:
        p = min(max(positives / max(rows, 1e-12), 1e-12), 1 - 1e-12)
        return {
            "loss": float(-(p * np.log(p) + (1 - p) * np.log(1 - p))),
            "score": float(max(p, 1 - p)),
        }

    def _fit_metrics(
        self, metrics: np.ndarray, rows: float, state: Mapping[str, Any]
    ) -> dict[str, float]:
        return {"loss": float(metrics[0] / rows), "score": float(metrics[1] / rows)}

    # --- the model ---------------------------------------------------------------------------
    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> Model:
        return self.model_class(
            features=self.input_names,
            label=self.label,
            classes_=self.model_classes,
            **self._learned(state),
            **context,
        )

    def sklearn_estimator(self) -> Any:
        """An unfitted scikit-learn ``HistGradientBoostingClassifier`` (``...Regressor`` for
        a regression) with this plan's settings: the yardstick to fit on pooled rows.

        Same trees, depth, learning rate, bins, ``l2`` and fewest rows per leaf (call it on
        ``fed.check(plan)`` for the owners' minimum), no early stopping and no leaf cap
        beyond the depth (scikit-learn's default stops at 31 leaves).
        """
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        kind = (
            HistGradientBoostingRegressor
            if self.task == "regression"
            else HistGradientBoostingClassifier
        )
        settings = {name: getattr(self, ours) for ours, name in SKLEARN_NAMES.items()}
        return kind(**settings, max_leaf_nodes=None, early_stopping=False)

    def _learned(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "feature_means_": np.zeros(self.n_inputs),
            "trees_": tuple(plain_tree(t) for t in state.get("trees", ())),
            "baseline_": float(state.get("baseline", 0.0)),
            "bin_edges_": tuple(tuple(e) for e in state.get("edges", ())),
            "learning_rate": float(self.learning_rate),
        }
