"""The image's parts that can be checked without a Docker engine: the example config, the
Dockerfile's contract with the manifests, the build-context filter, the Spark entrypoint script
(run here with stand-ins for java and spark-submit) and the batch job (run on local Spark)."""

from __future__ import annotations

import fnmatch
import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from deploy_helpers import DEPLOY, K8S, ROOT, render

from collab.lake._config import load_config

ENTRYPOINT = DEPLOY / "bin" / "spark-entrypoint"
SECRET_WORDS = ("password", "secret", "token")


def walk_keys(table: object, where: str = "") -> list[str]:
    keys = []
    if isinstance(table, dict):
        for key, value in table.items():
            keys.append(f"{where}{key}")
            keys += walk_keys(value, f"{where}{key}.")
    elif isinstance(table, list):
        for i, item in enumerate(table):
            keys += walk_keys(item, f"{where}{i}.")
    return keys


# --- lake.example.toml --------------------------------------------------------------------------


def test_the_example_config_parses_and_holds_no_secrets() -> None:
    path = DEPLOY / "lake.example.toml"
    data = tomllib.loads(path.read_text())
    keys = walk_keys(data)
    assert keys, "empty example"
    leaked = [k for k in keys if any(w in k.rsplit(".", 1)[-1].lower() for w in SECRET_WORDS)]
    assert not leaked
    config = load_config(path)  # the lake's own loader agrees
    assert config.name == "st-mary" and config.port == 8080 and config.host == "0.0.0.0"
    assert str(config.data_dir) == "/var/lib/collab"
    assert config.spark_master == "local[*]"
    (table,) = config.tables
    policy = table.publication.policy
    assert policy.max_epsilon == 3.0 and policy.require_secure_aggregation
    assert [s.email for s in config.scientists] == ["ada@uni.edu"]


def test_every_setting_of_the_example_is_documented_beside_it() -> None:
    """Each key set in the example has a comment line right above it (or its table has)."""
    lines = (DEPLOY / "lake.example.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        text = line.strip()
        if not text or text.startswith("#") or text.startswith("["):
            continue
        above = lines[i - 1].strip()
        assert above.startswith("#") or above.startswith("["), f"undocumented: {text}"


# --- Dockerfile ---------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            if current.strip():
                joined.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def instruction(name: str) -> list[str]:
    return [args for op, args in dockerfile() if op == name]


def test_the_image_runs_the_lake_as_the_manifests_expect() -> None:
    (entrypoint,) = instruction("ENTRYPOINT")
    (cmd,) = instruction("CMD")
    assert json.loads(entrypoint) == ["collab", "lake", "serve"]
    assert json.loads(cmd) == ["--config", "/etc/collab/lake.toml"]
    assert instruction("EXPOSE") == ["8080"]
    (user,) = instruction("USER")
    assert user == "10001:10001"
    for overlay in ("dev", "production"):
        resources = render(K8S / "overlays" / overlay)
        spec = next(r for r in resources if r["kind"] == "Deployment")["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsUser"] == 10001
        assert spec["containers"][0]["args"] == json.loads(cmd)
    (health,) = instruction("HEALTHCHECK")
    assert "http://127.0.0.1:8080/api/v2/metadata" in health and "urllib.request" in health


def test_two_stages_on_debian_bookworm_with_java_17() -> None:
    froms = instruction("FROM")
    assert [f.split()[-1] for f in froms] == ["builder", "runtime"]
    assert instruction("ARG") == ["PYTHON_IMAGE=python:3.11-slim-bookworm"]
    runs = " ".join(instruction("RUN"))
    assert "pip wheel --wheel-dir /wheels ." in runs
    assert "openjdk-17-jre-headless" in runs
    assert "--no-index --find-links=/wheels data-lake-collab" in runs
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "data-lake-collab"
    assert project["requires-python"].startswith(">=3.11")
    assert "collab" in project["scripts"]


def ignored(path: str) -> bool:
    """Whether deploy/Dockerfile.dockerignore keeps ``path`` out of the build context."""
    excluded = False
    for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        hit = any(
            fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.replace("**/", ""))
            for p in prefixes
        )
        if hit:
            excluded = not negate
    return excluded


def test_the_build_context_has_what_the_build_needs_and_nothing_more() -> None:
    copied = [args.split()[-2] for args in instruction("COPY") if "--from" not in args]
    copied = [source for source in copied if source != "."]  # the builder takes the context
    for source in [*copied, "pyproject.toml", "README.md", "collab/__init__.py"]:
        source = source.rstrip("/")
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is left out of the build context"
    private = [
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "notebooks/x.ipynb",
        "artifacts/x",
        "collab/__pycache__/x.pyc",
        "labext/node_modules/x",
    ]
    for path in private:
        assert ignored(path), path


# --- the Spark entrypoint -----------------------------------------------------------------------


