"""A family's parameters, declared once in a table, as scikit-learn's ``_parameter_constraints``.

Each family lists its own settings as :class:`Param` rows in a ``parameters`` class attribute
(name, kind, range or choices, help; the default is the dataclass field's). A family's table
is its own rows merged over those of its bases (:func:`parameters_of`, the subclass's row for
a name winning), and that one table drives the checks of every plan (:func:`check_parameters`,
run when a plan is made, so also when a spec is read back), ``Plan.settings()`` and the plan
builder's controls. Rules that tie two settings together stay in a family's ``_validate``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal

from .._errors import PlanError

Kind = Literal["int", "float", "bool", "text", "ints", "numbers", "mapping"]
FREE = object()  # a setting that differential privacy leaves free
# the settings of every plan, which a builder and ``settings()`` handle apart from a family's
COMMON = (
    "table",
    "features",
    "label",
    "secure_aggregation",
    "secure_threshold",
    "dp",
    "transforms",
    "encoding",
    "follow",
)


@dataclass(frozen=True)
class Param:
    """One setting of a family.

    ``kind`` is ``int``, ``float``, ``bool``, ``text`` (with ``choices`` when only some
    values are allowed), ``ints`` or ``numbers`` (lists), or ``mapping`` (filled in by
    collab, never offered by a builder). ``low``/``high`` bound a number (``positive``: above
    ``low`` rather than from it); ``optional`` allows ``None``. ``must`` replaces the generic
    "must be ..." phrase of a refusal; ``why_high`` explains an upper bound. ``with_dp`` is
    the value a DP plan fixes it to. ``convert`` reads a value the family's way (returning it
    normalised, raising :class:`PlanError`) in place of the checks by kind.
    """

    name: str
    kind: Kind
    help: str
    low: float | None = None
    high: float | None = None
    positive: bool = False
    choices: tuple[str, ...] | None = None
    optional: bool = False
    must: str = ""
    why_high: str = ""
    with_dp: Any = FREE
    convert: Callable[[Any], Any] | None = None

    @property
    def fixed_by_dp(self) -> bool:
        return self.with_dp is not FREE

    def _refuse(self, value: Any, phrase: str) -> PlanError:
        return PlanError(f"{self.name} must be {self.must or phrase}, not {value!r}")

    def check(self, value: Any) -> Any:
        """``value`` as the plan keeps it; raises :class:`PlanError` naming the setting."""
        if value is None and self.optional:
            return None
        if self.convert is not None:
            return self.convert(value)
        if self.choices is not None:
            if value not in self.choices:
                raise self._refuse(value, f"one of {', '.join(self.choices)}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise PlanError(f"{self.name} must be True or False")
        elif self.kind == "text":
            if not isinstance(value, str) or not value:
                raise self._refuse(value, "text")
        elif self.kind == "int":
            self._whole(value)
        elif self.kind == "float":
            self._number(value)
        elif self.kind == "ints":
            if isinstance(value, int) and not isinstance(value, bool):
                value = (value,)
            if isinstance(value, str) or not isinstance(value, Sequence) or not value:
                raise self._refuse(value, "a list of whole numbers")
            for item in value:
                self._whole(item, whole=value)
            return tuple(value)
        return value

    def _whole(self, value: Any, whole: Any = None) -> None:
        low = int(self.low or 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            shown = value if whole is None else whole
            raise self._refuse(shown, f"a whole number of at least {low}")
        if self.high is not None and value > self.high:
            raise PlanError(
                f"{self.name} must be at most {self.high:g}{self.why_high}, not {value}"
            )

    def _number(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._refuse(value, "a finite number")
        if not math.isfinite(value):
            raise self._refuse(value, "a finite number")
        low = self.low if self.low is not None else -math.inf
        high = self.high if self.high is not None else math.inf
        if (value <= low if self.positive else value < low) or value > high:
            if self.must:
                raise self._refuse(value, "")
            if self.positive and self.low == 0:
                raise PlanError(f"{self.name} must be positive, not {value}")
            if self.high is None:
                raise PlanError(f"{self.name} must be {low:g} or more, not {value}")
            raise PlanError(f"{self.name} must be from {low:g} to {high:g}, not {value}")


def parameters_of(cls: type) -> dict[str, Param]:
    """The table of ``cls``: the ``parameters`` of it and its bases, by name (a subclass's row
    for a name wins)."""
    found: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        for param in vars(klass).get("parameters", ()):
            found[param.name] = param
    return found


def undeclared(cls: type, common: Sequence[str]) -> list[str]:
    """The dataclass fields of ``cls`` (beyond ``common``) that its table leaves out."""
    table = parameters_of(cls)
    return [f.name for f in fields(cls) if f.name not in common and f.name not in table]


def check_parameters(plan: Any) -> None:
    """Check every setting of ``plan`` against its family's table (keeping what a row's
    ``convert`` or kind normalises, such as a tuple for a list)."""
    names = {f.name for f in fields(plan)}
    for param in parameters_of(type(plan)).values():
        if param.name not in names:
            continue
        value = getattr(plan, param.name)
        kept = param.check(value)
        if kept is not value:
            object.__setattr__(plan, param.name, kept)


def dp_fixed(cls: type) -> dict[str, Any]:
    """The settings of ``cls`` a DP plan fixes, and their values."""
    return {p.name: p.with_dp for p in parameters_of(cls).values() if p.fixed_by_dp}


def default_of(cls: type, name: str) -> Any:
    """The default of setting ``name`` of ``cls`` (its dataclass field's), or ``None``."""
    for f in fields(cls):
        if f.name == name:
            return None if f.default is MISSING else f.default
    return None
