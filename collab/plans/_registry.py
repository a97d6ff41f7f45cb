"""The registry of plan families by name: what turns a spec back into its plan, and a saved
model's family name into its model class.

A leaf of ``collab.plans``: :func:`~collab.plans.register_family` (beside the plan base)
writes it, and the plan base and the model base both read it, so neither imports the other
to find a family. What it reads of a plan class and a model class is written here as
protocols (:class:`FamilyPlan`, :class:`FamilyModel`) rather than by naming the bases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from .._errors import PlanError

# the tasks of families that train a model (statistics and evaluation requests train none)
MODEL_TASKS = ("classification", "regression")


class FamilyModel(Protocol):
    """What the registry reads of a model class (a :class:`~collab.plans.Model`)."""

    family: ClassVar[str]


class FamilyPlan(Protocol):
    """What the registry, and a model about the plan it came from, read of a plan (a
    :class:`~collab.plans.Plan`)."""

    model: ClassVar[str]
    task: ClassVar[str]
    model_class: ClassVar[type[FamilyModel] | None]
    history_metrics: ClassVar[tuple[str, ...]]

    @property
    def transforms(self) -> Sequence[Any]: ...

    @property
    def holdout(self) -> float: ...

    def to_spec(self) -> dict[str, Any]: ...

    @classmethod
    def _from_spec(cls, spec: Mapping[str, Any]) -> FamilyPlan: ...


PLAN_FAMILIES: dict[str, type[FamilyPlan]] = {}


def plan_class(family: object) -> type[FamilyPlan]:
    """The registered plan class of ``family`` (a spec's ``model``); :class:`PlanError`
    naming the known ones otherwise."""
    plan_cls = PLAN_FAMILIES.get(str(family))
    if plan_cls is None:
        raise PlanError(
            f"unknown model family {family!r}; known: {', '.join(sorted(PLAN_FAMILIES))}"
        )
    return plan_cls


def plan_from_spec(spec: Mapping[str, Any]) -> FamilyPlan:
    """The plan a spec describes (see :meth:`collab.plans.Plan.from_spec`)."""
    return plan_class(spec.get("model"))._from_spec(spec)


def model_classes() -> dict[str, type[FamilyModel]]:
    """The model class of every saved family name: each registered family's
    ``model_class``, and those of its variants (subclasses with their own model, such as a
    regression of a family registered for classification)."""
    found: dict[str, type[FamilyModel]] = {}
    pending: list[type[FamilyPlan]] = list(PLAN_FAMILIES.values())
    while pending:
        plan_cls = pending.pop()
        pending.extend(plan_cls.__subclasses__())
        model_class = plan_cls.model_class
        if model_class is not None and model_class.family:
            found.setdefault(model_class.family, model_class)
    return found


def families() -> dict[str, type[FamilyPlan]]:
    """Every registered family that trains a model, by name (the statistics and evaluation
    requests the federation sends are families of the protocol too, but train nothing)."""
    return {name: cls for name, cls in PLAN_FAMILIES.items() if cls.task in MODEL_TASKS}
