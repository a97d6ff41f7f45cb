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


def test_a_closed_demo_lets_go_of_its_datasites_while_the_notebook_holds_it(tmp_path) -> None:
    from syft.server.server import ServerRegistry

    from collab import LakeError

    demo = _hospitals.hospitals(n=2, seed=0, data_dir=tmp_path)  # the notebook keeps ``demo``
    servers = [lake._datasite._handle.python_server for lake in demo.lakes]
    ids = [server.id for server in servers]
    gone = [weakref.ref(server) for server in servers]
    del servers
    demo.close()
    gc.collect()
    # PySyft's registries and the demo's clients held each Datasite (10-20 MiB) until the
    # kernel ended; PySyft keeps one user-code reloader per thread (the newest login's, which
    # it calls to deserialise user code), so at most that one is left
    assert sum(ref() is not None for ref in gone) <= 1
    assert not any(ServerRegistry.server_for(uid) for uid in ids)
    first = demo.lakes[0].name
    with pytest.raises(LakeError, match=rf"{first}.*listing tables.*connection was closed"):
        demo.federation.tables  # noqa: B018
