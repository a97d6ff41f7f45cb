"""The results as Markdown (``results.md``), with the plots of ``_plots``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._format import (
    METRIC_NAMES,
    PLOTS,
    ROUND_PARTS,
    fmt,
    metric_value,
    mib,
    pct,
    run_labelled,
    runs_with_splits,
    time_to_mllib,
)
from ._plots import plots
from ._report_rounds import demo_kernel_lines, mlp_step_lines, round_cost_lines, trees_lines

# --- markdown ----------------------------------------------------------------------------------


def _accuracy_rows(group: str, entry: dict[str, Any]) -> list[str]:
    lines = []
    target = entry["mllib"]["accuracy"]
    label = f"{entry['rows']:,}"
    for name in ("mllib", "sklearn"):
        c = entry[name]
        lines.append(
            f"| {group} | {label} | {name} (pooled) | {pct(c['accuracy'])} | "
            f"{fmt(100 * (c['accuracy'] - target))} | {fmt(c['fit_seconds'])} "
            f"(+{fmt(c['load_seconds'])} load) | {c['iterations']} it. |"
        )
    for run in entry["collab"]:
        seconds = run.get("seconds_to_target")
        rounds = run.get("rounds_to_target")
        reached = f"{fmt(seconds)} ({rounds} rounds)" if seconds is not None else "not reached"
        lines.append(
            f"| {group} | {label} | {run['label']} [{run['transport']}] | "
            f"{pct(run['accuracy'])} | {fmt(100 * (run['accuracy'] - target))} | "
            f"{reached}; all {run['rounds']} rounds {fmt(run['total_seconds'])} | "
            f"{fmt(run['round_split'].get('round'))} s/round |"
        )
    est = entry.get("full_stack_estimate")
    if est and est.get("seconds_to_target") is not None:
        lines.append(
            f"| {group} | {label} | collab, estimate with PySyft + secure aggregation | – | – | "
            f"{fmt(est['seconds_to_target'])} (adds {fmt(est['per_round_overhead_seconds'])} "
            f"s/round and {fmt(est['setup_overhead_seconds'])} s set-up measured at "
            f"{est['reference_rows']:,} rows) | – |"
        )
    return lines


def _first_run_lines(run: dict[str, Any] | None) -> list[str]:
    """``python -m collab demo``'s own wall time and its parts."""
    if not run:
        return []
    parts = run["parts"]
    return [
        "",
        "## The demo as a newcomer runs it",
        "",
        f"`python -m collab demo --split iid --rounds {run['rounds']}` in its own process "
        f"(exit code {run['exit_code']}): {fmt(run['process_seconds'], 1)} s from the "
        f"command to its end, {fmt(run['demo_seconds'], 1)} s inside the demo.",
        "",
        "| part | seconds |",
        "|---|---|",
        *(f"| {name} | {fmt(seconds, 1)} |" for name, seconds in parts.items()),
    ]


def _split_row(name: str, split: dict[str, float]) -> str:
    keys = ("round", *ROUND_PARTS)
    return f"| {name} | " + " | ".join(fmt(split.get(k), 3) for k in keys) + " |"


