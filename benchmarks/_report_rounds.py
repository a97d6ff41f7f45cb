"""The round_cost and trees workloads in results.md: their targets and tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._format import fmt, metric_value, pct

FAMILIES = (("logistic_regression", "logistic regression"), ("trees", "trees"))
SETTINGS = (("in_process", "3 in-process lakes"), ("served", "3 lakes served on loopback"))

Add = Callable[[str, float | None, float, str, str], None]


def round_cost_targets(cost: dict[str, Any] | None, add: Add) -> None:
    """Fixed cost per round after the round channel: in-process, served per lake, and against
    Flower's simulation and deployment engines (carried figures)."""
    if not cost:
        return
    flower_sim = cost["flower_simulation_round"]
    flower_low = cost["flower_deployment_round"][0]
    for family, name in FAMILIES:
        inproc = (cost.get("in_process") or {}).get(f"{family}/after")
        if inproc:
            median = inproc["fixed_median"]
            add(
                f"round fixed cost, 3 in-process lakes, secure aggregation ({name})",
                median,
                0.1,
                "s",
                "median over the job's rounds of round wall time - slowest lake's audited "
                f"step (p90 {fmt(inproc['fixed_p90'], 3)} s); round channel on",
            )
            add(
                f"round fixed cost / Flower 1.42 simulation round ({name}, in-process)",
                median / flower_sim,
                1.0,
                "x",
                f"median fixed cost / {flower_sim} s (Flower measured earlier on this machine, "
                "FACTS.md; not re-run)",
            )
            add(
                f"round fixed cost / Flower 1.42 deployment round ({name}, in-process)",
                median / flower_low,
                0.02,
                "x",
                f"median fixed cost / {flower_low} s (the low end of Flower's 6.2-9.3 s, "
                "FACTS.md; 0.02 = 50x faster)",
            )
        served = (cost.get("served") or {}).get(f"{family}/after")
        if served:
            lakes = cost["served"]["lakes"]
            median = served["fixed_median"]
            add(
                f"round fixed cost per lake, {lakes} lakes served on loopback ({name})",
                median / lakes,
                0.1,
                "s",
                f"median fixed cost of a round / {lakes} lakes (undivided: "
                f"{fmt(median, 3)} s, p90 {fmt(served['fixed_p90'], 3)} s); round channel on",
            )
            add(
                f"round fixed cost / Flower 1.42 deployment round ({name}, served)",
                median / flower_low,
                0.02,
                "x",
                f"undivided median fixed cost / {flower_low} s (FACTS.md; 0.02 = 50x faster)",
            )


def _data_name(key: str) -> str:
    if key == "demo":
        return "demo (breast cancer)"
    if key.startswith("regression"):
        return "synthetic steps (regression)"
    return "synthetic thresholds"


def _vs_mllib(metric: str, value: float, mllib: float) -> str:
    """Accuracy points above MLlib's, or RMSE as a ratio to MLlib's."""
    if metric == "accuracy":
        return fmt(100 * (value - mllib))
    return f"{fmt(value / mllib, 4)}x"


def trees_targets(trees: dict[str, Any] | None, add: Add) -> None:
    """Trees' test accuracy within 1 point of scikit-learn's on the same pooled rows, and a
    regression's RMSE within 2% of scikit-learn's."""
    for key, entry in (trees or {}).items():
        size = "demo data" if key == "demo" else f"{entry['rows']:,} rows"
        shape = (
            f"{entry['settings']['n_trees']} trees of depth {entry['settings']['max_depth']}, "
            "same pooled rows, secure aggregation"
        )
        if entry.get("metric", "accuracy") == "accuracy":
            add(
                f"trees accuracy gap to scikit-learn HistGradientBoosting ({size})",
                -entry["points_vs_sklearn"],
                1.0,
                "points",
                f"scikit-learn - collab test accuracy, {shape}",
            )
            if key != "demo" and "job_to_mllib_read_fit_ratio" in entry:
                load = entry["load_average"]["start"][0]
                add(
                    f"trees whole job vs MLlib GBTClassifier read + fit ({size})",
                    entry["job_to_mllib_read_fit_ratio"],
                    1.0,
                    "x",
                    f"collab job from its first call to its model / MLlib reading, caching and "
                    f"fitting the pooled rows, same run, {shape} (load average {load:.1f})",
                )
                passes = entry["numpy_histogram_pass"]
                add(
                    f"trees level round vs one numpy histogram pass ({size})",
                    entry["level_round_to_numpy_pass_ratio"],
                    3.0,
                    "x",
                    "median level round (wall, 3 lakes, secure aggregation) / one bincount of "
                    "gradient, hessian and count per node x input x bin over kept uint8 codes "
                    f"of the same {passes['rows']:,} x {passes['inputs']} rows in memory "
                    f"({passes['nodes']} nodes)",
                )
        else:
            add(
                f"trees RMSE / scikit-learn HistGradientBoostingRegressor ({size})",
                entry["rmse_ratio_vs_sklearn"],
                1.02,
                "x",
                f"collab / scikit-learn test RMSE, {shape}",
            )


