"""`collab lake serve`: a lake from a config file, secrets from the environment, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from lake_processes import ADMIN_PASSWORD, lake_env, start, write_config

import collab
from collab.lake._config import load_config

pytestmark = [pytest.mark.http, pytest.mark.slow]

FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "worst_area"]


def collab_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collab", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )


def test_a_served_lake_trains_stops_on_sigterm_and_reopens_with_everything(
    tmp_path, patients_parquet, ports, scientist
):
    port, data_dir = ports(), tmp_path / "records"
    config = write_config(
        tmp_path / "lake.toml", name="st-anne", port=port, data_dir=data_dir, table=patients_parquet
    )
    url = f"http://127.0.0.1:{port}"
    env = lake_env()
    process = start(config, env)
    try:
        fed = collab.connect([url], email=scientist[0], password=scientist[1])
        assert fed.tables == {"st-anne": ["patients"]}
        job = fed.submit(
            collab.plans.LogisticRegression(
                table="patients", features=FEATURES, label="malignant", rounds=3
            )
        )

        listed = collab_cli("lake", "requests", "--config", str(config), env=env)
        assert listed.returncode == 0, listed.stderr
        assert "ada@uni.edu" in listed.stdout and "pending" in listed.stdout
        request_id = next(w for w in listed.stdout.split() if len(w) == 32)
        approved = collab_cli("lake", "approve", request_id[:10], "--config", str(config), env=env)
        assert approved.returncode == 0 and request_id in approved.stdout, approved.stderr

        model = job.result(progress=False, timeout=900)
        assert len(job.history) == 3 and model.coef_.shape == (4,)
        status = collab_cli("lake", "status", "--config", str(config), env=env)
        assert "requests pending: 0" in status.stdout and "intact" in status.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
    assert process.returncode == 0

    process = start(config, env)  # the same data_dir: everything comes back
    try:
        lake = collab.Lake.attach(data_dir, url, ADMIN_PASSWORD)
        assert lake.tables == ["patients"]
        assert lake._state.approval(job.job_id).status == "approved"
        actions = list(lake.audit["action"])
        assert actions.count("approve") == 1 and "lake reopened" in actions
        # set-up, then 5 masked sums, each unmasked: statistics, 3 rounds, the final
        # evaluation on the held-out rows
        assert actions.count("release") == 3 + 2 * 5
        assert lake.verify_audit()
        again = collab.connect([url], email=scientist[0], password=scientist[1])
        assert again.tables == {"st-anne": ["patients"]}  # the scientist's account survived
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)


def test_serve_refuses_the_default_admin_password(tmp_path, patients_parquet, ports):
    config = write_config(
        tmp_path / "lake.toml",
        name="st-anne",
        port=ports(),
        data_dir=tmp_path / "r",
        table=patients_parquet,
    )
    result = collab_cli(
        "lake", "serve", "--config", str(config), env=lake_env(COLLAB_ADMIN_PASSWORD="changethis")
    )
    assert result.returncode == 1
    assert "default admin password" in result.stderr


def test_a_secret_in_the_config_file_is_refused(tmp_path):
    path = tmp_path / "lake.toml"
    path.write_text('[lake]\nname = "x"\nadmin_password = "hunter2hunter2"\n')
    with pytest.raises(collab.CollabError, match="admin_password.*secret"):
        load_config(path)
    path.write_text('[lake]\nname = "x"\nprot = 80\n')
    with pytest.raises(collab.CollabError, match="unknown setting 'prot'"):
        load_config(path)


def test_published_bounds_are_read_and_a_malformed_range_is_named(tmp_path):
    path = tmp_path / "lake.toml"
    table = '[[tables]]\nname = "patients"\npath = "/data/p.parquet"\n'
    path.write_text(f'[lake]\nname = "x"\n{table}bounds = {{ age = [0, 120] }}\n')
    assert load_config(path).tables[0].publication.bounds == {"age": (0.0, 120.0)}
    path.write_text(f'[lake]\nname = "x"\n{table}bounds = {{ age = [120] }}\n')
    with pytest.raises(collab.CollabError, match=r"\[bounds\]: 'age' must be \[low, high\]"):
        load_config(path)
