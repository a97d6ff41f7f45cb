"""Workload data: seeded synthetic logistic tables and the breast-cancer demo, one Parquet file
per lake, a held-out test set, and the pooled rows the centralised baselines train on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LABEL = "y"
ROW_GROUP = 131_072  # several row groups per file, so Spark splits a lake's table
CHUNK = 500_000  # rows generated at once (bounds the generator's memory)
INFORMATIVE = 20  # wide tables: the label depends on the first 20 features only


@dataclass
class Dataset:
    """One workload's data: per-lake Parquet files, a test set, and the pooled training rows.

    ``X``/``y`` (pooled) exist only for the centralised baselines, which are the yardstick a
    federation avoids; no collab code path reads them.
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

    @property
    def rows(self) -> int:
        return int(sum(self.lake_rows))


class Generator:
    """Logistic data: standardised inputs ``z ~ N(0, 1)`` seen through per-feature scales and
    shifts (so standardisation matters), labels drawn from ``sigmoid(z @ w + b)``."""

    def __init__(self, n_features: int, seed: int) -> None:
        rng = np.random.default_rng([seed, n_features])
        d = n_features
        self.d = d
        self.scale = rng.uniform(0.5, 3.0, d)
        self.shift = rng.uniform(-2.0, 2.0, d)
        informative = min(d, INFORMATIVE)
        w = np.zeros(d)
        w[:informative] = rng.normal(size=informative)
        self.w = w * (3.0 / np.linalg.norm(w))  # logit spread 3: Bayes accuracy about 88%
        self.b = 0.3

    def rows(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        z = rng.standard_normal((n, self.d))
        y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(z @ self.w + self.b)))).astype(np.float64)
        return z * self.scale + self.shift, y

    def bounds(self, names: list[str]) -> dict[str, tuple[float, float]]:
        """Published ranges for DP plans: 4.5 standard deviations either side, rounded."""
        low = np.floor(self.shift - 4.5 * self.scale)
        high = np.ceil(self.shift + 4.5 * self.scale)
        return {n: (float(lo), float(hi)) for n, lo, hi in zip(names, low, high, strict=True)}


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
) -> Dataset:
    """``rows`` seeded logistic rows dealt evenly to ``lakes`` Parquet files under ``root``."""
    gen = Generator(n_features, seed)
    names = [f"f{j}" for j in range(n_features)]
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    shares = [len(part) for part in np.array_split(np.arange(rows), lakes)]
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
    )


def breast_cancer(root: Path, lakes: int = 3, seed: int = 0) -> Dataset:
    """The hospitals demo's data and split (``collab.demo``): 80% dealt iid to ``lakes``."""
    from sklearn.model_selection import train_test_split

    from collab.demo._hospitals import LABEL as DEMO_LABEL
    from collab.demo._hospitals import _round_up, breast_cancer_frame, split_rows

    frame = breast_cancer_frame()
    train, test = train_test_split(
        frame, test_size=0.2, random_state=seed, stratify=frame[DEMO_LABEL]
    )
    train = train.reset_index(drop=True)
    features = [c for c in frame.columns if c not in ("patient_id", DEMO_LABEL)]
    parts = split_rows(train[DEMO_LABEL].to_numpy(), lakes, "iid", np.random.default_rng(seed))
    folder = root / "breast_cancer"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, rows in enumerate(parts):
        path = folder / f"lake{i}.parquet"
        train.iloc[rows].to_parquet(path, index=False)
        paths.append(path)
    return Dataset(
        name="breast_cancer",
        features=features,
        label=DEMO_LABEL,
        lake_paths=paths,
        lake_rows=[len(r) for r in parts],
        X=train[features].to_numpy(dtype=np.float64),
        y=train[DEMO_LABEL].to_numpy(dtype=np.float64),
        X_test=test[features].to_numpy(dtype=np.float64),
        y_test=test[DEMO_LABEL].to_numpy(dtype=np.float64),
        bounds={c: (0.0, _round_up(float(frame[c].max()))) for c in features},
    )


def accuracy(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float) -> float:
    """Share of rows whose label the linear model ``X @ coef + intercept > 0`` gets right."""
    return float(np.mean(((X @ coef + intercept) > 0) == (y > 0.5)))
