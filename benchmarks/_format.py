"""How the report writes numbers: one place, so every table formats a value alike."""

from __future__ import annotations

import math
from typing import Any


def fmt(value: Any, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals; a dash for nothing or NaN."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.{digits}f}"
    return str(value)


def pct(value: float | None) -> str:
    """A share as a percentage with two decimals."""
    return "–" if value is None else f"{100 * value:.2f}"


def mib(value: float | None) -> str:
    """Bytes as whole MiB."""
    return "–" if value is None else f"{value / 2**20:,.0f}"


def metric_value(metric: str, value: float | None, digits: int = 3) -> str:
    """A test metric as the report shows it: accuracy in percent, an RMSE with ``digits``."""
    return pct(value) if metric == "accuracy" else fmt(value, digits)
