"""A tiny run of the benchmark code produces well-formed results (no timings are checked)."""

from __future__ import annotations

import json
from dataclasses import replace

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
    for key in ("ratio_step_to_mllib_iteration", "ratio_step_to_numpy_pass"):
        assert isinstance(yard[key], float)  # a number; its value is a timing, not checked

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
