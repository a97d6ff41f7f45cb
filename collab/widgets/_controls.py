"""One control per setting a plan family describes (``Plan.settings()``): the plan builder
builds its settings box from these, so a family's settings are never repeated by hand.

``int`` settings are a ``BoundedIntText`` within the family's range (an ``IntSlider`` when
the owners' policies bound them), ``float`` a ``FloatText`` (bounded when the family gives
both ends of its range), ``bool`` a ``Checkbox``, text with ``choices`` a ``Dropdown``; lists
(``ints``, ``numbers``), free text and every optional setting are a ``Text`` box, where
numbers are separated by commas and an empty box is ``None``. A value set from code is
checked by the family's own parameter check first (the same refusal the plan gives).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
from traitlets import TraitError

from .._errors import PlanError, PolicyViolation

NONE_TEXT = "(none)"
LARGEST_INT = 2**31 - 1


def kind_of(setting: Mapping[str, Any]) -> str:
    """The setting's kind; a plain ``text`` setting whose default is a number is that number's
    kind (how an annotation that names the bare type is described)."""
    kind = str(setting.get("kind") or "text")
    default = setting.get("default")
    if kind == "text" and not setting.get("choices") and not isinstance(default, bool):
        if isinstance(default, int):
            return "int"
        if isinstance(default, float):
            return "float"
    return kind


def plain_help(text: Any) -> str:
    """A docstring's sentence without its reStructuredText markup."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", str(text or ""))
    return text.replace("``", "")


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def text_of(value: Any) -> str:
    """What a text box shows for ``value``: lists comma-separated, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_number_text(v) for v in value)
    return _number_text(value)


def _parse_number(name: str, text: str, whole: bool) -> int | float:
    try:
        return int(text)
    except ValueError:
        if whole:
            raise PlanError(f"{name} must be a whole number, not {text!r}") from None
    try:
        return float(text)
    except ValueError:
        raise PlanError(f"{name} must be a number, not {text!r}") from None


class SettingControl:
    """A widget for one family setting, read and written as the plan's own value."""

    def __init__(
        self,
        setting: Mapping[str, Any],
        *,
        style: Mapping[str, str] | None = None,
        width: str | None = None,
        bounds: tuple[int, int] | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> None:
        self.name = str(setting["name"])
        self.kind = kind_of(setting)
        self.optional = bool(setting.get("optional"))
        self.choices: Sequence[Any] | None = setting.get("choices") or None
        self.default = setting.get("default")
        self.bounds = bounds
        self.check = check
        self.with_dp: Mapping[str, Any] | None = setting.get("with_dp")
        low, high = setting.get("low"), setting.get("high")
        options: dict[str, Any] = {
            "description": self.name.replace("_", " ").capitalize(),
            "style": dict(style or {}),
            "tooltip": plain_help(setting.get("help")),
        }
        self.widget: widgets.ValueWidget
        if self.kind == "bool":
            self.widget = widgets.Checkbox(value=bool(self.default), indent=False, **options)
        elif self.choices:
            values = [(str(c), c) for c in self.choices]
            if self.optional:
                values.insert(0, (NONE_TEXT, None))
            self.widget = widgets.Dropdown(options=values, value=self.default, **options)
        elif self.kind == "int" and not self.optional and bounds is not None:
            low, high = bounds
            self.widget = widgets.IntSlider(
                value=min(max(int(self.default or low), low), high),
                min=low,
                max=high,
                layout=widgets.Layout(width=width) if width else widgets.Layout(),
                **options,
            )
        elif self.kind == "int" and not self.optional:
            self.widget = widgets.BoundedIntText(
                value=int(self.default or 0),
                min=int(low) if low is not None else -LARGEST_INT,
                max=int(high) if high is not None else LARGEST_INT,
                **options,
            )
        elif self.kind == "float" and not self.optional and low is not None and high is not None:
            self.widget = widgets.BoundedFloatText(
                value=float(self.default or 0.0), min=low, max=high, **options
            )
        elif self.kind == "float" and not self.optional:
            self.widget = widgets.FloatText(value=float(self.default or 0.0), **options)
        else:
            self.widget = widgets.Text(
                value=text_of(self.default), placeholder=self._placeholder(), **options
            )
        self.widget.add_class(f"collab-setting-{self.name.replace('_', '-')}")

    def _placeholder(self) -> str:
        what = {
            "ints": "whole numbers, comma-separated",
            "numbers": "numbers, comma-separated",
            "int": "a whole number",
            "float": "a number",
        }.get(self.kind, "")
        if self.optional:
            return f"{what}; empty: None" if what else "empty: None"
        return what

    @property
    def is_text(self) -> bool:
        return isinstance(self.widget, widgets.Text)

    @property
    def value(self) -> Any:
        """The setting's value for the plan (raises :class:`PlanError` if it cannot be read)."""
        if not self.is_text:
            return self.widget.value
        text = str(self.widget.value).strip()
        if not text:
            if self.optional:
                return None
            if self.kind == "text":
                return ""
            raise PlanError(f"{self.name} needs a value")
        if self.kind in ("int", "float"):
            return _parse_number(self.name, text, self.kind == "int")
        if self.kind in ("ints", "numbers"):
            parts = [p.strip() for p in text.strip("[]()").split(",") if p.strip()]
            return tuple(_parse_number(self.name, p, self.kind == "ints") for p in parts)
        return text

    def set(self, value: Any) -> None:
        """Show ``value`` (as code would pass it); refuses what the control cannot hold."""
        if self.bounds is not None and isinstance(value, int) and value > self.bounds[1]:
            raise PolicyViolation(
                f"{value} {self.name.replace('_', ' ')} is more than a lake allows "
                f"({self.bounds[1]})"
            )
        if self.check is not None:
            self.check(value)  # the family's refusal, before a bounded box would clamp it
        try:
            if self.is_text:
                self.widget.value = text_of(value)
            else:
                if value is None and not self.optional:
                    raise PlanError(f"{self.name} cannot be None")
                self.widget.value = value
        except TraitError as exc:
            raise PlanError(f"{self.name} cannot be {value!r} ({exc})") from None

    @property
    def changed(self) -> bool:
        """Whether the control holds something else than the family's default."""
        try:
            value = self.value
        except PlanError:
            return True
        default = self.default
        if isinstance(default, list):
            default = tuple(default)
        return value != default
