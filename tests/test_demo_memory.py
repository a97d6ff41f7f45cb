"""What a demo does for a notebook's memory: its Spark workers in a kernel, a closed demo's heap."""

from __future__ import annotations

import gc
import weakref

import pytest

from collab.demo import _hospitals


@pytest.mark.parametrize(
    ("in_kernel", "conf"), [(True, {"spark.python.worker.reuse": "false"}), (False, None)]
)
def test_a_demo_in_a_kernel_asks_spark_not_to_keep_its_python_workers(
    monkeypatch, in_kernel, conf
) -> None:
    monkeypatch.setattr(_hospitals, "_in_kernel", lambda: in_kernel)
    assert _hospitals.demo_spark_conf() == conf


def test_a_demo_elsewhere_leaves_spark_its_settings(iid_demo) -> None:
    # a test process, a terminal: many Spark jobs, so the workers stay
    assert [lake._state.setting("spark")["conf"] for lake in iid_demo.lakes] == [{}, {}, {}]


def test_releasing_a_closed_demos_memory_collects_its_garbage() -> None:
    class Held:
        pass

    held = Held()
    held.me = held  # a cycle: only the collector frees it
    gone = weakref.ref(held)
    del held
    gc.disable()
    try:
        _hospitals.release_freed_memory()
    finally:
        gc.enable()
    assert gone() is None
