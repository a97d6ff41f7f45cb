"""An owner's rules for one table, published to scientists so plans can be checked early."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_MIN_ROWS = 20


@dataclass(frozen=True)
class Policy:
    """What a lake's owner allows on one table.

    Parameters
    ----------
    allowed_columns
        Columns a plan may use as features or label; ``None`` allows every non-private column.
    min_rows
        The fewest labelled rows a table must hold for a plan to run on it.
    allowed_models
        Model families a plan may train, by the names ``collab.plans.families()`` lists (a
        plan's ``model``); ``None`` allows every family installed on the lake (a lake only
        ever runs its own code).
    max_rounds
        The most training rounds one plan may run.
    max_epsilon
        The most differential-privacy budget one scientist may spend on this table; setting it
        requires every plan to use DP.
    require_secure_aggregation
        Refuse plans that send this lake's update without secure aggregation.
    auto_approve
        Approve plans (and statistics requests) that are inside this policy without waiting
        for the owner.
    allow_statistics
        Accept federated statistics requests (``fed.describe``, ``fed.histogram``,
        ``fed.crosstab``) on this table. Their cells below ``min_rows`` are never released.
    auto_approve_statistics
        Approve statistics requests inside this policy without waiting for the owner (plans
        still wait, unless ``auto_approve``).
    release_per_lake
        Let this lake's own statistics and evaluation figures be released (a request without
        secure aggregation); by default only figures pooled with the other lakes leave.
    """

    allowed_columns: tuple[str, ...] | None = None
    min_rows: int = DEFAULT_MIN_ROWS
    allowed_models: tuple[str, ...] | None = None
    max_rounds: int = 500
    max_epsilon: float | None = None
    require_secure_aggregation: bool = False
    auto_approve: bool = False
    allow_statistics: bool = True
    auto_approve_statistics: bool = False
    release_per_lake: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.allowed_columns is not None:
            object.__setattr__(self, "allowed_columns", tuple(self.allowed_columns))
        if self.allowed_models is not None:
            if isinstance(self.allowed_models, str):
                raise ValueError(
                    f"allowed_models must be a list of family names, not {self.allowed_models!r}"
                )
            object.__setattr__(self, "allowed_models", tuple(self.allowed_models))
        if int(self.min_rows) < 1:
            raise ValueError(f"min_rows must be at least 1, not {self.min_rows}")
        if int(self.max_rounds) < 1:
            raise ValueError(f"max_rounds must be at least 1, not {self.max_rounds}")
        if self.max_epsilon is not None and not self.max_epsilon > 0:
            raise ValueError(f"max_epsilon must be positive or None, not {self.max_epsilon}")

    def allows_model(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models

    def epsilon_left(self, spent: float) -> float | None:
        """The budget a scientist who has spent ``spent`` has left; ``None`` with no limit."""
        if self.max_epsilon is None:
            return None
        return max(float(self.max_epsilon) - float(spent), 0.0)

    @property
    def requires_dp(self) -> bool:
        return self.max_epsilon is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["allowed_columns"] = (
            None if self.allowed_columns is None else list(self.allowed_columns)
        )
        data["allowed_models"] = None if self.allowed_models is None else list(self.allowed_models)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        return cls(**data)
