"""A tiny run of the benchmark code produces well-formed results (no timings are checked)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from benchmarks import SMOKE, run


def test_a_tiny_benchmark_run_writes_results_a_table_and_plots(tmp_path):
    suite = replace(SMOKE, workloads=("yardsticks", "sizes"))
    summary = run(suite, tmp_path)

    assert summary["workloads"] == ["yardsticks", "sizes"]
    for name in ("summary.json", "yardsticks.json", "sizes.json", "results.md"):
        assert (tmp_path / name).is_file(), name
    for png in ("accuracy_vs_time.png", "round_split.png", "time_to_accuracy.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG", png
    table = (tmp_path / "results.md").read_text()
    assert table.startswith("# collab benchmarks") and "## Targets" in table

    yard = json.loads((tmp_path / "yardsticks.json").read_text())
    for key in ("ratio_step_to_numpy_pass", "ratio_step_to_mllib_iteration_average"):
        assert isinstance(yard[key], float)  # a number; its value is a timing, not checked
    # MLlib's marginal iteration is None where the fits' difference is below their noise (on
    # the smoke run's few rows it may be): the ratio is then None too, never a negative number
    marginal = yard["mllib_iteration"]["marginal_seconds"]
    ratio = yard["ratio_step_to_mllib_iteration"]
    assert (ratio is None) == (marginal is None)
    assert ratio is None or (isinstance(ratio, float) and ratio > 0 and marginal > 0)

    entry = json.loads((tmp_path / "sizes.json").read_text())[str(suite.sizes[0])]
    assert 0.5 < entry["mllib"]["accuracy"] <= 1 and 0.5 < entry["sklearn"]["accuracy"] <= 1
    labels = [r["label"] for r in entry["collab"]]
    assert any("secure aggregation" in label for label in labels)
    for result in entry["collab"]:
        assert len(result["round_accuracy"]) == result["rounds"] == len(result["round_end"])
        assert all(0 <= a <= 1 for a in result["round_accuracy"])
        assert {"step", "transport", "crypto_lake", "aggregation"} <= set(result["round_split"])

    saved = json.loads((tmp_path / "summary.json").read_text())
    names = [t["target"] for t in saved["targets"]]
    assert any(n.startswith("local step vs one MLlib iteration") for n in names)
    assert any(n.startswith("local step vs one numpy pass") for n in names)


def test_the_encoding_workload_times_both_tables_side_by_side(tmp_path):
    suite = replace(SMOKE, workloads=("encoding",))
    summary = run(suite, tmp_path)

    coding = json.loads((tmp_path / "encoding.json").read_text())
    assert coding["rows"] == suite.encoding_rows and len(coding["categorical"]) == 5
    # the owner's one-hot table gives the plan as many inputs as the lake's encoding does
    assert coding["inputs"]["in_lake"] == coding["inputs"]["pre_encoded"]
    assert coding["raw_columns"]["in_lake"] < coding["raw_columns"]["pre_encoded"]
    for table in ("pre_encoded", "in_lake"):
        for kind in ("full_batch", "mini_batch"):
            assert len(coding["step_samples"][table][kind]) == suite.encoding_repeats
    for key in ("ratio_first_pass", "ratio_first_round"):
        assert isinstance(coding[key], float)  # a number; its value is a timing, not checked
    assert set(coding["ratio_step"]) == {"full_batch", "mini_batch"}

    (target,) = [t for t in summary["targets"] if t["target"].startswith("encoding and")]
    assert target["limit"] == 1.2 and target["value"] == coding["ratio_step"]["full_batch"]
    table = (tmp_path / "results.md").read_text()
    assert "## Categories and transforms in a lake's step" in table


def test_round_cost_trees_and_mlp_step_write_fixed_costs_accuracy_and_their_targets(tmp_path):
    suite = replace(SMOKE, workloads=("round_cost", "trees", "mlp_step"))
    summary = run(suite, tmp_path)

    cost = json.loads((tmp_path / "round_cost.json").read_text())
    for key in ("logistic_regression/before", "logistic_regression/after", "trees/after"):
        entry = cost["in_process"][key]
        assert len(entry["fixed_seconds"]) == entry["rounds"] == len(entry["step_seconds"])
        assert all(f >= 0 for f in entry["fixed_seconds"])  # a value, not checked: a timing
    # before: every release over PySyft; after: all but the first exchange over the channel
    assert set(cost["in_process"]["trees/before"]["routes"]) == {"pysyft"}
    assert cost["in_process"]["trees/after"]["routes"]["channel"] > 0
    assert cost["in_process"]["trees/after"]["rounds_per_tree"] <= suite.round_cost_trees[1]

    trees = json.loads((tmp_path / "trees.json").read_text())
    assert {entry["metric"] for entry in trees.values()} == {"accuracy", "rmse"}
    for entry in trees.values():
        for method in ("mllib", "sklearn", "collab"):
            if entry["metric"] == "accuracy":
                assert 0.4 <= entry[method]["accuracy"] <= 1, method
            else:  # the steps signal: RMSE 1 at best, its label's spread about 2.6
                assert 1 <= entry[method]["rmse"] <= 3, method
        assert entry["rounds_per_tree"] <= entry["settings"]["max_depth"]
        for key in ("job_to_mllib_read_fit_ratio", "level_round_to_numpy_pass_ratio"):
            assert isinstance(entry[key], float)  # a number; its value is a timing, not checked
        assert entry["numpy_histogram_pass"]["rows"] == entry["rows"]
    # two shallow trees of the same settings: collab's RMSE is scikit-learn's, near enough
    assert trees["regression_3000"]["rmse_ratio_vs_sklearn"] <= 1.05

    step = json.loads((tmp_path / "mlp_step.json").read_text())
    assert step["rows"] == suite.mlp_step_rows
    assert isinstance(step["ratio_step_to_numpy_pass"], float)

    names = [t["target"] for t in summary["targets"]]
    for start in ("trees whole job vs MLlib", "trees level round vs one numpy", "MLP step vs"):
        assert any(n.startswith(start) for n in names), start
    assert any(n.startswith("round fixed cost, 3 in-process lakes") for n in names)
    assert any(n.startswith("trees accuracy gap to scikit-learn") for n in names)
    assert any(n.startswith("trees RMSE / scikit-learn") for n in names)
    table = (tmp_path / "results.md").read_text()
    assert "## A round's fixed cost" in table and "## Gradient-boosted trees vs" in table
    assert "## A perceptron's step vs one numpy pass" in table


def test_the_survival_workload_fits_cox_beside_lifelines(tmp_path):
    suite = replace(SMOKE, workloads=("survival",))
    run(suite, tmp_path)

    result = json.loads((tmp_path / "survival.json").read_text())
    assert result["rows"] == suite.survival_rows and result["bins"] >= 2
    assert set(result["coef"]) == set(result["lifelines_coef"])
    assert result["max_deviation_in_se"] < 1.0 and 0.5 < result["concordance"] < 1
    assert isinstance(result["collab_seconds"], float)  # a timing, not checked


def test_the_memory_workload_measures_a_notebook_kernels_peak(tmp_path):
    import nbformat

    notebook = tmp_path / "tiny-demo.ipynb"
    cells = [
        "import collab\ncollab.quiet_library_logs()",
        "demo = collab.demo.hospitals(n=2, seed=0)",
        "job = demo.federation.submit(demo.plan(rounds=2))\ndemo.approve_all()\njob.result()",
        "demo.close()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, notebook)
    suite = replace(SMOKE, workloads=("memory",), demo_kernel_notebook=str(notebook))
    summary = run(suite, tmp_path / "out")

    kernel = json.loads((tmp_path / "out" / "memory.json").read_text())["demo_kernel"]
    parts = kernel["peak_parts"]
    # the notebook's own kernel (PySyft, two lakes) and its Spark JVM are both in the sample,
    # each well over 100 MiB; the parts are those of the peak sample
    assert parts["python"] > 100 * 2**20 and parts["jvm"] > 100 * 2**20
    assert kernel["peak_total_bytes"] == sum(parts.values())
    target = next(t for t in summary["targets"] if t["target"].startswith("demo kernel peak"))
    assert target["value"] == pytest.approx(kernel["peak_total_bytes"] / 2**20)
    assert target["limit"] == pytest.approx(10**9 / 2**20)
    assert "## The demo kernel's peak memory" in (tmp_path / "out" / "results.md").read_text()
