"""Gradient-boosted trees across three uneven lakes, against scikit-learn on the pooled rows.

The lakes sum per-node gradient histograms under secure aggregation; the coordinator grows
the trees. Here: accuracy and RMSE against ``HistGradientBoosting*`` with the same settings,
the exported scikit-learn model, the owner's minimum per node, categories and missing
values, DP, governance, and what the coordinator sees of one round.
"""

from __future__ import annotations

import dataclasses
import glob
import itertools
import os
import time
import uuid

import numpy as np
import pandas as pd
import pytest

import collab
from collab.plans import BoostedTreesClassifier, BoostedTreesRegressor, GradientBoostedTrees
from collab.plans._trees._arrays import TreeArrays

N_TREES, MAX_DEPTH = 10, 3
TABLES = {"binary": "biopsies", "squared_error": "diabetes"}


def sklearn_fit(objective: str, table, plan: GradientBoostedTrees):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    estimator = (
        HistGradientBoostingClassifier if objective == "binary" else HistGradientBoostingRegressor
    )
    return estimator(
        max_iter=plan.n_trees,
        max_depth=plan.max_depth,
        learning_rate=plan.learning_rate,
        max_bins=plan.max_bins,
        l2_regularization=plan.l2,
        min_samples_leaf=plan.min_rows,
        max_leaf_nodes=None,
        early_stopping=False,
    ).fit(table.pooled[table.features], table.pooled[table.label])


def train(uneven, objective: str):
    table = uneven.tables[TABLES[objective]]
    plan = GradientBoostedTrees(
        table=table.name,
        features=table.features,
        label=table.label,
        n_trees=N_TREES,
        max_depth=MAX_DEPTH,
        objective=objective,
    )
    job, model = uneven.train(plan)
    return table, plan, job, model


@pytest.fixture(scope="module")
def binary(uneven):
    return train(uneven, "binary")


@pytest.fixture(scope="module")
def regression(uneven):
    return train(uneven, "squared_error")


@pytest.fixture(params=["binary", "squared_error"])
def trained(request):
    return request.getfixturevalue("binary" if request.param == "binary" else "regression")


def reached(model, X: np.ndarray) -> np.ndarray:
    """Per tree, how many of the rows ``X`` pass through each node (counted here)."""
    counts = []
    for tree in model.trees_:
        arrays = TreeArrays.of(tree)
        n = np.zeros(len(tree["left"]))
        node = np.zeros(len(X), dtype=int)
        n[0] = len(X)
        for _ in range(arrays.depth):
            inner = arrays.left[node] >= 0
            x = X[np.arange(len(X)), np.where(inner, arrays.feature[node], 0)]
            left = np.where(np.isnan(x), arrays.missing_left[node], x <= arrays.threshold[node])
            node = np.where(inner, np.where(left, arrays.left[node], arrays.right[node]), node)
            np.add.at(n, node[inner], 1)
        counts.append(n)
    return counts


def test_accuracy_and_rmse_match_scikit_learn_on_the_pooled_rows(trained):
    table, plan, job, model = trained
    objective = plan.objective
    test = table.test
    central = sklearn_fit(objective, table, plan)
    # the yardstick the demo and notebook fit is the same estimator as this one
    assert type(plan.sklearn_estimator()) is type(central)
    assert plan.sklearn_estimator().get_params() == central.get_params()
    truth = test[table.label].to_numpy()
    if objective == "binary":
        assert isinstance(model, BoostedTreesClassifier)
        ours, theirs = model.score(test, truth), central.score(test[table.features], truth)
        assert ours >= theirs - 0.01, (ours, theirs)
        assert ours > 0.9
    else:
        assert isinstance(model, BoostedTreesRegressor)

        def rmse(predicted):
            return float(np.sqrt(np.mean((predicted - truth) ** 2)))

        ours, theirs = rmse(model.predict(test)), rmse(central.predict(test[table.features]))
        assert ours <= 1.02 * theirs, (ours, theirs)
    assert model.n_estimators_ == N_TREES
    assert job.rounds_done == plan.total_rounds == 1 + N_TREES * MAX_DEPTH + 1


