"""One BLAS thread while lakes' steps run on threads of this process.

A step's arithmetic on kept rows runs on threads of this process, one per core
(``_step._from_kept``), and several lakes of one process step at once. Each numpy call on a
mini-batch is small (1024 x 20 for a logistic regression), and OpenBLAS, left to its default
of one thread per core, hands such calls to its own threads, which spin while waiting for
work and contend with the other callers: measured here, a round's mini-batches over 300,000
rows took 0.4 s of CPU from two threads instead of 0.02 s from one. While any step runs on
kept rows, BLAS in this process uses one thread; the count it had comes back when the last
step ends.

A block's sums are computed with one BLAS thread on either path (kept rows here, streamed
rows in Spark's Python workers): how BLAS splits a product between its threads changes the
order of a sum, so the same thread count on both paths (and on every machine, whatever its
cores) keeps a step's result independent of the path that served it.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()
_users = 0
_saved: list[tuple[_OpenBlas, int]] = []  # (library, its thread count before)
_libraries: tuple[int, list[_OpenBlas]] | None = None  # (pid, OpenBLAS libraries loaded)


@dataclass(frozen=True)
class _OpenBlas:
    """A loaded OpenBLAS with its own thread pool (its "pthreads" build, as numpy's wheels
    ship): its thread count is one setting for the whole process."""

    get: Any
    set: Any


def _openblas(path: str) -> _OpenBlas | None:
    library = ctypes.CDLL(path)
    for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
        get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
        set_ = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
        if get is not None and set_ is not None:
            return _OpenBlas(get, set_)
    return None


def _blas_libraries() -> list[_OpenBlas]:
    """The OpenBLAS libraries loaded in this process with their own threads (found once per
    process; another BLAS, or one threaded by OpenMP, is left as it is)."""
    global _libraries
    if _libraries is None or _libraries[0] != os.getpid():
        found = []
        try:
            from threadpoolctl import threadpool_info

            for info in threadpool_info():
                if info.get("internal_api") == "openblas" and info.get("threading_layer") in (
                    "pthreads",
                    "disabled",
                ):
                    library = _openblas(str(info["filepath"]))
                    if library is not None:
                        found.append(library)
        except Exception:  # no threadpoolctl, or a library it cannot read: leave BLAS be
            found = []
        _libraries = (os.getpid(), found)
    return _libraries[1]


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """While active (on any thread), BLAS in this process runs each call on one thread."""
    global _users
    with _lock:
        if _users == 0:
            _saved.clear()
            for library in _blas_libraries():
                threads = int(library.get())
                if threads != 1:
                    library.set(1)
                    _saved.append((library, threads))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for library, threads in _saved:
                    library.set(threads)
                _saved.clear()