@pytest.fixture
def stand_ins(tmp_path: Path) -> dict[str, str]:
    """A PATH whose java and $SPARK_HOME/bin/spark-submit print their arguments as JSON."""
    bin_dir = tmp_path / "bin"
    spark_home = tmp_path / "spark"
    (spark_home / "bin").mkdir(parents=True)
    bin_dir.mkdir()
    recorder = (
        f"#!{sys.executable}\nimport json, sys\nprint(json.dumps([sys.argv[0].split('/')[-1], "
        "*sys.argv[1:]]))\n"
    )
    for path in (bin_dir / "java", spark_home / "bin" / "spark-submit"):
        path.write_text(recorder)
        path.chmod(0o755)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "SPARK_HOME": str(spark_home),
        "HOME": str(tmp_path),
    }


def run_entrypoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=30
    )


def test_the_entrypoint_is_executable_bash() -> None:
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    assert ENTRYPOINT.read_text().startswith("#!/bin/bash\n")
    assert subprocess.run(["bash", "-n", str(ENTRYPOINT)]).returncode == 0
    copies = [a for a in instruction("COPY") if "deploy/bin/spark-entrypoint" in a]
    assert copies and copies[0].split()[-1] == "/opt/collab/bin/spark-entrypoint"


def test_an_executor_gets_sparks_settings_in_order(stand_ins: dict[str, str]) -> None:
    spark = {
        "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@10.0.0.5:7078",
        "SPARK_EXECUTOR_ID": "3",
        "SPARK_EXECUTOR_CORES": "2",
        "SPARK_EXECUTOR_MEMORY": "4g",
        "SPARK_APPLICATION_ID": "spark-application-1",
        "SPARK_EXECUTOR_POD_IP": "10.0.0.9",
        "SPARK_EXECUTOR_POD_NAME": "collab-lake-exec-3",
        "SPARK_RESOURCE_PROFILE_ID": "0",
        "SPARK_CONF_DIR": "/opt/spark/conf",
        # Spark numbers them; 10 must come after 9, and a value may hold spaces
        **{f"SPARK_JAVA_OPT_{i}": f"-Dopt{i}=x" for i in range(12)},
        "SPARK_JAVA_OPT_5": "-Dspaced=a b",
    }
    done = run_entrypoint({**stand_ins, **spark}, "executor")
    assert done.returncode == 0, done.stderr
    argv = json.loads(done.stdout)
    assert argv[0] == "java"
    options = [a for a in argv if a.startswith("-D")]
    expected = [f"-Dopt{i}=x" for i in range(12)]
    expected[5] = "-Dspaced=a b"
    assert options == expected
    assert argv[argv.index("-cp") + 1] == f"/opt/spark/conf:{stand_ins['SPARK_HOME']}/jars/*"
    assert "-Xmx4g" in argv and "-Xms4g" in argv
    main = argv.index("org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend")
    flags = dict(zip(argv[main + 1 :: 2], argv[main + 2 :: 2], strict=True))
    assert flags == {
        "--driver-url": spark["SPARK_DRIVER_URL"],
        "--executor-id": "3",
        "--cores": "2",
        "--app-id": "spark-application-1",
        "--hostname": "10.0.0.9",
        "--resourceProfileId": "0",
        "--podName": "collab-lake-exec-3",
    }


def test_an_executor_without_sparks_settings_says_which_is_missing(
    stand_ins: dict[str, str],
) -> None:
    done = run_entrypoint({**stand_ins, "SPARK_EXECUTOR_MEMORY": "1g"}, "executor")
    assert done.returncode != 0 and "SPARK_DRIVER_URL" in done.stderr


def test_a_driver_runs_spark_submit_in_client_mode(stand_ins: dict[str, str]) -> None:
    env = {**stand_ins, "SPARK_DRIVER_BIND_ADDRESS": "10.0.0.7"}
    done = run_entrypoint(env, "driver", "--properties-file", "/opt/spark/conf/x", "local:///j.py")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "spark-submit",
        "--deploy-mode",
        "client",
        "--conf",
        "spark.driver.bindAddress=10.0.0.7",
        "--conf",
        "spark.executorEnv.SPARK_DRIVER_POD_IP=10.0.0.7",
        "--properties-file",
        "/opt/spark/conf/x",
        "local:///j.py",
    ]


def test_other_commands_pass_through_and_no_command_is_an_error(
    stand_ins: dict[str, str],
) -> None:
    done = run_entrypoint(stand_ins, "echo", "hello")
    assert done.returncode == 0 and done.stdout == "hello\n"
    done = run_entrypoint(stand_ins)
    assert done.returncode == 2 and "usage" in done.stderr