def test_to_sklearn_predicts_identically_on_held_out_rows(trained):
    table, plan, _job, model = trained
    exported = model.to_sklearn()
    X = table.test[table.features]
    if plan.objective == "binary":
        assert type(exported).__name__ == "HistGradientBoostingClassifier"
        np.testing.assert_allclose(
            exported.predict_proba(X), model.predict_proba(table.test), rtol=0, atol=1e-12
        )
        assert (exported.predict(X) == model.predict(table.test)).all()
    else:
        assert type(exported).__name__ == "HistGradientBoostingRegressor"
    np.testing.assert_allclose(
        exported.predict(X).astype(float), model.predict(table.test), rtol=0, atol=1e-12
    )
    assert exported.n_iter_ == model.n_estimators_
    assert exported.get_params()["max_iter"] == N_TREES
    assert exported.get_params()["learning_rate"] == plan.learning_rate


def test_node_counts_are_the_pooled_rows_and_no_split_leaves_fewer_than_the_minimum(trained):
    table, plan, _job, model = trained
    X = table.pooled[table.features].to_numpy(dtype=float)
    for tree, counted in zip(model.trees_, reached(model, X), strict=True):
        # the counts the coordinator grew the tree from are the masked sums' exact total
        np.testing.assert_allclose(tree["count"], counted, rtol=0, atol=1e-6)
        assert min(tree["count"]) >= plan.min_rows == 20
        splits = [i for i, left in enumerate(tree["left"]) if left >= 0]
        assert splits and all(tree["gain"][i] > 0 for i in splits)
        assert max(tree["depth"]) <= MAX_DEPTH


def job_state_folders(job_id: str) -> list[str]:
    """The folders of ``job_id``'s state beside this process's kept rows (the lakes here run
    in this process)."""
    from collab.engine._rows import row_cache

    cache = row_cache()
    if cache._root is None:
        return []
    return glob.glob(os.path.join(cache.root, "*", f"job-{job_id}"))


def test_trees_trained_with_job_state_equal_trees_trained_without_it(uneven, binary):
    """The lakes keep each row's bin codes, score and node between rounds and derive half
    of each level's histograms by subtraction; without kept state every round rebuilds it
    from the rows, to the same trees. The state is gone once the job ended."""
    from collab.engine._rows import row_cache

    table, plan, job, model = binary
    assert job_state_folders(job.job_id) == []  # dropped after the final round
    assert all(job.job_id not in e.job_bytes for e in row_cache()._tables.values())
    cache = row_cache()
    cache.keep_job_state = False
    try:
        _job, rebuilt = uneven.train(plan)
    finally:
        cache.keep_job_state = True
    assert len(model.trees_) == len(rebuilt.trees_) == N_TREES
    for kept, fresh in zip(model.trees_, rebuilt.trees_, strict=True):
        for key in ("feature", "threshold", "missing_left", "left", "right", "depth"):
            assert kept[key] == fresh[key], key
        for key in ("value", "count", "gain"):
            np.testing.assert_allclose(kept[key], fresh[key], rtol=0, atol=1e-12)
    X = table.test[table.features]
    np.testing.assert_allclose(model.predict_proba(X), rebuilt.predict_proba(X), rtol=0, atol=1e-12)


