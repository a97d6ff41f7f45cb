"""The squared-error variant of the boosted-trees plan (a regression)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from ..._errors import PlanError, PolicyViolation
from ..._policy import Policy
from ..._schema import ColumnSchema, TableSchema
from .._model import Model
from .._parameters import Param
from .._stats import Standardizer
from ._models import BoostedTreesRegressor
from ._plans import DP_METRIC_BOUND, GradientBoostedTrees


@dataclass(frozen=True, eq=False, kw_only=True)
class GradientBoostedTreesRegression(GradientBoostedTrees):
    """:class:`GradientBoostedTrees` with ``objective="squared_error"`` (what
    ``GradientBoostedTrees(objective="squared_error", ...)`` makes): a numeric label, the
    squared error's gradient ``F - y`` and hessian 1, the pooled mean as the baseline.

    Parameters
    ----------
    label_bounds
        With ``dp``: the label's published bounds (filled in from the owners' schemas; the
        label is scaled into [-1, 1] by them). ``None`` without DP.
    """

    task: ClassVar[str] = "regression"  # type: ignore[misc]
    model_class: ClassVar[type[Model]] = BoostedTreesRegressor
    _left_out_when_empty: ClassVar[tuple[str, ...]] = (
        "transforms", "encoding", "classes", "label_bounds"
    )  # fmt: skip

    parameters: ClassVar[tuple[Param, ...]] = (
        Param(
            "label_bounds",
            "numbers",
            "With dp: the label's published bounds (filled in from the owners' schemas; the "
            "label is scaled into [-1, 1] by them). None without DP.",
            optional=True,
        ),
    )

    objective: str = "squared_error"
    label_bounds: tuple[float, float] | None = None

    def _validate_classes(self) -> None:
        if self.classes is not None:
            raise PlanError("classes are for objective='binary'; a regression has none")
        if self.label_bounds is not None:
            low, high = (float(v) for v in self.label_bounds)
            if not (math.isfinite(low) and math.isfinite(high) and high > low):
                raise PlanError(f"label_bounds must be (low, high), not {self.label_bounds!r}")
            object.__setattr__(self, "label_bounds", (low, high))

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Any:
        if self.dp is None or self.label_bounds is not None:
            return self
        ranges = {s.column(self.label).bounds for s in schemas.values()}
        if len(ranges) != 1 or None in ranges:
            return self  # each lake refuses the plan, naming itself (see check_against)
        return replace(self, label_bounds=next(iter(ranges)))

    def check_against(self, schema: TableSchema, policy: Policy) -> None:
        super().check_against(schema, policy)
        published = schema.column(self.label).bounds
        if (
            self.dp is not None
            and published is not None
            and (self.label_bounds is None or tuple(self.label_bounds) != tuple(published))
        ):
            raise PolicyViolation(
                f"lake {schema.lake!r}, table {schema.name!r}: a DP regression scales label "
                f"{self.label!r} by its published bounds {list(published)}; the plan's "
                f"label_bounds are {self.label_bounds}. Leave label_bounds=None (every lake "
                "must publish the same bounds for it)."
            )

    def check_label(self, column: ColumnSchema, where: str) -> None:
        if column.kind != "numeric":
            raise PlanError(
                f"{where}: label {self.label!r} is {column.kind} ({column.type}); "
                "objective='squared_error' needs a numeric label. For a 0/1 label use "
                "objective='binary'."
            )

    @property
    def dp_bounded_columns(self) -> tuple[str, ...]:
        return (*super().dp_bounded_columns, self.label)

    @property
    def encodings(self) -> dict[str, tuple[Any, ...]]:
        return dict(self.design.categories)

    def invalid_labels(self, y: np.ndarray) -> int:
        return int(np.count_nonzero(~np.isfinite(y)))

    def _valid_mask(self, y: np.ndarray) -> np.ndarray:
        return np.isfinite(y)

    def prepare_labels(self, y: np.ndarray, request: Mapping[str, Any]) -> np.ndarray:
        mid, half = self._label_scale()
        t = (y - mid) / half
        return np.clip(t, -1.0, 1.0) if self.dp is not None else t

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.standard_normal(n)

    def _label_scale(self) -> tuple[float, float]:
        if self.dp is None or self.label_bounds is None:
            return 0.0, 1.0
        low, high = self.label_bounds
        return (low + high) / 2, (high - low) / 2

    def _gradient_bounds(self) -> tuple[float, float]:
        return 2.0, 1.0

    def _terms(
        self, t: np.ndarray, F: np.ndarray, request: Mapping[str, Any], dp: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mid, half = (float(v) for v in request["label_scale"])
        residual = (F - mid) / half - t
        if dp:
            residual = np.clip(residual, -2.0, 2.0)
        sse = residual * residual
        if dp:
            sse = np.minimum(sse, DP_METRIC_BOUND)
        return residual, np.ones_like(t), np.column_stack([sse, np.zeros_like(t)])

    def _baseline(self, label_sum: float, rows: float) -> float:
        return float(label_sum / rows)

    def _label_variance(self, state: Mapping[str, Any]) -> float:
        rows, label_sum, label_sq = state["label_sums"]
        rows = max(rows, 1e-12)
        return max(label_sq / rows - (label_sum / rows) ** 2, 1e-12)

    def _baseline_metrics(
        self, rows: float, label_sum: float, label_sq: float, state: Mapping[str, Any]
    ) -> dict[str, float]:
        half = float(state["label_scale"][1])
        return {"loss": self._label_variance(state) * half * half, "score": 0.0}

    def _fit_metrics(
        self, metrics: np.ndarray, rows: float, state: Mapping[str, Any]
    ) -> dict[str, float]:
        half = float(state["label_scale"][1])
        mse = float(metrics[0] / rows)
        return {"loss": mse * half * half, "score": 1.0 - mse / self._label_variance(state)}

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> Model:
        return self.model_class(
            features=self.input_names, label=self.label, **self._learned(state), **context
        )
