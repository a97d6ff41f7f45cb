"""The :mod:`collab.features` transforms a plan builder adds to its plan.

:class:`TransformList` is the model behind the builder's transforms editor: which chosen
features each transform may take (by their kind, see :func:`._choices.fits`), the settings
typed into the editor read as a transform, and the list kept in step with the chosen
features. Every transform added is checked at once with the plan's own
:class:`collab.features.Design`, so the editor refuses what the plan would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import PlanError
from .._schema import category_text
from ..features import Design, Transform
from ._choices import Choices, fitting_kinds, transform_key

TITLES = {
    "log1p": "log1p: log(1 + x)",
    "clip": "clip: limit to [lower, upper]",
    "bucketize": "bucketize: cut at edges",
    "standardize": "standardize",
    "impute": "impute: fill missing values",
    "missing_indicator": "missing indicator",
}

# the settings each transform reads from the editor (an imputation's by its strategy)
SETTINGS = {
    "clip": ("lower", "upper"),
    "bucketize": ("edges",),
    "impute:mean": ("strategy",),
    "impute:median": ("strategy",),
    "impute:most_frequent": ("strategy",),
    "impute:constant": ("strategy", "fill_value"),
}

# transforms of a number that must come before the column is bucketized
_BEFORE_BUCKETS = ("log1p", "clip", "bucketize", "standardize", "impute:mean", "impute:median")


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise PlanError(f"{name} must be a number, not {text!r}") from None


def _optional_number(name: str, text: str) -> float | None:
    text = str(text).strip()
    return None if not text else _number(name, text)


def _numbers(name: str, text: str) -> list[float]:
    parts = [p.strip() for p in str(text).strip("[]() ").split(",") if p.strip()]
    if not parts:
        raise PlanError(f"{name}: give one or more numbers, comma-separated (e.g. 18, 40, 65)")
    return [_number(name, p) for p in parts]


def _code(value: Any) -> str:
    """A value as Python writes it (strings double-quoted)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def describe(transform: Transform) -> str:
    """A transform as code writes it: ``impute("median", "age")``, ``clip("x", lower=0)``."""
    spec = transform.to_spec()
    args = [_code(c) for c in spec["columns"]]
    name = spec["transform"]
    if name == "impute":
        args.insert(0, _code(spec["strategy"]))
        if spec.get("fill_value") is not None:
            args.append(f"fill_value={_code(spec['fill_value'])}")
    elif name == "clip":
        args += [f"{b}={_code(spec[b])}" for b in ("lower", "upper") if spec[b] is not None]
    elif name == "bucketize":
        args.append("[" + ", ".join(_code(e) for e in spec["edges"]) + "]")
    return f"{name}({', '.join(args)})"


