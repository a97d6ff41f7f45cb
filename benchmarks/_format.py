"""How the report writes numbers, and what its parts (targets, tables, plots) share: one place,
so every table formats a value alike."""

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


# What the report's parts share: the margin of a target, the parts of a round, the plots.

MARGIN_POINTS = 0.5

# The parts a round's time is split into, in the order the table and the plot show them.
ROUND_PARTS = (
    "step",
    "crypto_lake",
    "crypto_coordinator",
    "dp_noise",
    "transport",
    "bookkeeping",
    "aggregation",
)


PLOTS = (
    "accuracy_vs_time.png",
    "round_split.png",
    "lakes_scaling.png",
    "time_to_accuracy.png",
    "families.png",
    "server_optimisers.png",
)


def cached_run(entry: dict[str, Any]) -> dict[str, Any] | None:
    """A workload entry's run with its rows cached (else its first run)."""
    runs = entry.get("collab", [])
    warm = [r for r in runs if "rows cached" in r["label"]]
    return warm[0] if warm else (runs[0] if runs else None)


def runs_with_splits(results: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """Every collab run with a round split, labelled as the table and the plot show it."""
    out = []
    if results.get("demo"):
        for run in results["demo"]["collab"]:
            out.append((f"breast cancer: {run['label']}", run["round_split"]))
    for group in ("sizes", "large"):
        for key, entry in (results.get(group) or {}).items():
            for run in entry["collab"]:
                out.append((f"{int(key):,} rows: {run['label']}", run["round_split"]))
    for key, entry in (results.get("lakes") or {}).items():
        if key.isdigit():
            out.append((f"{key} lakes, shared machine", entry["split_shared_machine"]))
            out.append((f"{key} lakes, calls alone", entry["split_calls_alone"]))
    for key, entry in (results.get("features") or {}).items():
        out.append((f"{int(key):,} features", entry["collab"][0]["round_split"]))
    for entry in (results.get("families") or {}).values():
        for run in entry["collab"]:
            out.append(
                (f"{entry['family']}, {entry['rows']:,} rows: {run['label']}", run["round_split"])
            )
    return out


METRIC_NAMES = {"accuracy": "accuracy %", "rmse": "RMSE (lower is better)"}


def run_labelled(entry: dict[str, Any], words: str) -> dict[str, Any] | None:
    """The first of a workload entry's collab runs whose label has ``words``."""
    runs = [r for r in entry["collab"] if words in r["label"]]
    return runs[0] if runs else None


def time_to_mllib(entry: dict[str, Any]) -> dict[str, float | None]:
    """collab's seconds to MLlib's metric as a multiple of MLlib's fit: with the rows kept
    (against the fit on cached rows) and from the first job (against reading, caching and
    fitting)."""
    mllib = entry["mllib"]
    out: dict[str, float | None] = {"rows_cached": None, "first_job": None}
    for key, words, base in (
        ("rows_cached", "rows cached", mllib["fit_seconds"]),
        ("first_job", "first job", mllib["fit_seconds"] + mllib["load_seconds"]),
    ):
        run = run_labelled(entry, words)
        seconds = run.get("seconds_to_target") if run else None
        out[key] = None if seconds is None else seconds / base
    return out
