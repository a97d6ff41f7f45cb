"""The transforms a plan may ask for in front of its family's step.

A transform is plain data (its spec travels in the plan and the owner approves it); the
arithmetic lives in :mod:`collab.features._design`, the one place that turns a lake's raw
columns into a family's inputs, on the lakes and in ``model.predict`` alike.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._errors import PlanError

IMPUTE_STRATEGIES = ("mean", "median", "most_frequent", "constant")


def _names(transform: str, columns: Sequence[str], *, required: bool) -> tuple[str, ...]:
    names = tuple(columns)
    if required and not names:
        raise PlanError(f"{transform}() needs the column(s) it applies to, e.g. {transform}('age')")
    if any(not isinstance(c, str) or not c for c in names):
        raise PlanError(f"{transform}() takes column names, not {list(names)!r}")
    if len(set(names)) != len(names):
        raise PlanError(f"{transform}() names a column more than once: {list(names)!r}")
    return names


def _finite(transform: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(f"{transform}(): {name} must be a finite number, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Transform:
    """Base of the transforms (see the constructors :func:`log1p`, :func:`clip`,
    :func:`bucketize`, :func:`standardize`, :func:`impute`, :func:`missing_indicator`).

    ``columns`` empty means every feature the transform fits (only where allowed).
    """

    name: ClassVar[str]
    columns: tuple[str, ...] = ()

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"transform": self.name, "columns": list(self.columns)}
        spec.update(self._settings())
        return spec

    def _settings(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def from_spec(spec: Any) -> Transform:
        """The transform a spec describes (a transform passes through unchanged)."""
        if isinstance(spec, Transform):
            return spec
        if not isinstance(spec, Mapping) or spec.get("transform") not in TRANSFORMS:
            raise PlanError(
                f"a transform must be one of collab.features' "
                f"{', '.join(sorted(TRANSFORMS))}, not {spec!r}"
            )
        data = dict(spec)
        cls = TRANSFORMS[data.pop("transform")]
        data["columns"] = tuple(data.get("columns", ()))
        try:
            return cls(**data)
        except TypeError as exc:
            raise PlanError(f"transform {spec!r} has unknown settings: {exc}") from exc

    @property
    def value_step(self) -> bool:
        """Whether it maps a number to a number (applied in the list's order)."""
        return False

    def label(self, inner: str) -> str:
        """The name of the transformed column."""
        return inner


@dataclass(frozen=True)
class Log1p(Transform):
    name: ClassVar[str] = "log1p"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _names(self.name, self.columns, required=True))

    @property
    def value_step(self) -> bool:
        return True

    def label(self, inner: str) -> str:
        return f"log1p({inner})"


@dataclass(frozen=True)
class Clip(Transform):
    name: ClassVar[str] = "clip"
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _names(self.name, self.columns, required=True))
        if self.lower is None and self.upper is None:
            raise PlanError("clip() needs lower=, upper= or both")
        lower = None if self.lower is None else _finite(self.name, "lower", self.lower)
        upper = None if self.upper is None else _finite(self.name, "upper", self.upper)
        if lower is not None and upper is not None and not lower < upper:
            raise PlanError(f"clip(): lower must be below upper, got {lower} and {upper}")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    def _settings(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper}

    @property
    def value_step(self) -> bool:
        return True

    def label(self, inner: str) -> str:
        low = "" if self.lower is None else f"{self.lower:g}"
        high = "" if self.upper is None else f"{self.upper:g}"
        return f"clip({inner}, {low}, {high})"


@dataclass(frozen=True)
class Bucketize(Transform):
    name: ClassVar[str] = "bucketize"
    edges: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _names(self.name, self.columns, required=True))
        if isinstance(self.edges, str | bytes) or not isinstance(self.edges, Sequence):
            raise PlanError(f"bucketize(): edges must be a list of numbers, not {self.edges!r}")
        edges = tuple(_finite(self.name, "every edge", e) for e in self.edges)
        if not edges or any(b <= a for a, b in itertools.pairwise(edges)):
            raise PlanError(
                f"bucketize(): edges must be one or more increasing numbers, not {list(edges)}"
            )
        object.__setattr__(self, "edges", edges)

    def _settings(self) -> dict[str, Any]:
        return {"edges": list(self.edges)}

    def bucket_names(self, inner: str) -> list[str]:
        e = [f"{v:g}" for v in self.edges]
        return (
            [f"{inner} < {e[0]}"]
            + [f"{a} <= {inner} < {b}" for a, b in itertools.pairwise(e)]
            + [f"{inner} >= {e[-1]}"]
        )


@dataclass(frozen=True)
class Standardize(Transform):
    name: ClassVar[str] = "standardize"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _names(self.name, self.columns, required=False))


@dataclass(frozen=True)
class Impute(Transform):
    name: ClassVar[str] = "impute"
    strategy: str = "mean"
    fill_value: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _names(self.name, self.columns, required=False))
        if self.strategy not in IMPUTE_STRATEGIES:
            raise PlanError(
                f"impute(): strategy must be one of {', '.join(IMPUTE_STRATEGIES)}, "
                f"not {self.strategy!r}"
            )
        if (self.strategy == "constant") != (self.fill_value is not None):
            raise PlanError("impute(): give fill_value with strategy 'constant', and only with it")
        if self.strategy == "constant" and not self.columns:
            raise PlanError("impute('constant', ...) needs the column(s) it fills")

    def _settings(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "fill_value": self.fill_value}


@dataclass(frozen=True)
class MissingIndicator(Transform):
    name: ClassVar[str] = "missing_indicator"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _names(self.name, self.columns, required=True))


TRANSFORMS: dict[str, type[Transform]] = {
    cls.name: cls for cls in (Log1p, Clip, Bucketize, Standardize, Impute, MissingIndicator)
}


# --- the constructors a scientist writes ---------------------------------------------------------


def log1p(*columns: str) -> Log1p:
    """``log(1 + x)`` of each column (for skewed, non-negative values)."""
    return Log1p(columns)


def clip(*columns: str, lower: float | None = None, upper: float | None = None) -> Clip:
    """Each column's values limited to ``[lower, upper]``."""
    return Clip(columns, lower, upper)


def bucketize(column: str, edges: Sequence[float]) -> Bucketize:
    """A numeric column cut at ``edges`` into ``len(edges) + 1`` buckets, one-hot encoded
    (bucket ``i`` holds ``edges[i-1] <= x < edges[i]``)."""
    return Bucketize((column,), tuple(edges))


def standardize(*columns: str) -> Standardize:
    """Centre and scale by the federated mean and standard deviation (what every family
    does to its numeric inputs anyway; listing it states it in the plan)."""
    return Standardize(columns)


def impute(strategy: str = "mean", *columns: str, fill_value: Any = None) -> Impute:
    """Fill missing values with the pooled ``"mean"`` or ``"median"`` (numeric columns),
    the ``"most_frequent"`` value (categorical, boolean and 0/1 columns) or ``"constant"``
    ``fill_value``; without columns, every feature the strategy fits.

    The values are fitted from pooled statistics under secure aggregation before the first
    round and kept in the model. A missing number is the pooled mean unless a plan says
    otherwise; a missing category is no category (all its indicator columns 0).
    """
    return Impute(columns, strategy, fill_value)


def missing_indicator(*columns: str) -> MissingIndicator:
    """A 0/1 column per column: 1 where its value is missing."""
    return MissingIndicator(columns)