def test_a_denied_job_leaves_no_state_on_the_lake(uneven):
    table = uneven.tables["biopsies"]
    plan = GradientBoostedTrees(
        table=table.name, features=table.features, label=table.label, n_trees=50, max_depth=3
    )
    job = uneven.federation.submit(plan)
    for lake in uneven.lakes:
        for request in lake.requests:
            if request.job_id == job.job_id:
                request.approve()
    while job.rounds_done < 3 and not job.done:
        time.sleep(0.005)
    assert len(job_state_folders(job.job_id)) == len(uneven.lakes)  # one table's per lake
    owner = uneven.lakes[0]
    request = next(r for r in owner.all_requests("approved") if r.job_id == job.job_id)
    request.deny("enough")
    with pytest.raises(collab.CollabError, match="denied"):
        job.result(progress=False, timeout=300)
    # a step already running on another lake when the owner denied removes what it wrote
    deadline = time.monotonic() + 120
    while job_state_folders(job.job_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job_state_folders(job.job_id) == []


def test_history_is_readable_per_tree_and_every_round_is_audited(uneven, trained):
    _table, _plan, job, model = trained
    history = job.history
    assert list(history.columns) == ["round", "loss", "score", "trees", "level", "rows", "seconds"]
    assert len(history) == job.rounds_done
    assert history["level"].iloc[1 : 1 + MAX_DEPTH].tolist() == list(range(MAX_DEPTH))
    per_tree = model.history_by_tree()
    assert per_tree["trees"].tolist() == list(range(N_TREES + 1))
    assert (np.diff(per_tree["loss"]) < 0).all()  # every tree lowers the training loss
    assert per_tree["score"].iloc[-1] > per_tree["score"].iloc[0]
    for lake in uneven.lakes:
        log = lake.audit
        mine = log[log["detail"].str.contains(job.job_id)]
        # three set-up exchanges, then each round's masked vector and its unmasking share
        assert (mine["action"] == "release").sum() == 3 + 2 * job.rounds_done


def test_the_model_saves_loads_and_renders(tmp_path, trained):
    table, _plan, _job, model = trained
    loaded = collab.load_model(model.save(tmp_path / "trees.json"))
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(table.test), model.predict(table.test))
    again = type(model).from_json(model.to_json())
    np.testing.assert_array_equal(
        again.decision_function(table.test), model.decision_function(table.test)
    )
    assert again.trees_ == model.trees_ and again.bin_edges_ == model.bin_edges_
    importances = model.feature_importances_
    assert importances.shape == (len(table.features),) and importances.sum() == pytest.approx(1)
    text = model.tree_text(0)
    first = model.trees_[0]
    assert text.splitlines()[0].startswith(
        f"{table.features[first['feature'][0]]} <= {first['threshold'][0]:.6g}"
    )
    assert text.count("leaf") == sum(left < 0 for left in first["left"])
    html = model._repr_html_()
    assert "Feature importance" in html and "Tree 1" in html


def test_a_split_below_the_owners_minimum_is_never_taken(uneven, binary):
    table = uneven.tables["biopsies"]
    name = uneven.host(
        "biopsies_min60", table.train, table.parts, bounds={}, max_epsilon=None, min_rows=60
    )
    plan = GradientBoostedTrees(
        table=name, features=table.features, label=table.label, n_trees=3, max_depth=MAX_DEPTH
    )
    # None takes the owners' minimum; a smaller one is refused, naming the lake
    assert uneven.federation.check(plan).min_rows_in_leaf == 60
    assert uneven.federation.check(dataclasses.replace(plan, min_rows_in_leaf=70)).min_rows == 70
    with pytest.raises(
        collab.PolicyViolation,
        match=r"lake 'north', table 'biopsies_min60': min_rows_in_leaf is 20.*"
        r"set min_rows_in_leaf=60",
    ):
        uneven.federation.check(dataclasses.replace(plan, min_rows_in_leaf=20))
    # with 20 the minimum binds: the same rows grow leaves of fewer than 60
    _, _, _, unconstrained = binary
    assert min(min(t["count"]) for t in unconstrained.trees_) < 60
    job, model = uneven.train(plan)
    X = table.pooled[table.features].to_numpy(dtype=float)
    for tree, counted in zip(model.trees_, reached(model, X), strict=True):
        np.testing.assert_allclose(tree["count"], counted, rtol=0, atol=1e-6)
        assert min(tree["count"]) >= 60
    assert job.status == "done"


class Recording:
    """A party that keeps every answer it hands the coordinator."""

    def __init__(self, party) -> None:
        self.name, self._party, self.answers = party.name, party, {}

    def compute(self, message):
        answer = self._party.compute(message)
        self.answers[(message["phase"], message["round"])] = (message, answer)
        return answer