# --- the batch job ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_batch_job_copies_a_csv_into_parquet(tmp_path: Path) -> None:
    source = tmp_path / "incoming.csv"
    frame = pd.DataFrame({"patient_id": [f"P{i}" for i in range(40)], "x": range(40)})
    frame.to_csv(source, index=False)
    target = tmp_path / "patients.parquet"
    job = DEPLOY / "jobs" / "prepare_table.py"
    args = ["--source", str(source), "--target", str(target), "--partitions", "2"]
    env = {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_SUBMIT_ARGS": "--master local[1] --conf spark.ui.enabled=false pyspark-shell",
    }
    done = subprocess.run(
        [sys.executable, str(job), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"wrote {target}: 2 columns, 2 files" in done.stdout
    written = pd.read_parquet(target).sort_values("x").reset_index(drop=True)
    pd.testing.assert_frame_equal(written, frame, check_dtype=False)
    # the default mode refuses to overwrite a table the lake may be reading
    again = subprocess.run(
        [sys.executable, str(job), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode != 0 and "already exists" in again.stderr


# --- the entrypoint against a real Spark driver -------------------------------------------------

DRIVER = """
import json, os, sys
from pyspark.sql import SparkSession

master, driver_port, block_port, out = sys.argv[1:5]
spark = (
    SparkSession.builder.master(master).appName("entrypoint-test")
    .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.port", driver_port).config("spark.blockManager.port", block_port)
    .config("spark.cores.max", "1").config("spark.executor.memory", "512m")
    .getOrCreate()
)
sc = spark.sparkContext
options = sc.getConf().get("spark.executor.extraJavaOptions", "")
with open(out + ".app", "w") as f:
    json.dump({"app_id": sc.applicationId, "java_options": options}, f)


def where(_):
    import os

    import collab  # the image's packages are importable in the executor's Python workers

    yield [collab.__name__, os.environ.get("SPARK_EXECUTOR_POD_NAME")]


tasks = sc.parallelize(range(4), 2).mapPartitions(where).collect()
frame = spark.range(1000)
rows = frame.mapInArrow(lambda batches: batches, frame.schema).count()  # Arrow on Java 17
with open(out, "w") as f:
    json.dump({"tasks": tasks, "rows": rows}, f)
spark.stop()
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(path: Path, process: subprocess.Popen[bytes], seconds: float) -> dict:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return json.loads(path.read_text())
        assert process.poll() is None, f"exited with {process.returncode}"
        time.sleep(0.5)
    raise AssertionError(f"no {path.name} within {seconds} s")


@pytest.mark.slow
def test_the_entrypoint_runs_a_real_executor_for_a_spark_driver(tmp_path: Path) -> None:
    """A Spark 4 driver (standalone master, no workers) gets its only executor from
    `spark-entrypoint executor`, given the variables Spark's Kubernetes mode sets in executor
    pods; the executor runs Python tasks that import collab, and an Arrow job."""
    import shlex

    import pyspark

    spark_home = Path(pyspark.__file__).parent
    master_port, driver_port, block_port = free_port(), free_port(), free_port()
    script, out = tmp_path / "driver.py", tmp_path / "result.json"
    script.write_text(DRIVER)
    env = {**os.environ, "SPARK_HOME": str(spark_home), "PYSPARK_PYTHON": sys.executable}
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in ("master", "driver", "exec")}
    started: list[subprocess.Popen[bytes]] = []
    try:
        master = subprocess.Popen(
            [str(spark_home / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master",
             "--host", "127.0.0.1", "--port", str(master_port), "--webui-port", str(free_port())],
            env=env, stdout=logs["master"], stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(master)
        driver = subprocess.Popen(
            [sys.executable, str(script), f"spark://127.0.0.1:{master_port}", str(driver_port),
             str(block_port), str(out)],
            env=env, stdout=logs["driver"], stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(driver)
        app = wait_for(Path(f"{out}.app"), driver, 180)
        executor_env = {
            **env,
            "SPARK_DRIVER_URL": f"spark://CoarseGrainedScheduler@127.0.0.1:{driver_port}",
            "SPARK_EXECUTOR_ID": "1",
            "SPARK_EXECUTOR_CORES": "1",
            "SPARK_EXECUTOR_MEMORY": "512m",
            "SPARK_APPLICATION_ID": app["app_id"],
            "SPARK_EXECUTOR_POD_IP": "127.0.0.1",
            "SPARK_EXECUTOR_POD_NAME": "collab-lake-exec-1",
            "SPARK_RESOURCE_PROFILE_ID": "0",
        }
        # Spark passes the executor's JVM options (Java 17's --add-opens among them) one a variable
        for i, option in enumerate(shlex.split(app["java_options"])):
            executor_env[f"SPARK_JAVA_OPT_{i}"] = option
        executor = subprocess.Popen(
            [str(ENTRYPOINT), "executor"], env=executor_env, stdout=logs["exec"],
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(executor)
        result = wait_for(out, driver, 240)
        assert result["tasks"] == [["collab", "collab-lake-exec-1"]] * 2
        assert result["rows"] == 1000
        assert driver.wait(timeout=60) == 0
        executor.wait(timeout=60)  # it leaves when its driver stops
        assert "Successfully registered with driver" in (tmp_path / "exec.log").read_text()
    finally:
        for process in reversed(started):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in logs.values():
            log.close()
