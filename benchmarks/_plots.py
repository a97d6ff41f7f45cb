"""The PNG plots of the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._format import (
    MARGIN_POINTS,
    ROUND_PARTS,
    cached_run,
    runs_with_splits,
)


def _curves_and_yardsticks(ax: Any, entry: dict[str, Any], metric: str) -> None:
    """collab's runs as the test metric against seconds since the job started, and MLlib's
    and scikit-learn's pooled fits as points (accuracy in %)."""
    unit = 100.0 if metric == "accuracy" else 1.0
    for run in entry["collab"]:
        ax.plot(
            run["round_end"],
            [unit * v for v in run[f"round_{metric}"]],
            marker="o",
            markersize=3,
            label=run["label"],
        )
    for name, marker, color in (("mllib", "s", "black"), ("sklearn", "^", "dimgrey")):
        c = entry[name]
        ax.scatter(
            [c["fit_seconds"]],
            [unit * c[metric]],
            marker=marker,
            s=60,
            color=color,
            zorder=5,
            label=f"{name} on pooled rows (fit)",
        )


def plots(out: Path, results: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    sizes = results.get("sizes") or {}
    if sizes:
        key = max(sizes, key=int)
        entry = sizes[key]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        _curves_and_yardsticks(ax, entry, "accuracy")
        target = 100 * entry["mllib"]["accuracy"]
        ax.axhspan(
            target - MARGIN_POINTS,
            target + MARGIN_POINTS,
            color="grey",
            alpha=0.2,
            label="MLlib ± 0.5 points",
        )
        low = min(100 * min(r["round_accuracy"] or [1]) for r in entry["collab"])
        ax.set_ylim(max(low - 1, 50), target + 2)
        ax.set_xlabel("seconds since the job started")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{int(key):,} rows over 3 lakes")
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        fig.savefig(out / "accuracy_vs_time.png", dpi=120)
        plt.close(fig)
        written.append("accuracy_vs_time.png")

    rows = runs_with_splits(results)
    if rows:
        keys = ROUND_PARTS
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
        left = [0.0] * len(rows)
        for k in keys:
            values = [split.get(k, 0.0) for _, split in rows]
            ax.barh(range(len(rows)), values, left=left, label=k)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([name for name, _ in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("seconds per round (lake-side parts: mean over lakes)")
        ax.legend(fontsize=7, ncol=4, loc="lower right")
        fig.tight_layout()
        fig.savefig(out / "round_split.png", dpi=120)
        plt.close(fig)
        written.append("round_split.png")

    lakes = {k: v for k, v in (results.get("lakes") or {}).items() if k.isdigit()}
    if lakes:
        ks = sorted(lakes, key=int)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(
            [int(k) for k in ks],
            [lakes[k]["round_seconds_own_machines"] for k in ks],
            marker="o",
            label="each lake on its own machine (calls timed alone)",
        )
        ax.plot(
            [int(k) for k in ks],
            [lakes[k]["round_seconds_shared_machine"] for k in ks],
            marker="s",
            label="all lakes on this 2-core machine",
        )
        ax.set_xlabel("lakes (same total rows)")
        ax.set_ylabel("seconds per round")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "lakes_scaling.png", dpi=120)
        plt.close(fig)
        written.append("lakes_scaling.png")

    entries = [e for g in ("sizes", "large") for e in (results.get(g) or {}).values()]
    if entries:
        entries.sort(key=lambda e: e["rows"])
        fig, ax = plt.subplots(figsize=(6, 4))
        xs = [e["rows"] for e in entries]
        ax.plot(xs, [e["mllib"]["fit_seconds"] for e in entries], marker="s", label="MLlib fit")
        ax.plot(
            xs, [e["sklearn"]["fit_seconds"] for e in entries], marker="^", label="scikit-learn fit"
        )
        collab_x, collab_y = [], []
        for e in entries:
            run = cached_run(e)
            est = e.get("full_stack_estimate")
            value = run.get("seconds_to_target") if run else None
            if run and run["transport"] != "pysyft" and est:
                value = est.get("seconds_to_target")
            if value is not None:
                collab_x.append(e["rows"])
                collab_y.append(value)
        ax.plot(collab_x, collab_y, marker="o", label="collab, to MLlib accuracy ± 0.5")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows (3 lakes)")
        ax.set_ylabel("seconds")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "time_to_accuracy.png", dpi=120)
        plt.close(fig)
        written.append("time_to_accuracy.png")

    fam = results.get("families") or {}
    if fam:
        largest = max(e["rows"] for e in fam.values())
        entries = [e for e in fam.values() if e["rows"] == largest]
        fig, axes = plt.subplots(1, len(entries), figsize=(4.5 * len(entries), 4), squeeze=False)
        for ax, entry in zip(axes[0], entries, strict=True):
            metric = entry["metric"]
            _curves_and_yardsticks(ax, entry, metric)
            ax.set_xlabel("seconds since the job started")
            ax.set_ylabel("test accuracy (%)" if metric == "accuracy" else "test RMSE")
            ax.set_title(f"{entry['family']}, {entry['rows']:,} rows", fontsize=9)
            ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(out / "families.png", dpi=120)
        plt.close(fig)
        written.append("families.png")

    opt = results.get("server_optimisers") or {}
    if opt:
        fig, axes = plt.subplots(1, len(opt), figsize=(5.5 * len(opt), 4), squeeze=False)
        colors = {"sgd": "black", "adam": "tab:blue", "yogi": "tab:orange", "adagrad": "tab:green"}
        for ax, entry in zip(axes[0], opt.values(), strict=True):
            for run in entry["runs"]:
                values = run["round_accuracy"]
                rates = sorted(
                    r["server_learning_rate"]
                    for r in entry["runs"]
                    if r["server_optimizer"] == run["server_optimizer"]
                )
                style = ("-", "--", ":", "-.")[rates.index(run["server_learning_rate"]) % 4]
                ax.plot(
                    range(1, len(values) + 1),
                    [100 * v for v in values],
                    style,
                    color=colors.get(run["server_optimizer"]),
                    label=run["label"],
                )
            ax.axhline(
                100 * entry["sklearn"]["accuracy"],
                color="grey",
                alpha=0.5,
                label="scikit-learn, pooled",
            )
            ax.set_xlabel("rounds")
            ax.set_ylabel("test accuracy (%)")
            ax.set_title(f"{entry['dataset']}, skewed split over 3 hospitals", fontsize=9)
            ax.legend(fontsize=6, ncol=2)
        fig.tight_layout()
        fig.savefig(out / "server_optimisers.png", dpi=120)
        plt.close(fig)
        written.append("server_optimisers.png")
    return written