def markdown(summary: dict[str, Any], results: dict[str, Any]) -> str:
    m = summary["machine"]
    lines = [
        "# collab benchmarks",
        "",
        f"Run on {m['date']}: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['java']}, Spark {m['spark']} (`local[{m['cores']}]`), numpy {m['numpy']}. "
        f"This run ({', '.join(summary['workloads'])}): "
        f"{summary['total_seconds'] / 60:.1f} min (`make bench`). Load average at "
        f"start {summary['load_average_start'][0]:.1f}, at end "
        f"{summary['load_average_end'][0]:.1f} (other work on the machine inflates times; "
        "ratios come from one process run, side by side).",
        "",
    ]
    carried = summary.get("carried") or []
    if carried:
        when = summary.get("measured", {})
        lines += [
            "Carried from earlier runs (not measured in this one): "
            + ", ".join(
                f"{name} ({when[name]['date']}, {when[name]['suite']} suite)" for name in carried
            )
            + ".",
            "",
        ]
    lines += [
        "How sizes were run: breast cancer, 100k and 1M rows, the lake-count, feature-count "
        "and model-family workloads go through the whole stack (in-process PySyft Datasites, "
        "approved requests, secure aggregation, Spark). 5M rows drives the same coordinator "
        "over the three lakes' phase handlers and engines directly (no PySyft, no masking) to "
        "fit the time budget; the per-round transport and privacy cost measured at 1M is added "
        "as an estimate. The local-step yardsticks time one lake's phase handler and engine "
        "directly on one 1M-row table, and so does the comparison of categories encoded in "
        "the lake with the owner's pre-encoded columns. A lake's memory is measured on a "
        "lake served over HTTP in its own process. The server-optimiser comparison runs the "
        "demo's hospitals as phase handlers over arrays in this process (secure aggregation "
        "on, no PySyft).",
        "",
        "## Targets",
        "",
        "| target | measured | limit | met | how |",
        "|---|---|---|---|---|",
    ]
    for t in summary["targets"]:
        met = {True: "yes", False: "**no**", None: "–"}[t["met"]]
        lines.append(
            f"| {t['target']} | {fmt(t['value'])} {t['unit']} | {t['limit']:g} {t['unit']} | "
            f"{met} | {t['how']} |"
        )
    missed = [t for t in summary["targets"] if t["met"] is False]
    if missed:
        lines += ["", "### Missed targets: why, and what would close them", ""]
        for t in missed:
            why = t.get("if_missed") or "not analysed yet"
            lines.append(f"- **{t['target']}** ({fmt(t['value'])} {t['unit']}): {why}")
    lines += [
        "",
        "## Accuracy and time",
        "",
        "Accuracy on held-out rows; Δ in points against MLlib; time to MLlib's accuracy (within "
        "0.5 points) counts from the job's start (key set-up, statistics, rounds; approvals "
        "excluded), MLlib's and scikit-learn's fit times exclude reading the data (shown as "
        "load).",
        "",
        "| workload | rows | method | accuracy % | Δ | seconds to target / fit | per round |",
        "|---|---|---|---|---|---|---|",
    ]
    if results.get("demo"):
        lines += _accuracy_rows("breast cancer, 3 lakes", results["demo"])
    for group in ("sizes", "large"):
        for entry in (results.get(group) or {}).values():
            lines += _accuracy_rows("synthetic, 20 features, 3 lakes", entry)
    lines += _first_run_lines(results.get("first_run"))
    lines += [
        "",
        "## Where a round's time goes (seconds, means over rounds after the first)",
        "",
        "step = the lake's Spark local step; crypto = masking, key agreement, shares, encoding "
        "(per lake, and in the coordinator); transport = PySyft calls outside the lake's runner "
        "(two calls a round with secure aggregation: the masked update, then the unmasking "
        "shares); bookkeeping = the lake's checks and records; aggregation = the coordinator "
        "outside the calls. Lake-side parts are means over lakes, which run concurrently.",
        "",
        "| run | round | step | crypto (lake) | crypto (coord.) | DP noise | transport | "
        "bookkeeping | aggregation |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in runs_with_splits(results):
        lines.append(_split_row(name, entry))
    yard = results.get("yardsticks")
    if yard:
        it = yard["mllib_iteration"]
        lines += [
            "",
            f"## A lake's local step (one table, {yard['rows']:,} x {yard['features']}, kept)",
            "",
            "| measure | seconds |",
            "|---|---|",
            "| first pass (reads Parquet, keeps the rows) | "
            f"{fmt(yard['first_pass_seconds'], 3)} |",
            f"| local step, full batch (1 epoch) | {fmt(yard['step_seconds']['full_batch'], 3)} |",
            f"| of which the plan's arithmetic (summed over tasks) | "
            f"{fmt(yard['step_compute_seconds']['full_batch'], 3)} |",
            f"| local step, mini-batches of {summary['suite']['batch_size']} (1 epoch) | "
            f"{fmt(yard['step_seconds']['mini_batch'], 3)} |",
            f"| MLlib, one more L-BFGS iteration (marginal) | {fmt(it['marginal_seconds'], 3)} |",
            f"| MLlib, fit time / iterations | {fmt(it['average_seconds'], 3)} |",
            f"| numpy, one gradient pass in memory | {fmt(yard['numpy_pass_seconds'], 4)} |",
        ]
    coding = results.get("encoding")
    if coding:
        lines += _encoding_lines(coding)
    lines += round_cost_lines(results.get("round_cost"))
    lines += trees_lines(results.get("trees"))
    lines += _stream_lines(results.get("streams"))
    lines += _survival_lines(results.get("survival"))
    lakes = results.get("lakes")
    if lakes:
        lines += [
            "",
            "## Lakes at fixed total rows",
            "",
            "Own machines: each lake's calls timed alone (one at a time), round = slowest lake's "
            "calls + coordinator. Shared machine: every lake in this process on the same cores. "
            "Each figure is the median of the job's rounds after the first "
            f"({summary['suite']['lakes_rounds'] - 1} of {summary['suite']['lakes_rounds']}).",
            "",
            "| lakes | rows per lake | round, own machines (s) | round, shared machine (s) | "
            "accuracy % |",
            "|---|---|---|---|---|",
        ]
        for key, e in lakes.items():
            if not key.isdigit():
                continue
            lines.append(
                f"| {e['lakes']} | {e['rows_per_lake']:,} | "
                f"{fmt(e['round_seconds_own_machines'], 3)} | "
                f"{fmt(e['round_seconds_shared_machine'], 3)} | {pct(e['accuracy'])} |"
            )
    wide = results.get("features")
    if wide:
        lines += [
            "",
            "## Features (3 lakes, L2 1e-3)",
            "",
            "| features | rows | MLlib % | sklearn % | collab % | collab s/round | crypto share | "
            "unmask call share | adding the table to 3 lakes (s) | MLlib fit (s) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for e in wide.values():
            run = e["collab"][0]
            lines.append(
                f"| {e['features']:,} | {e['rows']:,} | {pct(e['mllib']['accuracy'])} | "
                f"{pct(e['sklearn']['accuracy'])} | {pct(run['accuracy'])} | "
                f"{fmt(run['round_split']['round'])} | "
                f"{fmt(100 * e['privacy_share_of_round'], 1)}% | "
                f"{fmt(100 * e['unmask_round_trip_share'], 1)}% | "
                f"{fmt(e['add_table_seconds_3_lakes'], 1)} | "
                f"{fmt(e['mllib']['fit_seconds'], 1)} |"
            )
    fam = results.get("families")
    if fam:
        lines += _family_lines(fam)
    opt = results.get("server_optimisers")
    if opt:
        lines += _server_optimiser_lines(opt)
    mem = results.get("memory")
    if mem:
        lines += [
            "",
            "## A lake's peak memory (served lake in its own process, 20 features)",
            "",
            "PSS (shared pages split between processes); kept rows are the engine's numpy copies "
            "in shared memory (mapped by the Spark Python workers, so partly inside their PSS).",
            "",
            "| rows | table as float64 (MiB) | peak total (MiB) | Datasite process | Spark JVM | "
            "Spark Python workers | kept rows in /dev/shm (MiB) |",
            "|---|---|---|---|---|---|---|",
        ]
        for key, e in mem.items():
            if key == "demo_kernel":
                continue
            parts = e["peak_pss_parts"]
            lines.append(
                f"| {e['rows']:,} | {mib(e['table_bytes_as_float64'])} | "
                f"{mib(e['peak_pss_bytes'])} | {mib(parts.get('python'))} | "
                f"{mib(parts.get('jvm'))} | {mib(parts.get('spark_python_workers'))} | "
                f"{mib(e['kept_rows_shm_bytes'])} |"
            )
    lines += demo_kernel_lines((mem or {}).get("demo_kernel"))
    lines += mlp_step_lines(results.get("mlp_step"))
    lines += ["", "## Plots", ""]
    for png in sorted(PLOTS):
        lines.append(f"![{png}]({png})")
    lines.append("")
    return "\n".join(lines)


def _transform_text(spec: dict[str, Any]) -> str:
    args = [repr(spec["strategy"])] if "strategy" in spec else []
    args += spec["columns"]
    args += [f"{k}={spec[k]:g}" for k in ("lower", "upper") if spec.get(k) is not None]
    return f"{spec['transform']}({', '.join(args)})"


def _encoding_lines(coding: dict[str, Any]) -> list[str]:
    """The encoding workload: one lake's round step on the same rows, categories one-hot
    encoded in the lake with transforms, and one-hot encoded by the owner."""
    cats = coding["categorical"]
    inputs, raw = coding["inputs"], coding["raw_columns"]
    first, rounds = coding["first_pass_seconds"], coding["first_round_seconds"]
    step, arithmetic = coding["step_seconds"], coding["step_compute_seconds"]
    samples = len(coding["step_samples"]["in_lake"]["full_batch"])
    settled = samples - min(2, samples - 1)  # as ``_suite._settled`` takes them

    def row(name: str, a: float, b: float) -> str:
        return f"| {name} | {fmt(a, 3)} | {fmt(b, 3)} | {fmt(b / a if a else None)} |"

    gaps = coding["number_gaps"]
    return [
        "",
        f"## Categories and transforms in a lake's step ({coding['rows']:,} rows, one lake)",
        "",
        f"The same rows twice. In the lake: {len(cats)} text columns of "
        f"{min(cats.values())}-{max(cats.values())} categories "
        f"({', '.join(f'{c} {k}' for c, k in cats.items())}; "
        f"{100 * coding['category_gaps']:g}% missing) and {coding['numbers']} numbers "
        f"({100 * min(gaps):g}-{100 * max(gaps):g}% missing), {raw['in_lake']} raw columns; "
        "Spark codes each category to its index, the plan's design one-hot encodes it and "
        f"applies {', '.join(_transform_text(t) for t in coding['transforms'])}. "
        f"Pre-encoded: the owner's table of {raw['pre_encoded']} numeric columns (each "
        "category a 0/1 column, the missing indicator a 0/1 column, the numbers with their "
        f"gaps). The plan's inputs: {inputs['in_lake']} from the first table, "
        f"{inputs['pre_encoded']} from the second; logistic regression, one local epoch. Each "
        "table is one lake's phase handler over this process's Spark engine; the two tables' "
        "rounds alternate in one run, each going first every other time. Round steps: the "
        f"median of the last {settled} of {samples} rounds (the first round prepares each "
        "block: encodes, transforms, standardises and keeps it beside the rows).",
        "",
        "| measure | pre-encoded numbers (s) | categories + transforms in the lake (s) | ratio |",
        "|---|---|---|---|",
        row(
            "first pass: statistics (reads Parquet, codes categories, keeps the rows)",
            first["pre_encoded"],
            first["in_lake"],
        ),
        row(
            "first round, full batch (prepares and keeps each block)",
            rounds["pre_encoded"],
            rounds["in_lake"],
        ),
        row(
            "round step, full batch",
            step["pre_encoded"]["full_batch"],
            step["in_lake"]["full_batch"],
        ),
        row(
            "of which the plan's arithmetic (summed over tasks)",
            arithmetic["pre_encoded"]["full_batch"],
            arithmetic["in_lake"]["full_batch"],
        ),
        row(
            f"round step, mini-batches of {coding['batch_size']}",
            step["pre_encoded"]["mini_batch"],
            step["in_lake"]["mini_batch"],
        ),
    ]


def _seconds_to_target(run: dict[str, Any] | None) -> str:
    if run is None:
        return "–"
    seconds = run.get("seconds_to_target")
    return "not reached" if seconds is None else f"{fmt(seconds)} ({run['rounds_to_target']} r.)"


def _family_lines(fam: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Model families (synthetic, 20 features, 3 lakes, secure aggregation, PySyft)",
        "",
        "Least squares (label: a linear signal plus noise; RMSE), softmax regression (4 "
        "classes drawn from a softmax of a linear map; accuracy) and a perceptron with one "
        "hidden layer of the same size in all three libraries (label: an XOR of two features' "
        "signs, which no linear model learns; accuracy). MLlib and scikit-learn fit the pooled "
        "rows in this process. Time to MLlib's metric (within 0.5 points of its accuracy, or "
        "0.5% of its RMSE) counts from the job's start; the ratio divides it by MLlib's fit on "
        "the cached pooled rows (rows kept: collab's second job on the same table), or by "
        "MLlib's reading, caching and fit (first job).",
        "",
        "| family | rows | metric | collab | MLlib | scikit-learn | MLlib fit s (+load) | "
        "scikit-learn fit s | collab s to MLlib's metric: first job / rows kept | "
        "÷ MLlib fit (rows kept) | ÷ MLlib load + fit (first job) | rounds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in fam.values():
        metric = entry["metric"]
        cold = run_labelled(entry, "first job")
        warm = run_labelled(entry, "rows cached")
        last = warm or cold
        ratio = time_to_mllib(entry)
        mllib, sk = entry["mllib"], entry["sklearn"]
        reached = " / ".join(_seconds_to_target(r) for r in (cold, warm))
        lines.append(
            f"| {entry['family']} | {entry['rows']:,} | {METRIC_NAMES[metric]} | "
            f"{metric_value(metric, last[metric] if last else None)} | "
            f"{metric_value(metric, mllib[metric])} | {metric_value(metric, sk[metric])} | "
            f"{fmt(mllib['fit_seconds'])} (+{fmt(mllib['load_seconds'])}) | "
            f"{fmt(sk['fit_seconds'])} | {reached} | {fmt(ratio['rows_cached'])} | "
            f"{fmt(ratio['first_job'])} | {last['rounds'] if last else '–'} |"
        )
    return lines


# The rounds after which the optimiser table shows test accuracy.
SHOWN_ROUNDS = (1, 2, 3, 5, 10, 20, 30, 50)


def _server_optimiser_lines(opt: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Server optimisers on the demo's skewed split (3 hospitals)",
        "",
        "The hospitals demo's skewed split (hospitals of different sizes and label mixes), "
        "the demo's plan (5 local epochs, learning rate 0.5), each server optimiser and "
        "server step size. Test accuracy % after each number of rounds; the pooled "
        "scikit-learn fit is the yardstick (rounds to reach it within 0.5 points). Every "
        "hospital is its phase handler over arrays in this process (secure aggregation on, no "
        "PySyft): a real job's arithmetic, not its timing.",
    ]
    for entry in opt.values():
        rounds = max(r["rounds"] for r in entry["runs"])
        shown = [r for r in SHOWN_ROUNDS if r < rounds] + [rounds]
        counts = "; ".join(
            f"{rows} rows ({', '.join(str(c) for c in labels)})"
            for rows, labels in zip(entry["lake_rows"], entry["lake_label_counts"], strict=True)
        )
        lines += [
            "",
            f"**{entry['dataset']}** ({entry['family']}; hospitals: {counts} per class; "
            f"{entry['test_rows']} test rows; pooled scikit-learn "
            f"{pct(entry['sklearn']['accuracy'])}%)",
            "",
            "| server optimiser | server step | "
            + " | ".join(f"round {r}" for r in shown)
            + " | rounds to pooled |",
            "|---|---|" + "---|" * len(shown) + "---|",
        ]
        for run in entry["runs"]:
            values = run["round_accuracy"]
            lines.append(
                f"| {run['server_optimizer']} | {run['server_learning_rate']:g} | "
                + " | ".join(pct(values[r - 1]) if r <= len(values) else "–" for r in shown)
                + f" | {fmt(run.get('rounds_to_target'))} |"
            )
    return lines


def _stream_lines(run: dict[str, Any] | None) -> list[str]:
    """Per update: a file landing on each lake to the rows admitted, to a retrained model."""
    if not run:
        return []
    lines = [
        "",
        "## Streams: a file landing to the followed model",
        "",
        f"{run['lakes']} in-process lakes, each with a stream; per update a file of "
        f"{run['rows_per_file']} rows lands on every lake at once. Admission: the newest file "
        "landing to its rows taken on every lake (Structured Streaming, the folder listed every "
        "0.2 s). "
        f"Then the update of a followed logistic regression (`fed.follow`, {run['rounds']} "
        "rounds an update from the current model, over the new rows): waiting = the job "
        "seeing the rows (its readiness poll), test & set-up = secure-aggregation set-up and "
        "the test-then-train of the current model, then the rounds' own time. Beyond rounds = "
        "latency - the rounds' own time (goal: at most 2 s). Scoring: one lake's `lake.score` "
        "on its stream, a file landing to its rows written.",
        "",
        "| update | new rows | admission (s) | waiting (s) | test & set-up (s) | rounds (s) | "
        "beyond rounds (s) | latency (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for u in run["updates"]:
        lines.append(
            f"| {u['update']} | {u['rows']:,} | {u['admission_seconds']:.2f} | "
            f"{u.get('waiting_seconds', float('nan')):.2f} | "
            f"{u.get('test_and_setup_seconds', float('nan')):.2f} | "
            f"{u['rounds_seconds']:.2f} | {u['beyond_rounds_seconds']:.2f} | "
            f"{u['latency_seconds']:.2f} |"
        )
    scored = ", ".join(f"{v:.2f}" for v in run["scoring_latency_seconds"])
    lines += [
        "",
        f"Median latency {run['median_latency_seconds']:.2f} s, of which admission "
        f"{run['median_admission_seconds']:.2f} s and beyond the rounds "
        f"{run['median_beyond_rounds_seconds']:.2f} s. Scoring latency per file: {scored} s.",
    ]
    return lines


def _survival_lines(run: dict[str, Any] | None) -> list[str]:
    """Cox over three uneven lakes beside lifelines' fit on the pooled rows."""
    if not run:
        return []
    lines = [
        "",
        "## Survival: Cox proportional hazards against lifelines",
        "",
        f"{run['rows']:,} rows ({run['events']:,} events) over three uneven lakes (shares 0.5, "
        "0.3, 0.2), secure aggregation, the job's first exchange over PySyft and its rounds "
        "over the round channel, from the first call to the model; lifelines' `CoxPHFitter` "
        "(Efron ties) reads the same rows pooled in memory. "
        f"collab: {run['rounds']} Newton rounds on a grid of {run['bins']} time bins.",
        "",
        "| | collab, 3 lakes | lifelines, pooled |",
        "|---|---|---|",
        f"| seconds | {run['collab_seconds']:.1f} | {run['lifelines_seconds']:.1f} |",
        f"| concordance | {run['concordance']:.4f} | {run['lifelines_concordance']:.4f} |",
    ]
    for name, value in run["coef"].items():
        lines.append(f"| coef {name} | {value:.4f} | {run['lifelines_coef'][name]:.4f} |")
    lines += [
        "",
        f"collab's fit takes {run['collab_seconds'] / run['lifelines_seconds']:.2f}x "
        "lifelines' time. The largest coefficient difference is "
        f"{run['max_deviation_in_se']:.2f} of lifelines' standard error, and the standard "
        f"errors agree within {100 * run['max_se_ratio_error']:.2f}%.",
    ]
    return lines


def write(out: Path, summary: dict[str, Any], results: dict[str, Any]) -> None:
    written = plots(out, results)
    text = markdown(summary, results)
    for png in PLOTS:
        if png not in written:
            text = text.replace(f"![{png}]({png})\n", "")
    (out / "results.md").write_text(text)
