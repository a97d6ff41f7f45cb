"""One SparkSession per process, configured by the lake's settings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import Any

from .._errors import SetupError

_lock = threading.Lock()
_session: Any = None
_settings: dict[str, Any] | None = None
_owner_pid: int | None = None

DEFAULT_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
    "spark.python.worker.reuse": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=ERROR",
    # pandas writes datetimes as nanosecond Parquet timestamps, which Spark refuses unless it
    # reads them as longs; collab casts such columns back to timestamps (engine._tables)
    "spark.sql.legacy.parquet.nanosAsLong": "true",
}

# A local session's JVM and Python workers share the machine (and a notebook's memory) with the
# kernel that started them. Measured on notebook 03's kernel (three lakes in one kernel):
# - with Spark's default heap (1 GiB), the serial collector and a heap that starts at 64 MiB
#   and grows as needed took the JVM's peak PSS from 508 to 416-445 MiB. The JVM's default
#   heap starts at 1/64 of the machine's memory (377 MiB on 24 GiB), all of it soon touched,
#   and the default collector (G1) keeps per-region bookkeeping besides; G1 with the small start
#   alone peaked higher (574 MiB). Compiling with the client compiler only (no C2) took off
#   25-40 MiB more, and the engine's tests ran no slower with it (12 s against 21 s).
#   A young generation fixed at 32 MiB (-Xmn32m; the serial collector otherwise sizes it at a
#   third of a growing heap, every page of it touched between collections) took the JVM's peak
#   from 392-396 to 368 MiB, the notebook no slower (312 s either way, under the same load).
#   Letting the heap shrink after a full collection when more than a fifth of it is free
#   (-XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20, against 40 and 70 by default) took the
#   JVM's end-of-notebook PSS from 381 to 363-368 MiB (notebook 03's three demos in one process,
#   run side by side).
#   A session given its own driver memory (a large, long-running workload) keeps the JVM's
#   defaults, as a large heap collects faster with several threads and long jobs gain from C2.
# - the Python daemon imports what every worker imports before it forks them (``_daemon``):
#   Spark's Python workers from 210 to about 150 MiB.
SMALL_HEAP_JAVA_OPTIONS = (
    "-XX:+UseSerialGC -Xms64m -Xmn32m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20"
    " -XX:TieredStopAtLevel=1"
)
LOCAL_CONF = {"spark.python.daemon.module": "collab.engine._daemon"}


def session_conf(master: str, conf: dict[str, str] | None = None) -> dict[str, str]:
    """The settings a session starts with: collab's defaults, a local session's (above), then
    ``conf`` (the caller's settings win, ``spark.driver.extraJavaOptions`` as a whole)."""
    settings = dict(DEFAULT_CONF)
    if master.startswith("local"):
        settings.update(LOCAL_CONF)
        # Spark's scratch (shuffle and spill files, the JVM's unpacked native libraries) goes
        # where Python's does: a TMPDIR given to the notebook or the tests holds all of it,
        # where Java alone would write to /tmp
        scratch = tempfile.gettempdir()
        settings["spark.local.dir"] = scratch
        java = settings["spark.driver.extraJavaOptions"]
        if not re.search(r"\s", scratch):  # Java's options are split at spaces
            java = f"{java} -Djava.io.tmpdir={scratch}"
        if "spark.driver.memory" not in (conf or {}):
            java = f"{java} {SMALL_HEAP_JAVA_OPTIONS}"
        settings["spark.driver.extraJavaOptions"] = java
    settings.update(conf or {})
    return settings


# Loggers that report, in the terminal, a failure collab already turns into its own error:
# a failed task (the JVM's Executor and TaskSetManager, with the Java stack) and a query
# that does not analyse (PySpark's query-context loggers, as JSON with the Java stack).
_QUIET_JVM_LOGGERS = (
    "org.apache.spark.executor.Executor",
    "org.apache.spark.scheduler.TaskSetManager",
)
_QUIET_PYTHON_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


def _quiet_failures(session: Any) -> None:
    import logging

    for name in _QUIET_PYTHON_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        jvm = session.sparkContext._jvm
        off = jvm.org.apache.logging.log4j.Level.OFF
        for name in _QUIET_JVM_LOGGERS:
            jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, off)
    except Exception:  # Spark Connect: no JVM here, and the server logs where it runs
        pass


def check_java() -> str:
    """Java's version line; :class:`SetupError` with what to install when it is missing."""
    java = shutil.which(
        "java",
        path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin")
        + os.pathsep
        + os.environ.get("PATH", ""),
    )
    if java is None:
        raise SetupError(
            "Spark needs Java 17 or 21 and none was found on the PATH. Install it "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless; conda: openjdk=17) "
            "or set JAVA_HOME."
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    line = out.splitlines()[0] if out else "unknown"
    if '"1.8' in line or '"11' in line:
        raise SetupError(f"Spark 4 needs Java 17 or 21; found {line}. Install Java 17.")
    return line


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """The process's SparkSession, created on first use with ``master`` and ``conf``.

    Spark allows one session per process: later calls with different settings get the
    running session (the lakes of one notebook share it).
    """
    global _session, _settings, _owner_pid
    with _lock:
        if _session is not None and _owner_pid == os.getpid():
            return _session
        if _session is not None:
            _forget_inherited_session()
        check_java()
        # Workers must run this interpreter so they import the same collab, numpy and pyarrow.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        from pyspark.sql import SparkSession

        master = master or os.environ.get("COLLAB_SPARK_MASTER") or "local[*]"
        builder = SparkSession.builder.master(master).appName("collab-lake")
        if master.startswith("sc://"):
            builder = SparkSession.builder.remote(master).appName("collab-lake")
        for key, value in session_conf(master, conf).items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
        if not master.startswith("sc://"):
            _session.sparkContext.setLogLevel("ERROR")
            _quiet_failures(_session)
        _settings = {"master": master, "conf": dict(conf or {})}
        _owner_pid = os.getpid()
        return _session


def _forget_inherited_session() -> None:
    """Drop a session inherited through ``fork`` (collab starts served Datasites in fresh
    processes, but a user's code may fork).

    Its JVM belongs to the parent: using it would run this lake's jobs in the parent's Spark,
    with the parent's master. The child starts a JVM and session of its own instead.
    """
    global _session, _settings
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    SparkContext._active_spark_context = None
    SparkContext._gateway = None
    SparkContext._jvm = None
    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None
    _session, _settings = None, None


def active_settings() -> dict[str, Any] | None:
    return None if _settings is None else dict(_settings)


def spark_message(exc: BaseException) -> str:
    """The line of a Spark error that says what went wrong (not the JVM's call stack)."""
    for line in str(exc).splitlines():
        line = re.sub(r"^:?\s*(?:[\w$]+\.)+[\w$]*(?:Exception|Error):", "", line).strip()
        if line and not line.startswith("An error occurred while calling"):
            return line[:400]
    return type(exc).__name__


def quoted(name: str) -> str:
    """A column name quoted for Spark SQL."""
    return "`" + name.replace("`", "``") + "`"
