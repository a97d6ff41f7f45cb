"""Logistic regression trained by federated averaging."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, ClassVar

from .._errors import PlanError
from ._plan import Plan, register_family


def _dp_from_spec(data: Mapping[str, Any] | None) -> Any:
    if data is None:
        return None
    from ..secure import DP

    return DP(**data)


@register_family
@dataclass(frozen=True, eq=False)
class LogisticRegression(Plan):
    """A binary classifier trained across lakes by federated averaging.

    Every round each lake starts from the global weights, runs ``local_epochs`` passes of
    gradient descent over its rows (in mini-batches of ``batch_size`` rows, or the whole
    partition when ``None``), and returns its change in weights, weighted by its row count.
    Features are standardised with means and deviations combined across lakes. A missing
    label drops the row; a missing feature value counts as the federated mean of that feature.

    Parameters
    ----------
    table
        The table's name; it must exist on every lake the plan is sent to.
    features
        Numeric, non-private columns used as inputs.
    label
        A binary column (0/1 or true/false) to predict.
    rounds
        Federated rounds; each lake runs one local step per round.
    local_epochs
        Passes over a lake's rows inside one round.
    learning_rate
        Step size of local gradient descent on standardised features.
    batch_size
        Rows per local gradient step; ``None`` uses the whole partition (full batch).
    l2
        L2 penalty on the weights (not the intercept).
    secure_aggregation
        Mask each lake's update so that only the sum over lakes can be read.
    secure_threshold
        How many lakes must survive a round for it to complete (t of n); a majority by default.
        Fewer survivors abort the job without revealing any lake's update.
    dp
        ``collab.DP(epsilon=..., delta=...)`` for differentially private training, or ``None``.
    """

    model: ClassVar[str] = "logistic_regression"

    table: str
    features: Sequence[str]
    label: str
    rounds: int = 30
    local_epochs: int = 1
    learning_rate: float = 0.5
    batch_size: int | None = None
    l2: float = 0.0
    secure_aggregation: bool = True
    secure_threshold: int | None = None
    dp: Any = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        self._validate_params()

    def _validate_params(self) -> None:
        if not isinstance(self.table, str) or not self.table:
            raise PlanError(f"table must be a table's name, not {self.table!r}")
        if isinstance(self.features, str) or not self.features:
            raise PlanError("features must be a non-empty list of column names")
        if any(not isinstance(f, str) or not f for f in self.features):
            raise PlanError(f"every feature must be a column name, got {list(self.features)!r}")
        duplicated = sorted({f for f in self.features if self.features.count(f) > 1})
        if duplicated:
            raise PlanError(f"features name {', '.join(duplicated)} more than once")
        if not isinstance(self.label, str) or not self.label:
            raise PlanError(f"label must be a column name, not {self.label!r}")
        if self.label in self.features:
            raise PlanError(f"label {self.label!r} is also listed as a feature; remove it")
        for name in ("rounds", "local_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise PlanError(f"{name} must be a whole number of at least 1, not {value!r}")
        if self.batch_size is not None and (
            not isinstance(self.batch_size, int) or self.batch_size < 1
        ):
            raise PlanError(f"batch_size must be None or at least 1, not {self.batch_size!r}")
        for name in ("learning_rate", "l2"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise PlanError(f"{name} must be a finite number, not {value!r}")
        if not self.learning_rate > 0:
            raise PlanError(f"learning_rate must be positive, not {self.learning_rate}")
        if self.l2 < 0:
            raise PlanError(f"l2 must be 0 or more, not {self.l2}")
        if not isinstance(self.secure_aggregation, bool):
            raise PlanError("secure_aggregation must be True or False")
        if self.secure_threshold is not None and (
            not isinstance(self.secure_threshold, int) or self.secure_threshold < 1
        ):
            raise PlanError(
                f"secure_threshold must be None (a majority of lakes) or at least 1, "
                f"not {self.secure_threshold!r}"
            )
        if self.dp is not None:
            from ..secure import DP

            if not isinstance(self.dp, DP):
                raise PlanError(f"dp must be collab.DP(epsilon=..., delta=...), not {self.dp!r}")
            if self.local_epochs != 1 or self.batch_size is not None:
                raise PlanError(
                    "with dp, each round is one full-batch gradient step per lake (the step the "
                    "privacy accounting covers): set local_epochs=1 and batch_size=None"
                )

    def to_spec(self) -> dict[str, Any]:
        dp = self.dp
        if dp is not None and is_dataclass(dp):
            dp = asdict(dp)
        return {
            "model": self.model,
            "table": self.table,
            "features": list(self.features),
            "label": self.label,
            "rounds": self.rounds,
            "local_epochs": self.local_epochs,
            "learning_rate": float(self.learning_rate),
            "batch_size": self.batch_size,
            "l2": float(self.l2),
            "secure_aggregation": self.secure_aggregation,
            "secure_threshold": self.secure_threshold,
            "dp": dp,
        }

    @classmethod
    def _from_spec(cls, spec: Mapping[str, Any]) -> LogisticRegression:
        names = {f.name for f in fields(cls)} - {"extra"}
        unknown = set(spec) - names - {"model"}
        if unknown:
            raise PlanError(f"unknown plan settings: {', '.join(sorted(unknown))}")
        kwargs = {k: v for k, v in spec.items() if k in names}
        kwargs["dp"] = _dp_from_spec(spec.get("dp"))
        return cls(**kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and other.spec_json == self.spec_json

    def __hash__(self) -> int:
        return hash(self.spec_json)
