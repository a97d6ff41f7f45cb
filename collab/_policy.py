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
        from ._args import names, whole

        if self.allowed_columns is not None:
            object.__setattr__(
                self, "allowed_columns", names(self.allowed_columns, "allowed_columns")
            )
        if self.allowed_models is not None:
            object.__setattr__(
                self, "allowed_models", names(self.allowed_models, "allowed_models", what="family")
            )
        whole(self.min_rows, "min_rows", least=1)
        whole(self.max_rounds, "max_rounds", least=1)
        if self.max_epsilon is not None and (
            isinstance(self.max_epsilon, bool)
            or not isinstance(self.max_epsilon, int | float)
            or not self.max_epsilon > 0
        ):
            raise ValueError(f"max_epsilon must be positive or None, not {self.max_epsilon!r}")
        for name in (
            "require_secure_aggregation",
            "auto_approve",
            "allow_statistics",
            "auto_approve_statistics",
            "release_per_lake",
        ):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, not {getattr(self, name)!r}")

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
