"""Peak memory of a process tree (a lake's Datasite process, its Spark JVM and Python workers),
sampled in a background thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _kind(proc: psutil.Process) -> str:
    try:
        name = proc.name()
        cmd = " ".join(proc.cmdline()[:4])
    except psutil.Error:
        return "gone"
    if "java" in name:
        return "jvm"
    if any(daemon in cmd for daemon in ("pyspark.daemon", "pyspark/daemon", "engine._daemon")):
        return "spark_python_workers"
    return "python"


class PeakMemory:
    """Samples the proportional set size (shared pages split between the processes that map
    them, so the parts add up) of ``roots``' process trees every ``interval`` seconds."""

    def __init__(
        self,
        roots: Callable[[], list[psutil.Process]],
        interval: float = 0.25,
        exclude: Callable[[psutil.Process], bool] | None = None,
        shared: Callable[[list[psutil.Process]], int] | None = None,
    ) -> None:
        self._roots = roots
        self._interval = interval
        self._exclude = exclude or (lambda p: False)
        self._shared = shared  # bytes the processes hold in shared memory beside their PSS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-memory", daemon=True)
        self.peak_total = 0
        self.peak_parts: dict[str, int] = {}

    def _sample(self) -> None:
        parts: dict[str, int] = {}
        seen: set[int] = set()
        procs: list[psutil.Process] = []
        for root in self._roots():
            for proc in _tree(root):
                if proc.pid in seen or self._exclude(proc):
                    continue
                seen.add(proc.pid)
                procs.append(proc)
                try:
                    info = proc.memory_full_info()
                    size = int(getattr(info, "pss", 0) or info.rss)
                except psutil.Error:
                    continue
                kind = _kind(proc)
                parts[kind] = parts.get(kind, 0) + size
        if self._shared is not None:
            parts["kept_rows_shm"] = self._shared(procs)
        total = sum(parts.values())
        if total > self.peak_total:
            self.peak_total, self.peak_parts = total, parts

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def shm_bytes(prefix: str = "collab-rows-", skip: str | None = None) -> int:
    """Bytes in the engine's kept-row folders in ``/dev/shm`` (optionally skipping one)."""
    total = 0
    base = Path("/dev/shm")
    if not base.is_dir():
        return 0
    for folder in base.glob(f"{prefix}*"):
        if skip and os.path.realpath(folder) == os.path.realpath(skip):
            continue
        for path in folder.rglob("*.npy"):
            try:
                total += path.stat().st_size
            except OSError:
                continue
    return total


class MappedRows:
    """The bytes of the kept-row folders (``/dev/shm/collab-rows-*``) that the sampled
    processes have mapped at any sample so far: theirs, not another program's on the same
    machine. A callable for :class:`PeakMemory`'s ``shared``."""

    def __init__(self, prefix: str = "/dev/shm/collab-rows-") -> None:
        self._prefix = prefix
        self.folders: set[str] = set()

    def __call__(self, procs: list[psutil.Process]) -> int:
        for proc in procs:
            try:
                maps = proc.memory_maps(grouped=True)
            except psutil.Error:
                continue
            for m in maps:
                if m.path.startswith(self._prefix):
                    self.folders.add(m.path[: m.path.index("/", len(self._prefix))])
        total = 0
        for folder in self.folders:
            for path in Path(folder).rglob("*.npy"):
                try:
                    total += path.stat().st_size
                except OSError:
                    continue
        return total


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
