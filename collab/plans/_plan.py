"""Plans are data: a validated spec that a lake checks against its schema and policy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from .._errors import PlanError, PolicyViolation, PrivacyError
from .._policy import Policy
from .._schema import TableSchema


def canonical_json(data: Any) -> str:
    """The one JSON text of ``data`` that hashes the same everywhere."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


class Plan:
    """Base of every plan: a model family, a table, its columns, and how to train.

    Subclasses declare ``model`` (the family's name) and implement :meth:`to_spec` and
    :meth:`from_spec`; :meth:`check_against` is shared.
    """

    model: ClassVar[str]
    table: str
    features: tuple[str, ...]
    label: str
    rounds: int

    def to_spec(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Plan:
        family = spec.get("model")
        plan_cls = PLAN_FAMILIES.get(str(family))
        if plan_cls is None:
            raise PlanError(
                f"unknown model family {family!r}; known: {', '.join(sorted(PLAN_FAMILIES))}"
            )
        return plan_cls._from_spec(spec)

    @classmethod
    def _from_spec(cls, spec: Mapping[str, Any]) -> Plan:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def spec_json(self) -> str:
        return canonical_json(self.to_spec())

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical spec: what lakes approve and audit."""
        return hashlib.sha256(self.spec_json.encode()).hexdigest()

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.features, self.label)

    def check_against(self, schema: TableSchema, policy: Policy) -> None:
        """Raise the first reason this plan cannot run on ``schema`` under ``policy``.

        Every message names the lake, the table and the column, and says what to do instead.
        """
        where = f"lake {schema.lake!r}, table {schema.name!r}"
        for name in self.columns:
            column = schema.column(name)
            if column.private:
                allowed = [c.name for c in schema.columns if not c.private]
                raise PrivacyError(
                    f"{where}: column {name!r} is private and cannot be used by any plan. "
                    f"Use only non-private columns: {', '.join(allowed)}."
                )
            if policy.allowed_columns is not None and name not in policy.allowed_columns:
                raise PolicyViolation(
                    f"{where}: the owner's policy does not allow column {name!r} in plans. "
                    f"Allowed columns: {', '.join(policy.allowed_columns)}."
                )
        for name in self.features:
            column = schema.column(name)
            if not column.is_numeric:
                raise PlanError(
                    f"{where}: feature {name!r} is of type {column.type} ({column.kind}); "
                    "features must be numeric (double, float, int, bigint, boolean). "
                    "Drop it from features or ask the owner for a numeric encoding."
                )
        label = schema.column(self.label)
        if label.kind != "binary":
            raise PlanError(
                f"{where}: label {self.label!r} is {label.kind} ({label.type}), not binary; "
                f"{self.model} needs a label whose values are only 0 and 1 (or true/false)."
            )
        if self.model not in policy.allowed_models:
            raise PolicyViolation(
                f"{where}: the owner allows only {', '.join(policy.allowed_models)} models, "
                f"not {self.model}."
            )
        if self.rounds > policy.max_rounds:
            raise PolicyViolation(
                f"{where}: the plan asks for {self.rounds} rounds; the owner allows at most "
                f"{policy.max_rounds}. Lower rounds (or raise local_epochs)."
            )
        if schema.extra.get("meets_min_rows") is False:
            raise PolicyViolation(
                f"{where}: the table has fewer labelled rows than the owner's minimum of "
                f"{policy.min_rows}, so no plan may train on it. Leave this lake out."
            )
        self._check_privacy_settings(where, policy, schema)

    def _check_privacy_settings(self, where: str, policy: Policy, schema: TableSchema) -> None:
        dp = getattr(self, "dp", None)
        if dp is not None:
            for name in self.features:
                if schema.column(name).bounds is None:
                    raise PlanError(
                        f"{where}: feature {name!r} has no published bounds; a DP plan needs the "
                        "owner to publish each feature's range (add_table(..., bounds={...})). "
                        "Drop the feature or ask the owner."
                    )
        if policy.require_secure_aggregation and not getattr(self, "secure_aggregation", False):
            raise PolicyViolation(
                f"{where}: the owner requires secure aggregation; set secure_aggregation=True."
            )
        if policy.max_epsilon is not None:
            if dp is None:
                raise PolicyViolation(
                    f"{where}: the owner requires differential privacy (at most epsilon "
                    f"{policy.max_epsilon:g}); add dp=collab.DP(epsilon=...) to the plan."
                )
            if dp.epsilon > policy.max_epsilon:
                raise PolicyViolation(
                    f"{where}: the plan spends epsilon {dp.epsilon:g}; the owner allows at most "
                    f"{policy.max_epsilon:g} per scientist. Lower epsilon."
                )

    def _repr_html_(self) -> str:
        from .._display import html_of

        return html_of(self)

    def _repr_mimebundle_(self, include=None, exclude=None):  # type: ignore[no-untyped-def]
        from .._display import bundle_of

        return bundle_of(self, include, exclude)


PLAN_FAMILIES: dict[str, type[Plan]] = {}


def register_family(cls: type[Plan]) -> type[Plan]:
    PLAN_FAMILIES[cls.model] = cls
    return cls
