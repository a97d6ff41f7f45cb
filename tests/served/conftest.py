"""Served lakes: child processes over loopback, a PostgreSQL server, a Spark cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

ADMIN_PASSWORD = "a-long-owner-secret"


def wait_for_http(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/metadata", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"nothing answered at {url} within {timeout} s")


def process_on_port(port: int) -> psutil.Process:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return psutil.Process(conn.pid)
    raise LookupError(f"no process listens on port {port}")


def write_config(
    path: Path,
    *,
    name: str,
    port: int,
    data_dir: Path,
    table: Path,
    master: str | None = None,
    auto_approve: bool = False,
    scientists: tuple[str, ...] = ("ada@uni.edu",),
) -> Path:
    spark = f'[spark]\nmaster = "{master}"\n' if master else ""
    people = "".join(
        f'[[scientists]]\nemail = "{e}"\nname = "{e.split("@")[0]}"\n\n' for e in scientists
    )
    path.write_text(
        f"""[lake]
name = "{name}"
port = {port}
host = "127.0.0.1"
data_dir = "{data_dir}"

{spark}
[[tables]]
name = "patients"
path = "{table}"
description = "Breast biopsy measurements"
private_columns = ["patient_id"]
[tables.policy]
min_rows = 20
auto_approve = {str(auto_approve).lower()}

{people}"""
    )
    return path


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
