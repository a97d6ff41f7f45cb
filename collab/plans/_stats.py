"""Feature statistics summed across lakes, and the standardisation they give."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..features import Design
from ._update import Update

STAT_METRICS = ("label_sum", "label_sq_sum")


def labelled(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop rows whose label is missing (the documented rule for a missing label)."""
    keep = ~np.isnan(y)
    if keep.all():  # the usual case: no copy of the rows
        return X, y
    return X[keep], y[keep]


def stats_size(n_features: int) -> int:
    return Update.size(len(STAT_METRICS), 3 * n_features)


def table_stats(
    X: np.ndarray, y: np.ndarray, invalid: Callable[[np.ndarray], int] | None = None
) -> Update:
    """Sums that standardisation needs: labelled rows, label sums, and per feature the count
    of present values, their sum and their sum of squares."""
    X, y = labelled(X, y)
    present = ~np.isnan(X)
    Xz = np.where(present, X, 0.0)
    return Update(
        rows=float(len(y)),
        invalid=float(invalid(y)) if invalid is not None else 0.0,
        metrics=np.array([y.sum(), (y * y).sum()], dtype=np.float64),
        values=np.concatenate(
            [present.sum(axis=0).astype(np.float64), Xz.sum(axis=0), (Xz * Xz).sum(axis=0)]
        ),
    )


@dataclass(frozen=True)
class Standardizer:
    """Federated means and standard deviations of the features (and the label), from summed
    statistics or from the owners' published bounds."""

    mean: np.ndarray
    std: np.ndarray
    rows: int = 0
    label_mean: float = 0.0
    label_std: float = 1.0
    # per feature of a design: what fills its missing values (a number, or a level's index)
    fills: Mapping[str, float] = field(default_factory=dict)
    # per feature imputed with a median: how far the fill may be from the pooled rows' median
    fill_errors: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_stats(cls, stats: Update, width: int | None = None) -> Standardizer:
        """From summed :func:`table_stats` over ``width`` columns (the values may go on
        with a design's fitting sums)."""
        d = len(stats.values) // 3 if width is None else width
        v = stats.values
        count, total, total_sq = v[:d], v[d : 2 * d], v[2 * d : 3 * d]
        safe = np.maximum(count, 1.0)
        mean = total / safe
        std = np.sqrt(np.maximum(total_sq / safe - mean * mean, 0.0))
        std = np.where(std > 1e-12, std, 1.0)
        rows = max(stats.rows, 1.0)
        label_mean = float(stats.metrics[0] / rows)
        label_var = max(float(stats.metrics[1] / rows) - label_mean**2, 0.0)
        label_std = float(np.sqrt(label_var)) if label_var > 1e-24 else 1.0
        return cls(
            mean=mean,
            std=std,
            rows=round(stats.rows),
            label_mean=label_mean,
            label_std=label_std,
        )

    @classmethod
    def from_bounds(
        cls,
        bounds: Sequence[tuple[float, float]],
        label_bounds: tuple[float, float] | None = None,
    ) -> Standardizer:
        """Scaling by published bounds: midpoints and half-ranges (what DP plans use), so that
        a value inside its bounds maps into [-1, 1]."""
        low = np.array([b[0] for b in bounds], dtype=np.float64)
        high = np.array([b[1] for b in bounds], dtype=np.float64)
        label_mean, label_std = 0.0, 1.0
        if label_bounds is not None:
            label_mean = (label_bounds[0] + label_bounds[1]) / 2
            label_std = max((label_bounds[1] - label_bounds[0]) / 2, 1e-12)
        return cls(
            mean=(low + high) / 2,
            std=np.maximum((high - low) / 2, 1e-12),
            label_mean=float(label_mean),
            label_std=float(label_std),
        )

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean) / self.std
        return np.where(np.isnan(Z), 0.0, Z)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "label_mean": self.label_mean,
            "label_std": self.label_std,
        }
        if self.fills:
            data["fills"] = {k: float(v) for k, v in self.fills.items()}
        if self.fill_errors:
            data["fill_errors"] = {k: float(v) for k, v in self.fill_errors.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Standardizer:
        fills = data.get("fills") or {}
        return cls(
            mean=np.asarray(data["mean"], dtype=np.float64),
            std=np.asarray(data["std"], dtype=np.float64),
            label_mean=float(data.get("label_mean", 0.0)),  # type: ignore[arg-type]
            label_std=float(data.get("label_std", 1.0)),  # type: ignore[arg-type]
            fills={str(k): float(v) for k, v in fills.items()},  # type: ignore[union-attr]
            fill_errors={
                str(k): float(v)
                for k, v in (data.get("fill_errors") or {}).items()  # type: ignore[union-attr]
            },
        )


class Preprocessing:
    """A plan's design, then its standardisation: what a lake applies to a block of raw
    rows (categories as indices) before the family's step. The engine keeps the result
    beside the rows under :attr:`key`."""

    def __init__(self, design: Design, standardizer: Standardizer) -> None:
        self.design = design
        self.standardizer = standardizer
        self.mean, self.std = standardizer.mean, standardizer.std

    @property
    def key(self) -> str:
        data = json.dumps(
            [self.design.to_spec(), self.standardizer.to_dict()], sort_keys=True, default=str
        )
        return hashlib.sha256(data.encode()).hexdigest()[:20]

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.standardizer.transform(self.design.expand(X, self.standardizer.fills))

    def expand(self, X: np.ndarray) -> np.ndarray:
        """The design's columns, filled as fitted, before standardisation."""
        return self.design.expand(X, self.standardizer.fills)


def preprocessing_key(preprocessing: Any) -> str:
    """Names a standardisation (or :class:`Preprocessing`) of a table's rows."""
    key = getattr(preprocessing, "key", None)
    if isinstance(key, str):
        return key
    data = np.concatenate([preprocessing.mean, preprocessing.std]).astype(np.float64).tobytes()
    return hashlib.sha256(data).hexdigest()[:20]