def test_the_coordinator_sees_only_the_sum_of_a_rounds_histograms(uneven):
    """Each lake's handler and masking, as lakes run them, over the lakes' rows of
    ``biopsies``: what the coordinator receives for a level round reveals the pooled
    histogram and no lake's own, nor the sum of any two lakes'."""
    from collab.protocol import ArrayRows
    from collab.scientist._coordinator import Coordinator
    from collab.scientist._parties import LocalParty
    from collab.secure import decode, unmask, unpack

    table = uneven.tables["biopsies"]
    plan = GradientBoostedTrees(
        table=table.name, features=table.features, label=table.label, n_trees=2, max_depth=2
    )
    X = table.pooled[table.features].to_numpy(dtype=float)
    y = table.pooled[table.label].to_numpy(dtype=float)
    job_id = uuid.uuid4().hex
    parties = [
        Recording(LocalParty(lake, plan, ArrayRows(X[rows], y[rows]), job_id=job_id))
        for lake, rows in zip(("north", "central", "south"), table.parts, strict=True)
    ]
    coordinator = Coordinator(plan, parties, job_id=job_id)
    coordinator.fit()

    r = 3  # the first tree's second level: two open nodes
    message = parties[0].answers[("round", r)][0]
    assert message["request"]["kind"] == "level" and len(message["request"]["open"]) == 2
    own = {
        p.name: plan.local_update(X[rows], y[rows], message["request"]).released()
        for p, rows in zip(parties, table.parts, strict=True)
    }
    pooled = plan.local_update(X, y, message["request"]).released()
    assert np.abs(pooled).max() > 10  # real histograms: rows and gradient sums
    masked = {p.name: unpack(p.answers[("round", r)][1]["masked"]) for p in parties}
    for size in (1, 2):
        for group in itertools.combinations(masked, size):
            seen = decode(np.sum([masked[n] for n in group], axis=0, dtype=np.uint64))
            truth = np.sum([own[n] for n in group], axis=0)
            assert np.abs(seen - truth).max() > 1e6, group  # masks, not histograms
    secure = coordinator.progress.secure
    total = unmask(
        job=job_id,
        slot=r,
        roster=secure["roster"],
        public=secure["public"],
        threshold=secure["threshold"],
        participants=message["participants"],
        masked=masked,
        reveals={p.name: p.answers[("unmask", r + 1)][1]["reveal"] for p in parties},
    )
    np.testing.assert_allclose(total, pooled, rtol=0, atol=1e-6)


def test_categories_and_missing_values_through_real_lakes(uneven):
    rng = np.random.default_rng(7)
    n = 900
    frame = pd.DataFrame(
        {
            "dose": np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1, n)),
            "site": rng.choice(["ward", "clinic", "home"], n),
        }
    )
    risk = np.nan_to_num(frame["dose"].to_numpy(), nan=2.0) + 1.5 * (frame["site"] == "home")
    frame["event"] = (risk + rng.normal(0, 0.3, n) > 1.0).astype("int32")
    train, test = frame.iloc[:700].reset_index(drop=True), frame.iloc[700:].reset_index(drop=True)
    parts = np.split(rng.permutation(len(train)), [150, 350])
    name = uneven.host(
        "trees_mixed",
        train,
        parts,
        bounds={},
        max_epsilon=None,
        categories={"site": ["clinic", "home", "ward"]},
    )
    plan = GradientBoostedTrees(
        table=name, features=["dose", "site"], label="event", n_trees=8, max_depth=2,
        learning_rate=0.5,
    )  # fmt: skip
    job, model = uneven.train(plan)
    assert model.features == ("dose", "site=clinic", "site=home", "site=ward")
    assert model.score(test, test["event"]) > 0.9
    # a missing dose counts as a high one in the labels: the learned directions send it so
    gap = test["dose"].isna().to_numpy()
    assert gap.sum() > 20 and model.score(test[gap], test["event"][gap]) > 0.95
    assert model.predict_proba(test[gap])[:, 1].mean() > 0.8
    exported = model.to_sklearn()
    np.testing.assert_allclose(
        exported.predict_proba(test[["dose", "site"]]), model.predict_proba(test), atol=1e-12
    )
    assert job.status == "done"


def test_dp_trees_add_noise_bin_over_published_bounds_and_charge_the_budget(uneven):
    from collab.demo._hospitals import _published_range

    table = uneven.tables["biopsies"]
    bounds = {c: _published_range(table.pooled[c]) for c in table.features}
    name = uneven.host(
        "biopsies_trees_dp", table.train, table.parts, bounds=bounds, max_epsilon=6.0
    )
    plan = GradientBoostedTrees(
        table=name,
        features=table.features,
        label=table.label,
        n_trees=2,
        max_depth=2,
        dp=collab.DP(epsilon=5.0),
    )
    checked = uneven.federation.check(plan)
    assert checked.encoding["bounds"] == {c: list(b) for c, b in bounds.items()}
    _job, model = uneven.train(plan)
    low, high = bounds[table.features[0]]
    np.testing.assert_allclose(
        model.bin_edges_[0], np.linspace(low, high, plan.max_bins + 1)[1:-1], rtol=0, atol=1e-9
    )
    counts = np.concatenate([t["count"] for t in model.trees_])
    assert not np.allclose(counts, np.round(counts))  # the counts carry noise
    for lake in uneven.lakes:
        spent = lake.budget("ada@uni.edu").set_index("table")
        assert spent.loc[name, "epsilon spent"] == pytest.approx(5.0)


