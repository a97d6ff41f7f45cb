"""A trained Cox model's concordance index on another federation's rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..._errors import PlanError
from .._model import Model, model_from_document
from .._parameters import Param
from .._plan import register_family
from .._stats import Standardizer
from .._update import Update
from ._cox import CoxPH
from ._model import CoxModel


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class CoxEvaluation(CoxPH):
    """A trained Cox model's concordance index on every row of a table
    (``model.evaluate(fed, table)``): one round of counts by bin of the public time grid (as
    for training) and by risk score.

    Parameters
    ----------
    trained
        The model's learned values (``model.to_document(learned_only=True)``): what the
        owners approve.
    """

    model: ClassVar[str] = "cox_evaluation"
    model_class: ClassVar[type[Model] | None] = None  # type: ignore[misc]
    task: ClassVar[str] = "evaluation"  # type: ignore[misc]
    history_metrics: ClassVar[tuple[str, ...]] = ()

    parameters: ClassVar[tuple[Param, ...]] = (
        Param(
            "trained",
            "mapping",
            "The model's learned values (model.to_document(learned_only=True)): what the "
            "owners approve.",
        ),
    )

    trained: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, model: CoxModel, table: str) -> CoxEvaluation:
        design = model.design
        features = tuple(model.features) if design is None else tuple(design.features)
        extra: dict[str, Any] = {}
        if design is not None:
            extra["transforms"] = tuple(design.transforms)
            if design.categories:
                extra["encoding"] = {
                    "categories": {k: list(v) for k, v in design.categories.items()}
                }
        return cls(
            table=table,
            duration=model.duration,
            event=model.label,
            features=features,
            ties=model.ties,
            trained=model.to_document(learned_only=True),
            **extra,
        )

    def _validate(self) -> None:
        super()._validate()
        try:
            fitted = self.fitted
        except Exception as exc:
            raise PlanError(f"a Cox evaluation needs a trained Cox model ({exc})") from exc
        if not isinstance(fitted, CoxModel) or tuple(fitted.features) != self.input_names:
            raise PlanError("a Cox evaluation's columns must be its model's")

    @property
    def fitted(self) -> CoxModel:
        return model_from_document(self.trained)  # type: ignore[return-value]

    @property
    def governing_family(self) -> str:
        return CoxPH.model

    @property
    def total_rounds(self) -> int:
        return 1

    def start(self, standardizer: Standardizer) -> dict[str, Any]:
        fitted, kept, times = self.fitted, self.kept, self.public_times()
        return {
            **self._first_newton(list(times), times[-1], None),
            "phase": "concordance",
            "beta": fitted.coef_[kept].tolist(),
            "centre": fitted.feature_means_[kept].tolist(),
            "scale": fitted.score_scale_,
        }

    def absorb(self, state: Mapping[str, Any], update: Update) -> dict[str, Any]:
        return {**super().absorb(state, update), "rows": update.rows}

    def round_metrics(self, update: Update, state: Mapping[str, Any]) -> dict[str, float]:
        return {}

    def build_model(  # type: ignore[override]
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> dict[str, Any]:
        c_index, error = state["concordance"]
        return {
            "concordance_index": float(c_index),
            "concordance_index_error": float(error),
            "rows": float(state["rows"]),
        }

    def model_from(  # type: ignore[override]
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> dict[str, Any]:
        return self.build_model(state, standardizer)