class TransformList:
    """The transforms of the plan being built, over the features it has chosen."""

    def __init__(self) -> None:
        self.choices: Choices | None = None
        self.features: tuple[str, ...] = ()
        self.transforms: list[Transform] = []

    def reset(self, choices: Choices | None) -> None:
        """Another table (or its schemas read again): no transform is kept."""
        self.choices = choices
        self.features = ()
        self.transforms = []

    # --- what is offered ----------------------------------------------------------------
    def _kind(self, name: str) -> str:
        return "" if self.choices is None else self.choices.kinds.get(name, "")

    def _with(self, key: str) -> set[str]:
        """Chosen features that already have a transform of ``key`` (``impute`` for any
        strategy)."""
        found: set[str] = set()
        for t in self.transforms:
            strategy = t.to_spec().get("strategy")
            if key in (t.name, transform_key(t.name, strategy)):
                found.update(t.columns or self.features)
        return found

    def offered(self, transform: str, strategy: str | None = None) -> tuple[str, ...]:
        """The chosen features ``transform`` may take now: those it fits by their kind and
        that have no such transform yet (a column is imputed once, indicated once, and
        bucketized last)."""
        if self.choices is None:
            return ()
        key = transform_key(transform, strategy)
        bucketized = self._with("bucketize")
        fitting = set(self.choices.fitting(transform, strategy, self.features))
        if key == "impute:most_frequent":
            fitting |= bucketized  # a bucketized number has levels
        if key in _BEFORE_BUCKETS:
            fitting -= bucketized
        if transform in ("impute", "missing_indicator"):
            fitting -= self._with(transform)
        return tuple(f for f in self.features if f in fitting)

    def settings_of(self, transform: str, strategy: str | None = None) -> tuple[str, ...]:
        """The settings the editor asks for ``transform``: ``lower``, ``upper``, ``edges``,
        ``strategy``, ``fill_value``."""
        return SETTINGS.get(transform_key(transform, strategy), ())

    def note(self, transform: str, strategy: str | None = None) -> str:
        """What ``transform`` fits, and why a chosen feature is not offered for it."""
        key = transform_key(transform, strategy)
        title = f"impute({strategy!r})" if transform == "impute" else f"{transform}()"
        kinds = fitting_kinds(transform, strategy)
        said = f"{title} fits {', '.join(kinds)} columns"
        if self.choices is not None and key == "impute:median":
            unbounded = [
                f
                for f in self.choices.fitting(transform, "mean", self.features)
                if f not in self.choices.bounds
            ]
            if unbounded:
                said += (
                    " whose range every owner publishes (the median is read off a pooled "
                    f"histogram over it); none is published for {', '.join(unbounded)}"
                )
        if not self.offered(transform, strategy):
            said += "; no chosen feature can take it now"
        return said + "."

    # --- reading the editor ---------------------------------------------------------------
    def build(
        self,
        transform: str,
        columns: Sequence[str],
        *,
        strategy: str = "mean",
        lower: str = "",
        upper: str = "",
        edges: str = "",
        fill_value: str = "",
    ) -> Transform:
        """The transform the editor's settings describe (texts as typed); :class:`PlanError`
        saying what is wrong."""
        columns = tuple(columns)
        if not columns:
            raise PlanError(f"{transform}(): choose the column(s) it applies to")
        offered = self.offered(transform, strategy)
        for name in columns:
            if name not in offered:
                raise PlanError(
                    f"{transform}() cannot take column {name!r} "
                    f"({self._kind(name) or 'not a feature'}): {self.note(transform, strategy)}"
                )
        spec: dict[str, Any] = {"transform": transform, "columns": list(columns)}
        if transform == "clip":
            spec["lower"] = _optional_number("lower", lower)
            spec["upper"] = _optional_number("upper", upper)
        elif transform == "bucketize":
            spec["edges"] = _numbers("edges", edges)
        elif transform == "impute":
            spec["strategy"] = strategy
            spec["fill_value"] = (
                self._fill_value(columns, fill_value) if strategy == "constant" else None
            )
        return Transform.from_spec(spec)

    def _fill_value(self, columns: Sequence[str], text: str) -> Any:
        """A constant fill as the columns hold it: one of the published categories of
        categorical columns (matched by its text), a number otherwise."""
        text = str(text).strip()
        if not text:
            raise PlanError("impute('constant'): give the fill value")
        categorical = [c for c in columns if self._kind(c) == "categorical"]
        if categorical and len(categorical) != len(columns):
            raise PlanError(
                "impute('constant'): a fill value is a category for categorical columns and a "
                "number for the others; add one transform for each"
            )
        if not categorical:
            return _number("fill_value", text)
        assert self.choices is not None
        found = []
        for name in categorical:
            published = self.choices.categories.get(name, ())
            match = [c for c in published if text in (str(c), category_text(c))]
            if not match:
                raise PlanError(
                    f"impute('constant'): {text!r} is not one of the categories of {name!r} "
                    f"({', '.join(map(str, published))})"
                )
            found.append(match[0])
        if len({repr(v) for v in found}) > 1:
            raise PlanError("impute('constant'): the columns hold that category differently")
        return found[0]

    # --- changing the list ----------------------------------------------------------------
    def _check(self, transforms: Sequence[Transform]) -> None:
        """The plan's own design over the chosen features refuses what does not fit."""
        categories = {} if self.choices is None else self.choices.categories
        Design(
            self.features,
            categories={f: categories[f] for f in self.features if self._kind(f) == "categorical"},
            transforms=tuple(transforms),
        )

    def add(self, transform: str, columns: Sequence[str], **settings: str) -> Transform:
        """Add the transform the editor describes (see :meth:`build`); returns it."""
        found = self.build(transform, columns, **settings)
        self._check([*self.transforms, found])
        self.transforms.append(found)
        return found

    def remove(self, index: int) -> Transform:
        return self.transforms.pop(index)

    def replace(self, transforms: Iterable[Any]) -> None:
        """The list set from code (``builder.set(transforms=[...])``): every column named
        must be a chosen feature of a kind the transform fits."""
        if isinstance(transforms, Transform | str) or not isinstance(transforms, Iterable):
            raise PlanError("transforms must be a list, e.g. [collab.features.log1p('x')]")
        found = [Transform.from_spec(t) for t in transforms]
        bucketized = {c for t in found if t.name == "bucketize" for c in t.columns}
        for t in found:
            strategy = t.to_spec().get("strategy")
            levels = transform_key(t.name, strategy) == "impute:most_frequent"
            for name in t.columns:
                if name not in self.features:
                    raise PlanError(
                        f"transform {describe(t)} names {name!r}, which is not a chosen feature "
                        f"({', '.join(self.features) or 'none'})"
                    )
                fit = self.choices is None or self.choices.fitting(t.name, strategy, (name,))
                if not fit and not (levels and name in bucketized):
                    raise PlanError(
                        f"transform {describe(t)} does not fit column {name!r} "
                        f"({self._kind(name)}): {self.note(t.name, strategy)}"
                    )
        self._check(found)
        self.transforms = found

    def follow(self, features: Sequence[str]) -> list[Transform]:
        """Keep the transforms in step with the chosen ``features``: a column no longer
        chosen leaves every transform, and a transform left without columns is dropped
        (returned)."""
        self.features = tuple(features)
        kept, dropped = [], []
        for t in self.transforms:
            if not t.columns or all(c in self.features for c in t.columns):
                kept.append(t)
                continue
            columns = [c for c in t.columns if c in self.features]
            if not columns:
                dropped.append(t)
                continue
            kept.append(Transform.from_spec({**t.to_spec(), "columns": columns}))
        self.transforms = kept
        return dropped

    def specs(self) -> list[dict[str, Any]]:
        return [t.to_spec() for t in self.transforms]

    def rows(self) -> list[str]:
        """Each transform as code writes it, in order."""
        return [describe(t) for t in self.transforms]
