"""Lakes served over HTTP (Datasites in child processes, each with its own Spark)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import collab

pytestmark = [pytest.mark.http, pytest.mark.slow]


@pytest.fixture(scope="module")
def served_demo(ports):
    with collab.demo.hospitals(n=3, split="iid", seed=0, ports=[ports() for _ in range(3)]) as demo:
        yield demo


def test_http_lakes_train_the_same_model_as_in_process_lakes(served_demo, iid_demo, scientist):
    urls = [lake.url for lake in served_demo.lakes]
    fed = collab.connect(urls, email=scientist[0], password=scientist[1])
    assert fed.lakes == ["st-mary", "st-jude", "riverside"]
    plan = served_demo.plan(rounds=6)
    job = fed.submit(plan)
    served_demo.approve_all()
    served = job.result(progress=False, timeout=600)

    local_job = iid_demo.federation.submit(plan)
    iid_demo.approve_all()
    local = local_job.result(progress=False, timeout=900)
    np.testing.assert_allclose(served.coef_, local.coef_, rtol=0, atol=1e-6)
    assert abs(served.intercept_ - local.intercept_) < 1e-6


def test_a_lake_that_goes_down_mid_training_is_named(served_demo, scientist):
    urls = [lake.url for lake in served_demo.lakes]
    fed = collab.connect(urls, email=scientist[0], password=scientist[1])
    # Every lake is needed (threshold 3 of 3): below the default majority a dropped lake
    # leaves the job to go on without it (tests/test_privacy.py covers that).
    job = fed.submit(served_demo.plan(rounds=500, local_epochs=1, secure_threshold=3))
    served_demo.approve_all()
    deadline = time.monotonic() + 300
    while job.rounds_done < 2 and time.monotonic() < deadline and not job.done:
        time.sleep(0.2)
    assert job.rounds_done >= 2, job
    victim = served_demo.lakes[2]
    victim.stop()
    with pytest.raises(collab.LakeError) as failure:
        job.result(progress=False, timeout=120)
    assert failure.value.lake == victim.name
    assert job.lake_states[victim.name] == "failed"
