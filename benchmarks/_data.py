"""Workload data: seeded synthetic tables (a logistic, linear, softmax or XOR signal) and the
scikit-learn data sets of the hospitals demo, one Parquet file per lake, a held-out test set,
and the pooled rows the centralised baselines train on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

LABEL = "y"
ROW_GROUP = 131_072  # several row groups per file, so Spark splits a lake's table
CHUNK = 500_000  # rows generated at once (bounds the generator's memory)
INFORMATIVE = 20  # wide tables: the label depends on the first 20 features only


@dataclass
class Dataset:
    """One workload's data: per-lake Parquet files, a test set, and the pooled training rows.

    ``X``/``y`` (pooled, the lakes' rows one lake after another) exist only for the
    centralised baselines, which are the yardstick a federation avoids, and for lakes run as
    arrays in this process (:meth:`lake_arrays`). ``task`` is ``"classification"`` (with the
    label's ``classes``) or ``"regression"``. A table of text ``categories``
    (:func:`categorical`) has no pooled or test rows here: no baseline trains on it.
    """

    name: str
    features: list[str]
    label: str
    lake_paths: list[Path]
    lake_rows: list[int]
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    task: str = "classification"
    classes: tuple[int, ...] = (0, 1)
    categories: dict[str, list[str]] = field(default_factory=dict)  # text categories published

    @property
    def rows(self) -> int:
        return int(sum(self.lake_rows))

    def lake_arrays(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each lake's rows, ``(X, y)``, as written to its Parquet file."""
        cuts = np.cumsum(self.lake_rows)[:-1]
        return list(zip(np.split(self.X, cuts), np.split(self.y, cuts), strict=True))


class Generator:
    """Standardised inputs ``z ~ N(0, 1)`` seen through per-feature scales and shifts (so
    standardisation matters); each signal below draws its label from ``z``."""

    task: ClassVar[str] = "classification"
    classes: tuple[int, ...] = (0, 1)

    def __init__(self, n_features: int, seed: int) -> None:
        rng = np.random.default_rng([seed, n_features])
        d = n_features
        self.d = d
        self.scale = rng.uniform(0.5, 3.0, d)
        self.shift = rng.uniform(-2.0, 2.0, d)
        self.informative = min(d, INFORMATIVE)
        self._draw_signal(rng)

    def _draw_signal(self, rng: np.random.Generator) -> None:
        """The signal's own parameters, drawn after the scales and shifts."""

    def _unit_weights(self, rng: np.random.Generator, norm: float) -> np.ndarray:
        """Weights on the informative features, normal, scaled to L2 norm ``norm``."""
        w = np.zeros(self.d)
        w[: self.informative] = rng.normal(size=self.informative)
        return w * (norm / np.linalg.norm(w))

    def labels(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def rows(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        z = rng.standard_normal((n, self.d))
        return z * self.scale + self.shift, self.labels(z, rng)

    def bounds(self, names: list[str]) -> dict[str, tuple[float, float]]:
        """Published ranges for DP plans: 4.5 standard deviations either side, rounded."""
        low = np.floor(self.shift - 4.5 * self.scale)
        high = np.ceil(self.shift + 4.5 * self.scale)
        return {n: (float(lo), float(hi)) for n, lo, hi in zip(names, low, high, strict=True)}


def _sigmoid(margin: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-margin))


class Logistic(Generator):
    """Binary labels drawn from ``sigmoid(z @ w + b)``; logit spread 3: Bayes accuracy about
    88% (20 features)."""

    def _draw_signal(self, rng: np.random.Generator) -> None:
        self.w = self._unit_weights(rng, 3.0)
        self.b = 0.3

    def labels(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return (rng.random(len(z)) < _sigmoid(z @ self.w + self.b)).astype(np.float64)


class Linear(Generator):
    """A numeric label ``z @ w + b + e``, ``|w| = 3``, noise ``e ~ N(0, 1)``: the least-squares
    RMSE is about 1 (R² about 0.9)."""

    task: ClassVar[str] = "regression"
    classes: tuple[int, ...] = ()

    def _draw_signal(self, rng: np.random.Generator) -> None:
        self.w = self._unit_weights(rng, 3.0)
        self.b = 0.3

    def labels(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return z @ self.w + self.b + rng.standard_normal(len(z))


class Softmax(Generator):
    """Four classes drawn from ``softmax(z @ W)``, each class's weights of norm 3: Bayes
    accuracy about 76% (20 features)."""

    classes: tuple[int, ...] = (0, 1, 2, 3)

    def _draw_signal(self, rng: np.random.Generator) -> None:
        k = len(self.classes)
        W = np.zeros((self.d, k))
        W[: self.informative] = rng.normal(size=(self.informative, k))
        self.W = W * (3.0 / np.linalg.norm(W, axis=0))

    def labels(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        margins = z @ self.W
        P = np.exp(margins - margins.max(axis=1, keepdims=True))
        cumulative = np.cumsum(P / P.sum(axis=1, keepdims=True), axis=1)
        return (rng.random(len(z))[:, None] > cumulative[:, :-1]).sum(axis=1).astype(np.float64)


class Xor(Generator):
    """Binary labels drawn from ``sigmoid(4 z0 z1)``: an XOR of the first two features' signs
    that no linear model beats a coin on (Bayes accuracy about 79%)."""

    def labels(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return (rng.random(len(z)) < _sigmoid(4.0 * z[:, 0] * z[:, 1])).astype(np.float64)


def _steps(z: np.ndarray) -> np.ndarray:
    """Steps and interactions that a linear model cannot express: ``2.5 [z0 > 0.5] -
    2 [z1 < -0.3] + 1.5 z2 z3 + 2 [z4 > 0][z5 > 0] + |z6| - 1.2`` (what trees are for)."""
    return (
        2.5 * (z[:, 0] > 0.5)
        - 2.0 * (z[:, 1] < -0.3)
        + 1.5 * z[:, 2] * z[:, 3]
        + 2.0 * ((z[:, 4] > 0) & (z[:, 5] > 0))
        + np.abs(z[:, 6])
        - 1.2
    )


class Thresholds(Generator):
    """Binary labels drawn from ``sigmoid`` of :func:`_steps`; the other features are
    noise."""

    def labels(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return (rng.random(len(z)) < _sigmoid(_steps(z))).astype(np.float64)


class Steps(Generator):
    """A numeric label ``_steps(z) + e``, noise ``e ~ N(0, 1)``: the best RMSE is 1, a
    least-squares line's about 2.2 (the label's standard deviation about 2.6)."""

    task: ClassVar[str] = "regression"
    classes: tuple[int, ...] = ()

    def labels(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _steps(z) + rng.standard_normal(len(z))


SIGNALS: dict[str, type[Generator]] = {
    "logistic": Logistic,
    "thresholds": Thresholds,
    "steps": Steps,
    "linear": Linear,
    "softmax": Softmax,
    "xor": Xor,
}


def _write(path: Path, X: np.ndarray, y: np.ndarray, names: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [pa.array(X[:, j]) for j in range(X.shape[1])] + [pa.array(y)]
    table = pa.Table.from_arrays(arrays, names=[*names, LABEL])
    pq.write_table(table, path, row_group_size=ROW_GROUP)


def synthetic(
    root: Path,
    name: str,
    rows: int,
    lakes: int,
    n_features: int = 20,
    seed: int = 0,
    test_rows: int | None = None,
    signal: str = "logistic",
    shares: tuple[float, ...] | None = None,
) -> Dataset:
    """``rows`` seeded rows of ``signal`` (see :data:`SIGNALS`) dealt to ``lakes`` Parquet
    files under ``root``: evenly, or in the proportions ``shares`` (one per lake)."""
    gen = SIGNALS[signal](n_features, seed)
    names = [f"f{j}" for j in range(n_features)]
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    shares = _shares(rows, lakes, shares)
    pooled_X, pooled_y, paths = [], [], []
    for i, share in enumerate(shares):
        rng = np.random.default_rng([seed, n_features, rows, i])
        parts = [gen.rows(min(CHUNK, share - k), rng) for k in range(0, share, CHUNK)]
        X = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, n_features))
        y = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
        path = folder / f"lake{i}.parquet"
        _write(path, X, y, names)
        pooled_X.append(X)
        pooled_y.append(y)
        paths.append(path)
    n_test = test_rows or int(min(100_000, max(20_000, rows // 5)))
    X_test, y_test = gen.rows(n_test, np.random.default_rng([seed, n_features, rows, 10**6]))
    return Dataset(
        name=name,
        features=names,
        label=LABEL,
        lake_paths=paths,
        lake_rows=shares,
        X=np.concatenate(pooled_X),
        y=np.concatenate(pooled_y),
        X_test=X_test,
        y_test=y_test,
        bounds=gen.bounds(names),
        task=gen.task,
        classes=gen.classes,
    )


def _shares(rows: int, lakes: int, proportions: tuple[float, ...] | None) -> list[int]:
    """Rows per lake: even, or as near ``proportions`` as whole rows allow."""
    if proportions is None:
        return [len(part) for part in np.array_split(np.arange(rows), lakes)]
    if len(proportions) != lakes:
        raise ValueError(f"{lakes} lakes need {lakes} shares, not {len(proportions)}")
    cuts = np.round(np.cumsum(proportions) / np.sum(proportions) * rows).astype(int)
    return np.diff(np.concatenate([[0], cuts])).tolist()


# The categorical workload's table: five text columns (name, how many categories), each with
# a few percent missing, and numbers x0..x9 with gaps (their share missing below); x3 is
# log-normal (positive and skewed, what log1p is for).
CATEGORICAL = (("ward", 4), ("region", 6), ("grade", 8), ("insurer", 10), ("site", 12))
CATEGORY_GAPS = 0.03
NUMBER_GAPS = (0.10, 0.08, 0.15, 0.05, 0.05, 0.04, 0.03, 0.03, 0.02, 0.02)
LOG_NORMAL = 3


def categorical(
    root: Path, name: str, rows: int, indicators: tuple[str, ...] = (), seed: int = 0
) -> tuple[Dataset, Dataset]:
    """The same ``rows`` seeded rows written twice, as one lake's Parquet files.

    The first table holds the :data:`CATEGORICAL` columns as text (null where missing), the
    numbers x0..x9 with gaps (null) and a 0/1 label drawn from a logistic signal of both. The
    second is that table as its owner would publish it one-hot encoded: each category a 0/1
    column (all 0 where the value is missing), a 0/1 column saying where each number in
    ``indicators`` is missing, the numbers as they are. It has as many columns as a plan
    gets from the first one when it one-hot encodes the categories and adds those missing
    indicators.
    """
    rng = np.random.default_rng([seed, rows, 7])
    effects = [rng.normal(0.0, 0.8, size=k) for _, k in CATEGORICAL]
    n_numbers = len(NUMBER_GAPS)
    scale, shift = rng.uniform(0.5, 3.0, n_numbers), rng.uniform(-2.0, 2.0, n_numbers)
    scale[LOG_NORMAL], shift[LOG_NORMAL] = 0.8, 3.0  # exp(3 + 0.8 z)
    w = rng.normal(size=n_numbers)
    w *= 2.5 / np.linalg.norm(w)
    numbers = [f"x{j}" for j in range(n_numbers)]
    categories = {c: [f"{c}-{i}" for i in range(k)] for c, k in CATEGORICAL}
    one_hot = [(c, f"{c}_{i}") for c, k in CATEGORICAL for i in range(k)]
    encoded = [n for _, n in one_hot]
    for x in numbers:
        encoded += [x] + ([f"{x}_missing"] if x in indicators else [])
    low, high = shift - 4.5 * scale, shift + 4.5 * scale
    low[LOG_NORMAL], high[LOG_NORMAL] = 0.0, np.exp(shift[LOG_NORMAL] + 4.5 * scale[LOG_NORMAL])
    bounds = {
        x: (float(np.floor(a)), float(np.ceil(b)))
        for x, a, b in zip(numbers, low, high, strict=True)
    }

    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "categories.parquet", folder / "encoded.parquet")
    writers: list[Any] = [None, None]
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        part = np.random.default_rng([seed, rows, start])
        levels = [part.integers(0, k, n) for _, k in CATEGORICAL]
        absent = [part.random(n) < CATEGORY_GAPS for _ in CATEGORICAL]
        z = part.standard_normal((n, n_numbers))
        values = z * scale + shift
        values[:, LOG_NORMAL] = np.exp(values[:, LOG_NORMAL])
        gaps = part.random((n, n_numbers)) < np.asarray(NUMBER_GAPS)
        margin = z @ w + 0.3
        for effect, level, gone in zip(effects, levels, absent, strict=True):
            margin += np.where(gone, 0.0, effect[level])
        y = (part.random(n) < _sigmoid(margin)).astype(np.float64)
        tables = _categorical_tables(
            levels, absent, values, gaps, y, categories, numbers, indicators
        )
        for i, table in enumerate(tables):
            if writers[i] is None:
                writers[i] = _parquet_writer(paths[i], table.schema)
            writers[i].write_table(table, row_group_size=ROW_GROUP)
    for writer in writers:
        if writer is not None:
            writer.close()

    def dataset(path: Path, features: list[str], published: dict[str, list[str]]) -> Dataset:
        empty = np.zeros((0, len(features)))
        return Dataset(
            name=f"{name}/{path.stem}",
            features=features,
            label=LABEL,
            lake_paths=[path],
            lake_rows=[rows],
            X=empty,
            y=np.zeros(0),
            X_test=empty,
            y_test=np.zeros(0),
            bounds={x: bounds[x] for x in numbers},
            categories=published,
        )

    return (
        dataset(paths[0], [c for c, _ in CATEGORICAL] + numbers, categories),
        dataset(paths[1], encoded, {}),
    )


def _categorical_tables(
    levels: list[np.ndarray],
    absent: list[np.ndarray],
    values: np.ndarray,
    gaps: np.ndarray,
    y: np.ndarray,
    categories: dict[str, list[str]],
    numbers: list[str],
    indicators: tuple[str, ...],
) -> tuple[Any, Any]:
    """One chunk of :func:`categorical`'s two tables, as Arrow tables."""
    import pyarrow as pa

    text, coded = {}, {}
    for (column, names), level, gone in zip(categories.items(), levels, absent, strict=True):
        text[column] = pa.array(names).take(pa.array(level, mask=gone))
        for i in range(len(names)):
            coded[f"{column}_{i}"] = pa.array(((level == i) & ~gone).astype(np.float64))
    for j, x in enumerate(numbers):
        number = pa.array(values[:, j], mask=gaps[:, j])
        text[x] = coded[x] = number
        if x in indicators:
            coded[f"{x}_missing"] = pa.array(gaps[:, j].astype(np.float64))
    text[LABEL] = coded[LABEL] = pa.array(y)
    return pa.table(text), pa.table(coded)


def _parquet_writer(path: Path, schema: Any) -> Any:
    import pyarrow.parquet as pq

    return pq.ParquetWriter(path, schema)


def demo(
    root: Path, dataset: str = "breast_cancer", lakes: int = 3, split: str = "iid", seed: int = 0
) -> Dataset:
    """A data set of the hospitals demo dealt as ``collab.demo.hospitals(n=lakes,
    dataset=dataset, split=split, seed=seed)`` deals it (the same test rows and the same rows
    per hospital), without starting its lakes."""
    from collab.demo import deal

    dealt = deal(lakes, dataset, split, seed)
    frame, train, test, parts = dealt.frame, dealt.train, dealt.test, dealt.parts
    features, label = dealt.features, dealt.label
    regression = dealt.data.task == "regression"
    folder = root / f"{dataset}_{split}_{lakes}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, rows in enumerate(parts):
        path = folder / f"lake{i}.parquet"
        train.iloc[rows].to_parquet(path, index=False)
        paths.append(path)
    pooled = train.iloc[np.concatenate(parts)]
    return Dataset(
        name=dataset,
        features=features,
        label=label,
        lake_paths=paths,
        lake_rows=[len(r) for r in parts],
        X=pooled[features].to_numpy(dtype=np.float64),
        y=pooled[label].to_numpy(dtype=np.float64),
        X_test=test[features].to_numpy(dtype=np.float64),
        y_test=test[label].to_numpy(dtype=np.float64),
        bounds={c: dealt.bounds[c] for c in features},
        task="regression" if regression else "classification",
        classes=() if regression else tuple(sorted(int(v) for v in frame[label].unique())),
    )


def accuracy(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float) -> float:
    """Share of rows whose label the linear model ``X @ coef + intercept > 0`` gets right."""
    return float(np.mean(((X @ coef + intercept) > 0) == (y > 0.5)))


# The test metric of each task, and whether a value reaches a target.
METRICS = {"classification": "accuracy", "regression": "rmse"}
ACCURACY_MARGIN = 0.005  # reaching a target accuracy: within 0.5 points of it
RMSE_MARGIN = 0.005  # reaching a target RMSE: at most 0.5% above it


def score(metric: str, predicted: np.ndarray, y: np.ndarray) -> float:
    """``accuracy`` (share of labels predicted) or ``rmse`` of ``predicted`` against ``y``."""
    predicted = np.asarray(predicted, dtype=np.float64)
    if metric == "accuracy":
        return float(np.mean(predicted == y))
    return float(np.sqrt(np.mean((predicted - y) ** 2)))


def reaches(metric: str, value: float, target: float) -> bool:
    """Whether ``value`` is as good as ``target`` within the metric's margin."""
    if metric == "accuracy":
        return value >= target - ACCURACY_MARGIN
    return value <= target * (1 + RMSE_MARGIN)
