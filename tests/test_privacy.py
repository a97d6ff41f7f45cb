"""Privacy on real lakes: secure aggregation changes nothing but what the coordinator sees;
DP spends a budget the owner sets and keeps; a dropped lake is survived or stops the job."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from lake_processes import SCIENTIST, process_on_port

import collab


def run(demo, plan, timeout=900):
    job = demo.federation.submit(plan)
    demo.approve_all()
    return job, job.result(progress=False, timeout=timeout)


def test_secure_aggregation_on_and_off_train_the_same_model(iid_demo):
    _, masked = run(iid_demo, iid_demo.plan(rounds=8, secure_aggregation=True))
    _, plain = run(iid_demo, iid_demo.plan(rounds=8, secure_aggregation=False))
    np.testing.assert_allclose(masked.coef_, plain.coef_, rtol=0, atol=1e-6)
    assert abs(masked.intercept_ - plain.intercept_) < 1e-6


def test_a_lake_answers_only_masked_vectors_when_the_plan_asks_for_it(iid_demo):
    job, _ = run(iid_demo, iid_demo.plan(rounds=2))
    stored = (
        iid_demo.lakes[0]
        ._state._db()
        .execute(
            "SELECT phase, result FROM executions WHERE job_id=? AND phase IN ('stats','round')",
            (job.job_id,),
        )
        .fetchall()
    )
    assert len(stored) == 3
    for _, result in stored:
        assert set(json.loads(result)) == {"masked"}  # never a plain vector


def test_dp_training_spends_the_ledger_and_a_plan_past_the_limit_is_refused(tmp_path):
    with collab.demo.hospitals(n=3, seed=0, data_dir=tmp_path) as demo:
        policy = collab.Policy(max_epsilon=3.0, auto_approve=True)
        for lake in demo.lakes:
            lake.set_policy("patients", policy)
        fed = demo.federation
        # this federation saw the policy published when the table was added; the new one is
        # enforced by each lake, which refuses the plan when it arrives
        refused = fed.submit(demo.plan(rounds=5))
        with pytest.raises(collab.PolicyViolation, match="requires differential privacy"):
            refused.result(progress=False, timeout=120)

        plan = demo.plan(
            rounds=10, local_epochs=1, learning_rate=1.0, dp=collab.DP(epsilon=2.0, delta=1e-5)
        )
        job = fed.submit(plan)
        model = job.result(progress=False, timeout=900)
        test = demo.test_set()
        assert model.score(test[demo.features], test[demo.label]) > 0.8
        budget = demo.lakes[0].budget(SCIENTIST[0]).set_index("table")
        assert budget.loc["patients", "epsilon spent"] == pytest.approx(2.0)
        assert budget.loc["patients", "epsilon left"] == pytest.approx(1.0)

        # each lake told the scientist their budget: the plan past it is refused unsent
        sent = [len(lake.all_requests()) for lake in demo.lakes]
        with pytest.raises(collab.BudgetExceeded, match="at most 1") as refusal:
            fed.submit(demo.plan(rounds=10, local_epochs=1, dp=collab.DP(epsilon=1.5)))
        # the lake whose budget is short is named
        name = refusal.value.lake
        assert name in fed.lakes
        assert str(refusal.value).startswith(f"lake {name!r}: table 'patients': ")
        assert [len(lake.all_requests()) for lake in demo.lakes] == sent

        lake = demo.lakes[0]
        lake.stop()
        reopened = collab.Lake.launch(lake.name, data_dir=lake.data_dir)
        demo.lakes[0] = reopened
        assert reopened.budget(SCIENTIST[0]).set_index("table").loc[
            "patients", "epsilon spent"
        ] == pytest.approx(2.0)  # the ledger survived


@pytest.mark.http
@pytest.mark.slow
@pytest.mark.parametrize(("threshold", "completes"), [(3, True), (4, False)])
def test_killing_one_of_four_lakes_mid_training(ports, threshold, completes):
    port = ports()
    with collab.demo.hospitals(n=4, seed=2, ports=[None, None, None, port]) as demo:
        job = demo.federation.submit(
            demo.plan(rounds=150, local_epochs=1, secure_threshold=threshold)
        )
        demo.approve_all()
        deadline = time.monotonic() + 300
        while job.rounds_done < 2 and not job.done and time.monotonic() < deadline:
            time.sleep(0.05)
        victim = demo.lakes[3].name
        process_on_port(port).kill()
        if completes:
            model = job.result(progress=False, timeout=900)
            assert job.rounds_done == 150
            assert job.lake_states[victim] == "dropped"
            assert victim not in model.lakes and len(model.lakes) == 3
        else:
            with pytest.raises(collab.LakeError) as failure:
                job.result(progress=False, timeout=900)
            assert failure.value.lake == victim
            assert "threshold of 4" in str(failure.value)
