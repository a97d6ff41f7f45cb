"""Served lakes: child processes over loopback, a PostgreSQL server, a Spark cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def patients_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from collab.demo._hospitals import breast_cancer_frame

    path = tmp_path_factory.mktemp("served") / "patients.parquet"
    breast_cancer_frame().iloc[:300].to_parquet(path, index=False)
    return path


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory, ports) -> Iterator[str]:
    """A real PostgreSQL server on loopback, started for the test session."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bins:
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (CI installs it)")
    bin_dir = bins[-1]
    # outside pytest's root-only temporary tree, so the postgres user can reach it
    root = Path(tempfile.mkdtemp(prefix="collab-pg-"))
    root.chmod(0o755)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = ports()
    subprocess.run(
        [*as_user, bin_dir / "initdb", "-D", data, "-U", "collab", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            bin_dir / "pg_ctl",
            "-D",
            data,
            "-w",
            "-l",
            root / "log",
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                *as_user,
                bin_dir / "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "collab",
                "lakes",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://collab:unused@127.0.0.1:{port}/lakes"
    finally:
        subprocess.run(
            [*as_user, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_cluster(ports) -> Iterator[str]:
    """A Spark standalone master and one worker on loopback, from pyspark's own scripts."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_class.parent.parent),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        # the cluster's scratch, its applications' folders and its JVMs' own files go to the
        # run's temporary folder, not to /tmp and pyspark's installation
        "SPARK_LOCAL_DIRS": tempfile.gettempdir(),
        "SPARK_WORKER_DIR": tempfile.mkdtemp(prefix="spark-worker-"),
        "SPARK_DAEMON_JAVA_OPTS": f"-Djava.io.tmpdir={tempfile.gettempdir()}",
    }
    port = ports()
    master = subprocess.Popen(
        [
            spark_class,
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ports()),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"spark://127.0.0.1:{port}"
    worker = subprocess.Popen(
        [
            spark_class,
            "org.apache.spark.deploy.worker.Worker",
            url,
            "--cores",
            "1",
            "--memory",
            "1g",
            "--host",
            "127.0.0.1",
            "--webui-port",
            str(ports()),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield url
    finally:
        for process in (worker, master):
            process.terminate()
            process.wait(20)
