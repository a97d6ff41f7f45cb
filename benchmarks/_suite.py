"""The sizes and settings of a benchmark run: the full suite and the smoke suite."""

from __future__ import annotations

from dataclasses import dataclass, field

WORKLOADS = (
    "yardsticks",
    "first_run",
    "demo",
    "sizes",
    "large",
    "lakes",
    "features",
    "memory",
    "families",
    "server_optimisers",
    "encoding",
    "round_cost",
    "trees",
    "streams",
    "survival",
    "mlp_step",
)
SERVER_OPTIMISERS = (
    ("sgd", 1.0),
    *((name, rate) for name in ("adam", "yogi", "adagrad") for rate in (0.03, 0.1, 0.3)),
)


@dataclass(frozen=True)
class Suite:
    """Sizes and settings of one benchmark run."""

    name: str
    yardstick_rows: int = 1_000_000
    sizes: tuple[int, ...] = (100_000, 1_000_000)  # 3 lakes, every round through PySyft
    large_sizes: tuple[int, ...] = (5_000_000,)  # 3 lakes, the engines driven directly
    lake_counts: tuple[int, ...] = (2, 5, 10)
    lakes_rows: int = 300_000
    lakes_rounds: int = 12  # the median of 11 rounds: a few milliseconds each, noisy alone
    feature_counts: tuple[int, ...] = (20, 1_000, 10_000)
    feature_rows: int = 3_000
    feature_rounds: int = 3
    feature_l2: float = 1e-3
    memory_rows: tuple[int, ...] = (333_334, 1_666_667)  # one lake's share of 1M and 5M
    rounds: int = 6
    warm_runs: bool = True  # run each secure-aggregation job again once the rows are kept
    step_repeats: int = 8  # local steps timed per plan in the yardsticks (median of the last)
    mllib_iterations: tuple[int, int] = (3, 13)
    batch_size: int = 1024
    learning_rate: float = 0.5
    dp_rounds: int = 30
    dp_learning_rate: float = 10.0
    demo_rounds: int = 30
    demo_dp_learning_rate: float = 1.0
    first_run_rounds: int = 30  # `python -m collab demo`'s own default
    family_sizes: tuple[int, ...] = (100_000, 1_000_000)  # 3 lakes, every round through PySyft
    family_rounds: int = 6
    mlp_hidden: tuple[int, ...] = (32,)
    mlp_batch_size: int = 64
    mlp_learning_rate: float = 0.1
    sklearn_mlp_epochs: int = 10
    mlp_step_rows: int = 1_000_000  # a perceptron's step vs one numpy pass, in memory
    mlp_step_repeats: int = 3
    demo_kernel_notebook: str | None = "03-federated-training.ipynb"  # its kernel's peak memory
    server_optimisers: tuple[tuple[str, float], ...] = SERVER_OPTIMISERS
    server_optimiser_rounds: int = 50
    encoding_rows: int = 1_000_000  # one lake, 5 text categories and 10 numbers with gaps
    encoding_repeats: int = 12  # round steps timed per plan (median of all but the first two)
    round_cost_lr_rounds: int = 20  # logistic regression rounds timed per setting
    round_cost_trees: tuple[int, int] = (10, 4)  # trees (n_trees, max_depth) timed per setting
    round_cost_served: bool = True  # also three lakes served over HTTP on loopback
    trees_demo_trees: int = 50
    trees_rows: tuple[int, ...] = (1_000_000,)  # synthetic thresholds signal, 3 uneven lakes
    trees_regression_rows: tuple[int, ...] = (1_000_000,)  # synthetic steps signal, as above
    trees_large_trees: int = 50
    trees_depth: int = 4
    trees_shares: tuple[float, ...] = (0.5, 0.3, 0.2)
    trees_test_rows: int = 50_000
    stream_rows: int = 1_000  # rows per file landing on each of 3 lakes
    stream_updates: int = 5  # files landed (and models retrained) per lake
    stream_rounds: int = 3  # rounds of each retraining
    survival_rows: int = 1_000_000  # Cox over 3 uneven lakes against lifelines' pooled fit
    driver_memory: str = "8g"
    workloads: tuple[str, ...] = WORKLOADS
    notes: tuple[str, ...] = field(default_factory=tuple)


FULL = Suite("full")
SMOKE = Suite(
    "smoke",
    yardstick_rows=5_000,
    sizes=(3_000,),
    large_sizes=(),
    lake_counts=(2, 3),
    lakes_rows=3_000,
    lakes_rounds=1,
    feature_counts=(5, 50),
    feature_rows=300,
    feature_rounds=1,
    memory_rows=(),
    rounds=1,
    dp_rounds=1,
    demo_rounds=1,
    first_run_rounds=2,
    family_sizes=(3_000,),
    family_rounds=1,
    sklearn_mlp_epochs=2,
    mlp_step_rows=3_000,
    mlp_step_repeats=1,
    demo_kernel_notebook=None,
    server_optimisers=(("sgd", 1.0), ("adam", 0.1)),
    server_optimiser_rounds=2,
    warm_runs=False,
    step_repeats=3,
    mllib_iterations=(1, 2),
    encoding_rows=5_000,
    encoding_repeats=3,
    round_cost_lr_rounds=2,
    round_cost_trees=(1, 2),
    round_cost_served=False,
    trees_demo_trees=2,
    trees_rows=(3_000,),
    trees_regression_rows=(3_000,),
    trees_large_trees=2,
    trees_depth=2,
    trees_test_rows=2_000,
    stream_rows=200,
    stream_updates=1,
    stream_rounds=1,
    survival_rows=3_000,
    driver_memory="2g",
    workloads=(
        "yardsticks",
        "sizes",
        "lakes",
        "features",
        "families",
        "server_optimisers",
        "encoding",
        "round_cost",
        "trees",
        "streams",
        "survival",
        "mlp_step",
    ),
)
