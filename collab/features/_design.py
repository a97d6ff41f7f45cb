"""From a lake's raw columns to a family's inputs: categories one-hot, transforms, gaps.

:class:`Design` is the one piece of code that does this. Lakes run it on every block of
their rows (the raw values arrive from Spark as doubles, categorical columns as the index of
their published category), ``model.predict`` runs it on a pandas frame, and
:meth:`Design.to_sklearn` writes the same steps as a scikit-learn ``ColumnTransformer``.

Fitting needs pooled statistics only: the standardisation's sums over the design's columns
(counts, sums, sums of squares; a one-hot column's sum is its category's count) and, for a
median, a histogram of the column over its published bounds, summed under secure aggregation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .._errors import PlanError
from .._histograms import quantiles_from_histogram
from .._schema import category_codes
from ._transforms import Bucketize, Clip, Impute, Log1p, MissingIndicator, Transform

# A median is read off a pooled histogram of this many bins over the published bounds. Each
# lake blanks its own cells below its policy's min_rows (as for fed.histogram), so the
# median comes with a stated error: the bins its rank can lie in, blanks included.
MEDIAN_BINS = 32


def numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as floats (NaN where missing); :class:`PlanError` naming the column
    and a value when it holds something that is not a number."""
    values = frame[column]
    numbers = pd.to_numeric(values, errors="coerce")
    wrong = values.notna().to_numpy() & numbers.isna().to_numpy()
    if wrong.any():
        raise PlanError(
            f"column {column!r} holds {values[wrong].iloc[0]!r}, which is not a number, and "
            f"the model reads {column!r} as a number: convert the column "
            f"(pd.to_numeric(df[{column!r}], errors='coerce') makes such values missing)"
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_rows(X: Any, columns: Sequence[str]) -> np.ndarray:
    """Rows given as a 2-D array of numbers, one column per name in ``columns``, as floats;
    :class:`TypeError` or :class:`PlanError` saying what to give otherwise."""
    if isinstance(X, Mapping | str | bytes) or not hasattr(X, "__len__"):
        raise TypeError(
            f"X must be a pandas DataFrame with the column(s) {', '.join(columns)}, or a 2-D "
            f"array with one column per input, not a {type(X).__name__}"
            + (" (for a dict of columns, pass pd.DataFrame(X))" if isinstance(X, Mapping) else "")
        )
    try:
        M = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PlanError(
            f"X holds a value that is not a number ({exc}); pass a DataFrame with the "
            f"column(s) {', '.join(columns)} to find which column holds it"
        ) from exc
    if M.ndim != 2 or M.shape[1] != len(columns):
        raise PlanError(
            f"expected an array of shape (rows, {len(columns)}) for the column(s) "
            f"{', '.join(columns)}, got {M.shape}"
        )
    return M


@dataclass(frozen=True)
class InputColumn:
    """One feature as the design reads it."""

    name: str
    categories: tuple[Any, ...] | None = None  # published; the value arrives as an index
    steps: tuple[Transform, ...] = ()  # log1p and clip, in the plan's order
    edges: tuple[float, ...] | None = None  # bucketize
    impute: Impute | None = None
    indicator: bool = False
    bounds: tuple[float, float] | None = None  # published, before the steps

    @property
    def levels(self) -> int:
        """How many one-hot columns it becomes (0 for a number)."""
        if self.categories is not None:
            return len(self.categories)
        if self.edges is not None:
            return len(self.edges) + 1
        return 0

    @property
    def inner(self) -> str:
        label = self.name
        for step in self.steps:
            label = step.label(label)
        return label

    @property
    def outputs(self) -> list[str]:
        if self.categories is not None:
            names = [f"{self.name}={c}" for c in self.categories]
        elif self.edges is not None:
            names = Bucketize((self.name,), self.edges).bucket_names(self.inner)
        else:
            names = [self.inner]
        return names + ([f"{self.name} missing"] if self.indicator else [])

    def value(self, x: np.ndarray) -> np.ndarray:
        """The column's number after its steps (NaN where missing)."""
        v = x
        for step in self.steps:
            if isinstance(step, Log1p):
                v = log1p_values(v)
            elif isinstance(step, Clip):
                v = clip_values(v, step.lower, step.upper)
        return v

    @property
    def value_bounds(self) -> tuple[float, float] | None:
        """The published bounds carried through the steps (they are non-decreasing)."""
        if self.bounds is None:
            return None
        low, high = self.value(np.array(self.bounds, dtype=np.float64))
        return float(low), float(high)

    def level(self, x: np.ndarray) -> np.ndarray:
        """Each value's level (category or bucket index; ``levels`` for another category,
        NaN where missing)."""
        if self.categories is not None:
            return x
        assert self.edges is not None
        v = self.value(x)
        out = np.searchsorted(np.asarray(self.edges), v, side="right").astype(np.float64)
        out[np.isnan(v)] = np.nan
        return out


@dataclass(frozen=True)
class Design:
    """A plan's features, their published categories and bounds, and its transforms.

    Parameters
    ----------
    features
        The plan's feature columns, in order.
    categories
        ``{feature: categories}`` for each categorical feature (as the owners publish them).
    transforms
        The plan's :mod:`collab.features` transforms.
    bounds
        ``{feature: (low, high)}`` published bounds (a median is read off a histogram over
        them; a DP plan scales by them).
    """

    features: tuple[str, ...]
    categories: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    transforms: tuple[Transform, ...] = ()
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(
            self, "categories", {k: tuple(v) for k, v in (self.categories or {}).items()}
        )
        object.__setattr__(
            self, "transforms", tuple(Transform.from_spec(t) for t in self.transforms)
        )
        bounds = {k: (float(v[0]), float(v[1])) for k, v in (self.bounds or {}).items()}
        object.__setattr__(self, "bounds", bounds)
        self.columns  # noqa: B018 - validates the transforms against the features

    # --- the columns --------------------------------------------------------------------------
    @cached_property
    def columns(self) -> tuple[InputColumn, ...]:
        features = set(self.features)
        for name in self.categories:
            if name not in features:
                raise PlanError(f"categories are given for {name!r}, which is not a feature")
        found: dict[str, dict[str, Any]] = {
            f: {"categories": self.categories.get(f), "bounds": self.bounds.get(f), "steps": []}
            for f in self.features
        }
        for transform in self.transforms:
            names = transform.columns or tuple(
                f for f in self.features if self._fits_all(transform, found[f])
            )
            for name in names:
                if name not in features:
                    raise PlanError(
                        f"transform {transform.name}() names {name!r}, which is not one of the "
                        f"plan's features ({', '.join(self.features)}); add it to features"
                    )
                self._add(transform, name, found[name])
        return tuple(
            InputColumn(
                name=f,
                categories=found[f]["categories"],
                steps=tuple(found[f]["steps"]),
                edges=found[f].get("edges"),
                impute=found[f].get("impute"),
                indicator=bool(found[f].get("indicator")),
                bounds=found[f]["bounds"],
            )
            for f in self.features
        )

    @staticmethod
    def _fits_all(transform: Transform, column: Mapping[str, Any]) -> bool:
        """Whether a transform given without columns applies to this feature."""
        categorical = column["categories"] is not None or "edges" in column
        if isinstance(transform, Impute):
            return categorical == (transform.strategy == "most_frequent")
        return not categorical

    @staticmethod
    def _add(transform: Transform, name: str, column: dict[str, Any]) -> None:
        categorical = column["categories"] is not None
        what = f"transform {transform.name}() on column {name!r}"
        if isinstance(transform, MissingIndicator):
            if column.get("indicator"):
                raise PlanError(f"{what}: the column has a missing_indicator already")
            column["indicator"] = True
            return
        if isinstance(transform, Impute):
            if "impute" in column:
                raise PlanError(f"{what}: the column is imputed once already")
            if (categorical or "edges" in column) and transform.strategy in ("mean", "median"):
                raise PlanError(
                    f"{what}: a categorical column has no {transform.strategy}; use "
                    "impute('most_frequent') or impute('constant', fill_value=<a category>)"
                )
            if (
                categorical
                and transform.strategy == "constant"
                and transform.fill_value not in column["categories"]
            ):
                raise PlanError(
                    f"{what}: fill_value {transform.fill_value!r} is not one of its published "
                    f"categories ({', '.join(map(str, column['categories']))})"
                )
            column["impute"] = transform
            return
        if categorical:
            raise PlanError(
                f"{what}: the column is categorical (its categories are one-hot encoded); "
                f"{transform.name}() fits numeric columns only. Drop the transform for it."
            )
        if "edges" in column:
            raise PlanError(f"{what}: the column is bucketized already; bucketize last")
        if isinstance(transform, Bucketize):
            column["edges"] = transform.edges
        elif transform.value_step:
            column["steps"].append(transform)

    # --- shapes -------------------------------------------------------------------------------
    @cached_property
    def output_names(self) -> tuple[str, ...]:
        """The names of the columns a family's step receives."""
        return tuple(name for c in self.columns for name in c.outputs)

    @property
    def width(self) -> int:
        return len(self.output_names)

    @property
    def plain(self) -> bool:
        """Whether the design passes its features through unchanged."""
        return not self.categories and not self.transforms

    @cached_property
    def median_columns(self) -> tuple[int, ...]:
        """Output positions of the columns imputed with a median."""
        positions, offset = [], 0
        for c in self.columns:
            if c.impute is not None and c.impute.strategy == "median":
                positions.append(offset)
            offset += len(c.outputs)
        return tuple(positions)

    @property
    def fit_size(self) -> int:
        """Length of the fitting sums beyond the standardisation's: a histogram per median
        column and its blank flags, then the count of missing values per categorical (or
        bucketized) column."""
        return self.histogram_size * 2 + sum(1 for c in self.columns if c.levels)

    @property
    def histogram_size(self) -> int:
        """Length of the median histograms at the head of :meth:`fit_sums` (their blank
        flags follow)."""
        return MEDIAN_BINS * len(self.median_columns)

    def blank_small_cells(self, tail: np.ndarray, min_rows: int) -> tuple[np.ndarray, int]:
        """A lake's :meth:`fit_sums` with its histogram cells below ``min_rows`` blanked and
        flagged (and small missing counts dropped), and how many cells it blanked."""
        h = self.histogram_size
        counts, levels = tail[:h], tail[2 * h :]
        small = (counts > 0) & (counts < min_rows)
        out = np.concatenate(
            [
                np.where(small, 0.0, counts),
                small.astype(np.float64),
                np.where(levels < min_rows, 0.0, levels),
            ]
        )
        return out, int(np.count_nonzero(small))

    def output_bounds(self) -> list[tuple[float, float]]:
        """Bounds of every output column (0-1 for indicators), for a DP plan's scaling;
        :class:`PlanError` naming a numeric feature without published bounds."""
        out: list[tuple[float, float]] = []
        for c in self.columns:
            if c.levels:
                out.extend([(0.0, 1.0)] * c.levels)
            else:
                bounds = c.value_bounds
                if bounds is None:
                    raise PlanError(f"feature {c.name!r} has no published bounds")
                out.append(bounds)
            if c.indicator:
                out.append((0.0, 1.0))
        return out

    # --- the arithmetic -----------------------------------------------------------------------
    def expand(self, X: np.ndarray, fills: Mapping[str, float] | None = None) -> np.ndarray:
        """The family's inputs from raw columns ``X`` (one per feature, categories as
        indices): one-hot levels, numbers through their steps, indicators; ``fills`` fill
        what is missing (a number, or a level's index); unfilled numbers stay NaN."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise PlanError(
                f"expected rows of {len(self.features)} columns ({', '.join(self.features)}), "
                f"got shape {X.shape}"
            )
        fills = fills or {}
        out = np.empty((X.shape[0], self.width), dtype=np.float64)
        j = 0
        for i, c in enumerate(self.columns):
            x = X[:, i]
            fill = fills.get(c.name)
            if c.levels:
                level = c.level(x)
                if fill is not None:
                    level = np.where(np.isnan(level), float(fill), level)
                out[:, j : j + c.levels] = level[:, None] == np.arange(c.levels)[None, :]
                j += c.levels
            else:
                v = c.value(x)
                if fill is not None:
                    v = np.where(np.isnan(v), float(fill), v)
                out[:, j] = v
                j += 1
            if c.indicator:
                out[:, j] = np.isnan(x)
                j += 1
        return out

    def fit_sums(self, X: np.ndarray, E: np.ndarray) -> np.ndarray:
        """What fitting needs beyond the standardisation's sums of ``E = expand(X)``: per
        median column, the counts of its values in :data:`MEDIAN_BINS` bins over its bounds
        (values outside them count in the end bins); per categorical column, its missing
        values (a one-hot row of zeros is a missing value or another category)."""
        parts = []
        for position, c in zip(self.median_columns, self._median_inputs, strict=True):
            low, high = c.value_bounds  # type: ignore[misc]
            v = E[:, position]
            v = v[~np.isnan(v)]
            index = np.clip(
                ((v - low) / (high - low) * MEDIAN_BINS).astype(int), 0, MEDIAN_BINS - 1
            )
            parts.append(np.bincount(index, minlength=MEDIAN_BINS).astype(np.float64))
        parts.append(np.zeros(self.histogram_size))  # blank flags, set by the lake
        missing = [
            float(np.count_nonzero(np.isnan(c.level(X[:, i]))))
            for i, c in enumerate(self.columns)
            if c.levels
        ]
        parts.append(np.array(missing, dtype=np.float64))
        return np.concatenate(parts)

    @cached_property
    def _median_inputs(self) -> tuple[InputColumn, ...]:
        return tuple(
            c for c in self.columns if c.impute is not None and c.impute.strategy == "median"
        )

    def fit(
        self,
        rows: float,
        count: np.ndarray,
        total: np.ndarray,
        total_sq: np.ndarray,
        tail: np.ndarray,
    ) -> tuple[dict[str, float], np.ndarray, np.ndarray, dict[str, float]]:
        """The fills of the imputed features, the mean and standard deviation of every
        output column once filled (as an imputer then a scaler would see them), and the
        stated error of each median, from pooled sums over ``rows`` rows: each output
        column's ``count`` of present values, ``total`` and ``total_sq``, and
        :meth:`fit_sums`' ``tail`` (blanked by each lake)."""
        errors: dict[str, float] = {}
        rows = max(float(rows), 1.0)
        safe = np.maximum(count, 1.0)
        mean = total / safe
        fills: dict[str, float] = {}
        total, total_sq = total.astype(np.float64).copy(), total_sq.astype(np.float64).copy()
        h = self.histogram_size
        histograms = np.where(tail[h : 2 * h] > 0, np.nan, tail[:h])  # blank where flagged
        missing_levels = iter(tail[2 * h :])
        medians = iter(range(len(self.median_columns)))
        offset = 0
        for c in self.columns:
            missing = next(missing_levels) if c.levels else 0.0
            fill = self._fill(c, offset, mean, count, histograms, medians, errors)
            if fill is not None:
                fills[c.name] = fill
            if c.levels:
                if fill is not None:  # the missing rows join the filled level
                    total[offset + int(fill)] += missing
                    total_sq[offset + int(fill)] += missing
            else:
                gaps = rows - count[offset]
                value = mean[offset] if fill is None else fill
                total[offset] += gaps * value
                total_sq[offset] += gaps * value * value
            offset += len(c.outputs)
        filled_mean = total / rows
        variance = np.maximum(total_sq / rows - filled_mean * filled_mean, 0.0)
        std = np.where(variance > 1e-24, np.sqrt(variance), 1.0)
        return fills, filled_mean, std, errors

    def _fill(
        self,
        c: InputColumn,
        offset: int,
        mean: np.ndarray,
        count: np.ndarray,
        histograms: np.ndarray,
        medians: Any,
        errors: dict[str, float],
    ) -> float | None:
        if c.impute is None:
            return None
        strategy = c.impute.strategy
        if strategy == "constant":
            value = c.impute.fill_value
            return float(c.categories.index(value)) if c.categories else float(value)
        if strategy == "mean":
            return float(mean[offset])
        if strategy == "median":
            k = next(medians)
            counts = histograms[k * MEDIAN_BINS : (k + 1) * MEDIAN_BINS]
            low, high = c.value_bounds  # type: ignore[misc]
            edges = np.linspace(low, high, MEDIAN_BINS + 1)
            estimates, stated = quantiles_from_histogram(edges, counts, count[offset], (0.5,))
            errors[c.name] = stated["q50"]
            return estimates["q50"]
        if c.levels:  # most frequent level: the largest one-hot sum
            return float(
                np.argmax(mean[offset : offset + c.levels] * count[offset : offset + c.levels])
            )
        return 1.0 if mean[offset] > 0.5 else 0.0  # most frequent of a 0/1 column

    def constant_fills(self) -> dict[str, float]:
        """The fills that need no statistics (``impute('constant', ...)``)."""
        return {
            c.name: self._fill(c, 0, np.zeros(1), np.zeros(1), np.zeros(0), iter(()), {})  # type: ignore[misc]
            for c in self.columns
            if c.impute is not None and c.impute.strategy == "constant"
        }

    # --- pandas and scikit-learn --------------------------------------------------------------
    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        """A frame's feature columns as :meth:`expand` takes them (categories as indices)."""
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise PlanError(
                f"the data has no column(s) {', '.join(missing)}; the model reads "
                f"{', '.join(self.features)}"
            )
        return (
            np.column_stack(
                [
                    category_codes(frame[c.name], c.categories)
                    if c.categories is not None
                    else numeric_values(frame, c.name)
                    for c in self.columns
                ]
            )
            if len(frame)
            else np.zeros((0, len(self.features)))
        )

    def to_spec(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "transforms": [t.to_spec() for t in self.transforms],
            "bounds": {k: list(v) for k, v in self.bounds.items()},
        }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Design:
        return cls(
            features=tuple(spec["features"]),
            categories=spec.get("categories") or {},
            transforms=tuple(spec.get("transforms") or ()),
            bounds=spec.get("bounds") or {},
        )

    def to_sklearn(self, fills: Mapping[str, float], means: np.ndarray) -> Any:
        """A fitted ``ColumnTransformer`` giving :meth:`expand`'s columns with every gap
        filled (``fills``, else the output column's pooled mean in ``means``)."""
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import MissingIndicator as SkMissingIndicator
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

        parts: list[tuple[str, Any, list[str]]] = []
        offset = 0
        for c in self.columns:
            steps: list[Any] = []
            steps.append(
                FunctionTransformer(
                    numbers if c.categories is None else missing_as_nan,
                    feature_names_out="one-to-one",
                )
            )
            for step in c.steps:
                if isinstance(step, Log1p):
                    steps.append(FunctionTransformer(log1p_values, feature_names_out="one-to-one"))
                elif isinstance(step, Clip):
                    steps.append(
                        FunctionTransformer(
                            clip_values,
                            kw_args={"lower": step.lower, "upper": step.upper},
                            feature_names_out="one-to-one",
                        )
                    )
            fill = fills.get(c.name)
            if c.categories is not None:
                if fill is not None:
                    steps.append(
                        SimpleImputer(strategy="constant", fill_value=c.categories[int(fill)])
                    )
                steps.append(
                    OneHotEncoder(categories=[list(c.categories)], handle_unknown="ignore")
                )
            elif c.edges is not None:
                steps.append(
                    FunctionTransformer(
                        bucket_index,
                        kw_args={"edges": list(c.edges)},
                        feature_names_out="one-to-one",
                    )
                )
                if fill is not None:
                    steps.append(SimpleImputer(strategy="constant", fill_value=float(fill)))
                steps.append(
                    OneHotEncoder(
                        categories=[[float(i) for i in range(c.levels)]], handle_unknown="ignore"
                    )
                )
            else:
                value = float(fill) if fill is not None else float(means[offset])
                steps.append(
                    SimpleImputer(strategy="constant", fill_value=value, keep_empty_features=True)
                )
            parts.append((c.name, make_pipeline(*steps), [c.name]))
            if c.indicator:
                parts.append((f"{c.name} missing", SkMissingIndicator(features="all"), [c.name]))
            offset += len(c.outputs)
        transformer = ColumnTransformer(parts, sparse_threshold=0.0)
        return transformer.fit(self._fitting_frame())

    def _fitting_frame(self) -> pd.DataFrame:
        """Two rows that every part of :meth:`to_sklearn` fits on (each part's settings
        are given, so what it learns from them is only the columns' names)."""
        data: dict[str, list[Any]] = {}
        for c in self.columns:
            if c.categories is not None:
                data[c.name] = [c.categories[0], np.nan]
            else:
                data[c.name] = [0.0, np.nan]
        return pd.DataFrame(data, columns=list(self.features))


def numbers(values: Any) -> np.ndarray:
    """Values as a column of floats (booleans as 0/1; anything not a number missing)."""
    frame = pd.DataFrame(values)
    return (
        np.column_stack(
            [
                pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                for c in frame.columns
            ]
        )
        if frame.shape[1]
        else np.zeros((len(frame), 0))
    )


def missing_as_nan(values: Any) -> np.ndarray:
    """Values as objects, every kind of missing (None, NaN, NA) as NaN, which is what
    scikit-learn's imputers look for."""
    frame = pd.DataFrame(values).astype(object)
    return frame.where(frame.notna(), np.nan).to_numpy(dtype=object)


def log1p_values(values: Any) -> np.ndarray:
    """``log(1 + x)`` as :class:`Design` computes it (NaN below -1)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log1p(np.asarray(values, dtype=np.float64))


def clip_values(values: Any, lower: float | None, upper: float | None) -> np.ndarray:
    """``values`` limited to ``[lower, upper]`` (NaN stays NaN)."""
    return np.clip(
        np.asarray(values, dtype=np.float64),
        -np.inf if lower is None else lower,
        np.inf if upper is None else upper,
    )


def bucket_index(values: Any, edges: Sequence[float]) -> np.ndarray:
    """The bucket of each value (NaN where missing), as :meth:`InputColumn.level` gives."""
    v = np.asarray(values, dtype=np.float64)
    out = np.searchsorted(np.asarray(edges, dtype=np.float64), v, side="right").astype(np.float64)
    out[np.isnan(v)] = np.nan
    return out