def round_cost_lines(cost: dict[str, Any] | None) -> list[str]:
    """Per setting and family: rounds, median round, median slowest step, fixed cost median
    and p90 before and after the round channel."""
    if not cost:
        return []
    trees = cost["trees"]
    lines = [
        "",
        "## A round's fixed cost, before and after the round channel",
        "",
        "Fixed cost = the coordinator's round wall time (`job.history` `seconds`, with the "
        "round's unmask exchange) - the slowest lake's step, read from each lake's audit log "
        "(the `seconds` of the job's `round` release for that round: the lake's Spark pass and "
        "the masking of its sums). The unmask exchange is secure aggregation's crypto and counts "
        "as fixed cost. Before: `fed.round_channel = False` (every round over PySyft); after: "
        "the round channel (a function call in-process, HTTP on the Datasite's port when "
        "served). The demo's breast-cancer data over 3 hospitals, secure aggregation on: "
        f"logistic regression {cost['lr_rounds']} rounds (5 local epochs), trees "
        f"{trees['n_trees']} trees of depth {trees['max_depth']}; both settings and both routes "
        "in one run, after one untimed warm-up job. Per lake (served) = fixed cost / 3. "
        f"Flower 1.42 for reference, measured earlier on this machine in its own venv (FACTS.md,"
        f" not re-run: it cannot be installed beside syft 0.9.5): simulation "
        f"{cost['flower_simulation_round']} s a round, deployment "
        f"{cost['flower_deployment_round'][0]}-{cost['flower_deployment_round'][1]} s.",
        "",
        "| lakes | plan | route | rounds | round median (s) | slowest step median (s) | "
        "fixed median (s) | fixed p90 (s) | fixed per lake (s) | rounds/tree | accuracy % |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for setting, where in SETTINGS:
        entry = cost.get(setting)
        if not entry:
            continue
        for family, name in FAMILIES:
            for when in ("before", "after"):
                c = entry.get(f"{family}/{when}")
                if not c:
                    continue
                route = "PySyft" if when == "before" else "round channel"
                lines.append(
                    f"| {where} | {name} | {route} | {c['rounds']} | "
                    f"{fmt(c['round_median'], 3)} | {fmt(c['step_median'], 3)} | "
                    f"{fmt(c['fixed_median'], 3)} | {fmt(c['fixed_p90'], 3)} | "
                    f"{fmt(c['fixed_median'] / entry['lakes'], 3)} | "
                    f"{fmt(c.get('rounds_per_tree'))} | {pct(c.get('accuracy'))} |"
                )
    return lines


def trees_lines(trees: dict[str, Any] | None) -> list[str]:
    """Trees against MLlib's GBTClassifier and scikit-learn's HistGradientBoosting."""
    if not trees:
        return []
    lines = [
        "",
        "## Gradient-boosted trees vs MLlib and scikit-learn",
        "",
        "collab's `GradientBoostedTrees` across 3 in-process lakes (secure aggregation on, "
        "round channel on, bin edges from the lakes' federated quantile sketch: the tables "
        "publish no bounds) against MLlib `GBTClassifier`/`GBTRegressor` (maxIter, maxDepth, "
        "stepSize, maxBins) and scikit-learn `HistGradientBoostingClassifier`/`Regressor` "
        "(max_iter, max_depth, learning_rate, max_bins, l2_regularization, no early stopping, "
        "no leaf cap) on the same pooled rows, same settings (learning rate 0.1, 32 bins, l2 "
        "1). Time to MLlib's metric: from the job's first call until its model is within 0.5 "
        "points of MLlib's accuracy (0.5% of its RMSE), as a multiple of MLlib's pooled fit "
        "time. Δ vs MLlib: accuracy points, or RMSE as a ratio to MLlib's. MLlib is not the "
        "same algorithm at the same settings: its first tree is fitted to the label at weight "
        "1 (no shrinkage), and under squared error it fits -2x the residual, so its step is "
        "twice the learning rate; at 50 trees it is further along. collab and scikit-learn "
        "shrink every tree and start from the mean (log-odds).",
        "",
        "| data | rows (per lake) | trees x depth | method | accuracy % or RMSE | Δ vs MLlib | "
        "fit / time to MLlib's metric (s) | rounds/tree | s/round |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, e in trees.items():
        data = _data_name(key)
        metric = e.get("metric", "accuracy")
        rows = f"{e['rows']:,} ({', '.join(f'{r:,}' for r in e['lake_rows'])})"
        shape = f"{e['settings']['n_trees']} x {e['settings']['max_depth']}"
        target = e["mllib"][metric]
        for name in ("mllib", "sklearn"):
            c = e[name]
            lines.append(
                f"| {data} | {rows} | {shape} | {name} (pooled) | "
                f"{metric_value(metric, c[metric], 4)} | "
                f"{_vs_mllib(metric, c[metric], target)} | {fmt(c['fit_seconds'])} | – | – |"
            )
        run = e["collab"]
        reached = run.get("seconds_to_target")
        ratio = e.get("time_to_mllib_ratio")
        to = "not reached" if reached is None else f"{fmt(reached)} ({fmt(ratio)}x MLlib fit)"
        lines.append(
            f"| {data} | {rows} | {shape} | collab, 3 lakes | "
            f"{metric_value(metric, run[metric], 4)} | "
            f"{_vs_mllib(metric, run[metric], target)} | {to}; all {run['rounds']} rounds "
            f"{fmt(run['total_seconds'])} | {fmt(e['rounds_per_tree'])} | "
            f"{fmt(e['round_seconds_median'], 3)} |"
        )
    for key, e in trees.items():
        if "job_to_mllib_read_fit_ratio" not in e:
            continue
        passes, load = e["numpy_histogram_pass"], e["load_average"]
        lines += [
            "",
            f"{_data_name(key)}, {e['rows']:,} rows: the whole job {fmt(e['job_seconds'])} s "
            f"against MLlib's read and fit {fmt(e['mllib_read_fit_seconds'])} s "
            f"({fmt(e['job_to_mllib_read_fit_ratio'])}x); a level round (median) "
            f"{fmt(e['level_round_seconds_median'], 3)} s against one numpy histogram pass over "
            f"the same {passes['rows']:,} x {passes['inputs']} rows in memory "
            f"{fmt(passes['seconds'], 3)} s ({fmt(e['level_round_to_numpy_pass_ratio'])}x). "
            f"Load average {load['start'][0]:.1f} at the start, {load['end'][0]:.1f} at the end.",
        ]
    return lines


def mlp_step_lines(step: dict[str, Any] | None) -> list[str]:
    """A perceptron's local step against one numpy forward and backward pass."""
    if not step:
        return []
    load = step["load_average"]
    return [
        "",
        "## A perceptron's step vs one numpy pass",
        "",
        f"`MLPClassifier` (hidden {step['hidden']}, batches of {step['batch_size']}: "
        f"{step['batches']:,} mini-batch updates) over {step['rows']:,} x {step['features']} "
        "standardised rows in memory, one epoch: the lake's step without Spark. Against one "
        "full-batch forward and backward pass in numpy over the same rows. Medians; load "
        f"average {load['start'][0]:.1f} at the start, {load['end'][0]:.1f} at the end.",
        "",
        "| step (s) | numpy pass (s) | step / pass |",
        "|---|---|---|",
        f"| {fmt(step['step_seconds'], 3)} | {fmt(step['numpy_pass_seconds'], 3)} | "
        f"{fmt(step['ratio_step_to_numpy_pass'])} |",
    ]


def demo_kernel_lines(kernel: dict[str, Any] | None) -> list[str]:
    """The peak memory of the demo notebook's kernel."""
    if not kernel:
        return []
    parts = kernel["peak_parts"]

    def mib(value: float | None) -> str:
        return "–" if value is None else f"{value / 2**20:,.0f}"

    return [
        "",
        f"## The demo kernel's peak memory ({kernel['notebook']})",
        "",
        "The notebook run by `nbclient` in a kernel of its own (its three lakes in that "
        "kernel), sampled every 0.5 s: PSS of the kernel, its Spark JVM and Spark's Python "
        "workers, plus the kept rows it maps in /dev/shm (pages of them a process maps count "
        "in its PSS too, so the total is an upper bound). "
        f"The notebook ran {fmt(kernel['seconds'])} s. MiB are 2^20 bytes; the target, 1 GB "
        "(10^9 bytes), is 953.7 MiB.",
        "",
        "| peak total (MiB) | kernel | Spark JVM | Spark Python workers | kept rows (MiB) |",
        "|---|---|---|---|---|",
        f"| {mib(kernel['peak_total_bytes'])} | {mib(parts.get('python'))} | "
        f"{mib(parts.get('jvm'))} | {mib(parts.get('spark_python_workers'))} | "
        f"{mib(parts.get('kept_rows_shm'))} |",
    ]
