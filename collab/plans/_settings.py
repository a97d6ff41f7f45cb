"""A family's own settings, described from its parameter table (:mod:`._parameters`), so that
widgets offer each family's settings without repeating them."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ._parameters import COMMON, default_of, parameters_of


def describe_settings(cls: type) -> list[dict[str, Any]]:
    """One entry per setting a family adds to the common ones, in the order of its fields:
    ``name``, ``kind`` (``int``, ``float``, ``bool``, ``text``, ``ints``, ``numbers``,
    ``mapping``), ``default``, ``optional`` (whether ``None`` is allowed), ``choices`` (for
    text settings with fixed values), ``low`` and ``high`` (a number's range, or ``None``),
    ``with_dp`` (``{"value": v}`` when a DP plan fixes it to ``v``, else ``None``) and
    ``help``."""
    table = parameters_of(cls)
    out = []
    for f in fields(cls):
        param = table.get(f.name)
        if f.name in COMMON or param is None:
            continue
        default = default_of(cls, f.name)
        out.append(
            {
                "name": f.name,
                "kind": param.kind,
                "default": list(default) if isinstance(default, tuple) else default,
                "optional": param.optional,
                "choices": list(param.choices) if param.choices else None,
                "low": param.low,
                "high": param.high,
                "with_dp": {"value": param.with_dp} if param.fixed_by_dp else None,
                "help": param.help,
            }
        )
    return out