def test_simulate_and_the_owners_allowed_models(uneven):
    table = uneven.tables["biopsies"]
    plan = GradientBoostedTrees(
        table=table.name, features=table.features, label=table.label, n_trees=2, max_depth=2
    )
    job = uneven.federation.simulate(plan)
    assert job.status == "done", job.error
    assert len(job.history) == plan.total_rounds
    name = uneven.host(
        "biopsies_linear_only",
        table.train,
        table.parts,
        bounds={},
        max_epsilon=None,
        allowed_models=("logistic_regression",),
    )
    with pytest.raises(
        collab.PolicyViolation,
        match="lake 'north', table 'biopsies_linear_only': the owner allows only "
        "logistic_regression models, not gradient_boosted_trees",
    ):
        uneven.federation.check(dataclasses.replace(plan, table=name))


def test_settings_are_validated_and_the_plan_round_trips_as_a_spec():
    plan = GradientBoostedTrees(
        table="t", features=["a", "b"], label="y", objective="squared_error"
    )
    assert type(plan).__name__ == "GradientBoostedTreesRegression" and plan.task == "regression"
    assert collab.plans.Plan.from_spec(plan.to_spec()) == plan
    assert collab.plans.families()["gradient_boosted_trees"] is GradientBoostedTrees
    for setting, value, message in [
        ("max_depth", 0, "max_depth must be a whole number"),
        ("max_bins", 1, "max_bins must be a whole number of at least 2"),
        ("objective", "poisson", "objective must be one of binary, squared_error"),
        ("learning_rate", 0.0, "learning_rate must be positive"),
    ]:
        with pytest.raises(collab.PlanError, match=message):
            GradientBoostedTrees(table="t", features=["a"], label="y", **{setting: value})
    with pytest.raises(collab.PlanError, match=r"impute\('mean'\) on 'a': trees"):
        GradientBoostedTrees(
            table="t", features=["a"], label="y", transforms=[collab.features.impute("mean", "a")]
        )


def test_a_blocks_step_is_the_same_whatever_part_of_its_state_is_left():
    """A block's kept state is a cache that can lose any of its files (a removal racing the
    step that writes them, the budget, a restart), or be ahead of the request (a resumed
    job resends a round): every round's sums equal those of a block with no state."""

    def read_only(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for array in state.values():
            array.setflags(write=False)  # as mapped from shared memory
        return state

    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    X[::13, 1] = np.nan
    y = (X[:, 0] + 0.5 * np.nan_to_num(X[:, 1]) > 0).astype(float)
    plan = GradientBoostedTrees(
        table="t", features=["a", "b", "c"], label="y", n_trees=3, max_depth=2
    )
    coordinator, round_, kept = plan.start(None), 1, {}
    requests, states = [], []  # each round's request and the state the block holds after it
    while (request := plan.round_request(coordinator, round_)) is not None:
        fresh = plan.local_update(X, y, request)
        with_state = plan.job_update(X, y, request, kept, None)
        np.testing.assert_array_equal(with_state.flat(), fresh.flat())
        kept = read_only(dict(kept))
        requests.append((request, fresh.flat()))
        states.append(kept)
        coordinator, round_ = plan.absorb(coordinator, fresh), round_ + 1
    assert len(coordinator["trees"]) == plan.n_trees
    for i, (request, fresh) in enumerate(requests[1:], start=1):
        held = states[i - 1]  # what the block kept from the round before
        variants = [{k: v for k, v in held.items() if k != gone} for gone in held]
        variants.append(states[i])  # ahead: this very round computed already
        for state in variants:
            answer = plan.job_update(X, y, request, dict(state), None).flat()
            np.testing.assert_array_equal(answer, fresh, err_msg=f"round {i + 1}")
