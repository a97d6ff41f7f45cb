"""A family's own settings, described from its dataclass fields and its docstring, so that
widgets offer each family's settings without repeating them."""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import MISSING, fields
from typing import Any

COMMON = ("table", "features", "label", "secure_aggregation", "secure_threshold", "dp")


def _doc_entries(cls: type) -> dict[str, str]:
    """``name -> first sentence`` from the numpydoc ``Parameters`` sections of ``cls`` and
    its bases."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        doc = inspect.getdoc(klass) or ""
        if "Parameters\n----------" not in doc:
            continue
        body = doc.split("Parameters\n----------", 1)[1]
        current: list[str] = []
        text: list[str] = []
        for line in body.splitlines():
            if line and not line.startswith(" "):
                if re.match(r"^[A-Za-z_][\w, ]*$", line):
                    for name in current:
                        found[name] = " ".join(text).strip()
                    current, text = [n.strip() for n in line.split(",")], []
                    continue
                break
            text.append(line.strip())
        for name in current:
            found[name] = " ".join(text).strip()
    return {k: v for k, v in found.items() if v}


def _kind(annotation: Any, default: Any) -> str:
    text = str(annotation)
    if text.startswith("bool") or isinstance(default, bool):
        return "bool"
    if "tuple[int" in text:
        return "ints"
    if "tuple[float" in text:
        return "numbers"
    if text.startswith("int"):
        return "int"
    if text.startswith("float"):
        return "float"
    return "text"


def describe_settings(cls: type) -> list[dict[str, Any]]:
    """One entry per setting a family adds to the common ones: ``name``, ``kind`` (``int``,
    ``float``, ``bool``, ``text``, ``ints``, ``numbers``), ``default``, ``optional`` (whether
    ``None`` is allowed), ``choices`` (for text settings with fixed values) and ``help``."""
    hints = typing.get_type_hints(cls)
    docs = _doc_entries(cls)
    out = []
    for f in fields(cls):
        if f.name in COMMON:
            continue
        default = f.default if f.default is not MISSING else None
        annotation = hints.get(f.name, f.type)
        choices = getattr(cls, "CHOICES", {}).get(f.name)
        out.append(
            {
                "name": f.name,
                "kind": _kind(annotation, default),
                "default": list(default) if isinstance(default, tuple) else default,
                "optional": "None" in str(annotation),
                "choices": list(choices) if choices else None,
                "help": docs.get(f.name, ""),
            }
        )
    return out
