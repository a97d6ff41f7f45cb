"""A family's own settings, described from its dataclass fields and its docstring, so that
widgets offer each family's settings without repeating them."""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import MISSING, fields
from typing import Any

COMMON = (
    "table",
    "features",
    "label",
    "secure_aggregation",
    "secure_threshold",
    "dp",
    "transforms",
    "encoding",
)


def _doc_entries(cls: type) -> dict[str, str]:
    """``name -> description`` from the numpydoc ``Parameters`` sections of ``cls`` and its
    bases. A base's own entry for a setting wins over a subclass's grouped entry
    (``rounds, local_epochs`` ... "see the base"), which only fills gaps."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        doc = inspect.getdoc(klass) or ""
        if "Parameters\n----------" not in doc:
            continue
        entries: list[tuple[list[str], list[str]]] = []
        for line in doc.split("Parameters\n----------", 1)[1].splitlines():
            if line and not line.startswith(" "):
                if not re.match(r"^[A-Za-z_][\w, ]*$", line):
                    break
                entries.append(([n.strip() for n in line.split(",")], []))
            elif entries:
                entries[-1][1].append(line.strip())
        for names, text in entries:
            description = " ".join(text).strip()
            for name in names:
                if description and (len(names) == 1 or name not in found):
                    found[name] = description
    return found


def _choices(cls: type) -> dict[str, tuple[str, ...]]:
    """``name -> allowed values`` of text settings, from ``CHOICES`` of ``cls`` and its bases."""
    found: dict[str, tuple[str, ...]] = {}
    for klass in reversed(cls.__mro__):
        found.update(vars(klass).get("CHOICES", {}))
    return found


def _kind(annotation: Any) -> tuple[str, bool]:
    """The widget kind of a setting's type, and whether ``None`` is allowed."""
    args = typing.get_args(annotation)
    optional = type(None) in args
    if optional:
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else annotation
    if annotation is bool:
        return "bool", optional
    if annotation is int:
        return "int", optional
    if annotation is float:
        return "float", optional
    if typing.get_origin(annotation) is tuple:
        inner = typing.get_args(annotation)[:1]
        return ("ints" if inner == (int,) else "numbers"), optional
    return "text", optional


def describe_settings(cls: type) -> list[dict[str, Any]]:
    """One entry per setting a family adds to the common ones: ``name``, ``kind`` (``int``,
    ``float``, ``bool``, ``text``, ``ints``, ``numbers``), ``default``, ``optional`` (whether
    ``None`` is allowed), ``choices`` (for text settings with fixed values) and ``help``."""
    from ._model import Model

    hints = typing.get_type_hints(cls, localns={"Model": Model})
    docs = _doc_entries(cls)
    out = []
    for f in fields(cls):
        if f.name in COMMON:
            continue
        default = f.default if f.default is not MISSING else None
        kind, optional = _kind(hints.get(f.name, f.type))
        choices = _choices(cls).get(f.name)
        out.append(
            {
                "name": f.name,
                "kind": kind,
                "default": list(default) if isinstance(default, tuple) else default,
                "optional": optional,
                "choices": list(choices) if choices else None,
                "help": docs.get(f.name, ""),
            }
        )
    return out
