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
