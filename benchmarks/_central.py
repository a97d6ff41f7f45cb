"""The centralised yardsticks on the pooled rows: Spark MLlib ``LogisticRegression`` (cached
DataFrame, same SparkSession as the lakes), scikit-learn, and one numpy gradient pass."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._data import Dataset, accuracy


@dataclass
class Central:
    """One centralised fit: accuracy on the test rows and where the time went."""

    method: str
    accuracy: float
    fit_seconds: float
    load_seconds: float = 0.0  # reading the pooled rows and caching them (MLlib)
    iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pooled_frame(spark: Any, data: Dataset) -> Any:
    """All lakes' rows in one cached DataFrame of ``features`` vectors and a ``label``.

    The feature vector is built from one SQL expression (``array(...)``), which keeps a
    10,000-column table from costing a JVM round trip per column.
    """
    from pyspark.ml.functions import array_to_vector

    names = ", ".join(f"CAST(`{c}` AS DOUBLE)" for c in data.features)
    df = spark.read.parquet(*[str(p) for p in data.lake_paths])
    df = df.selectExpr(f"array({names}) AS a", f"CAST(`{data.label}` AS DOUBLE) AS label")
    return df.select(array_to_vector("a").alias("features"), "label").cache()


def mllib(spark: Any, data: Dataset, reg: float = 0.0) -> tuple[Central, Any]:
    """MLlib's L-BFGS logistic regression (standardised internally, as collab is) on the
    pooled, cached rows; returns the fit and the cached DataFrame."""
    from pyspark.ml.classification import LogisticRegression

    started = time.perf_counter()
    df = pooled_frame(spark, data)
    df.count()
    load = time.perf_counter() - started
    model_args = {"maxIter": 100, "regParam": reg, "standardization": True, "tol": 1e-6}
    started = time.perf_counter()
    model = LogisticRegression(**model_args).fit(df)
    fit = time.perf_counter() - started
    coef = model.coefficients.toArray()
    acc = accuracy(data.X_test, data.y_test, coef, float(model.intercept))
    return (
        Central("mllib", acc, fit, load, int(model.summary.totalIterations)),
        df,
    )


def mllib_seconds_per_iteration(df: Any, low: int = 3, high: int = 13) -> dict[str, float]:
    """One L-BFGS iteration of MLlib over ``df``'s cached rows: the difference between fits of
    ``high`` and ``low`` iterations (tolerance 0, so both run their count), per iteration;
    and the plain average over the ``high`` fit."""
    from pyspark.ml.classification import LogisticRegression

    times, iters = [], []
    for n in (low, high):
        started = time.perf_counter()
        model = LogisticRegression(maxIter=n, tol=0.0, regParam=0.0).fit(df)
        times.append(time.perf_counter() - started)
        iters.append(int(model.summary.totalIterations))
    marginal = (times[1] - times[0]) / max(iters[1] - iters[0], 1)
    return {
        "marginal_seconds": float(marginal),
        "average_seconds": float(times[1] / max(iters[1], 1)),
        "iterations": float(iters[1]),
    }


def sklearn(data: Dataset, reg: float = 0.0) -> Central:
    """scikit-learn's L-BFGS logistic regression on standardised pooled rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = len(data.y)
    # sklearn minimises C * sum(loss) + ||w||^2 / 2; MLlib and collab mean(loss) + reg ||w||^2/2
    C = 1.0 / (reg * n) if reg > 0 else 1e12
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    started = time.perf_counter()
    model.fit(data.X, data.y)
    fit = time.perf_counter() - started
    predicted = model.predict(data.X_test)
    lr = model[-1]
    return Central(
        "sklearn",
        float(np.mean(predicted == data.y_test)),
        fit,
        iterations=int(np.max(lr.n_iter_)),
    )


def numpy_pass_seconds(data: Dataset, repeats: int = 7) -> float:
    """One full gradient pass of logistic regression over the pooled rows, standardised and in
    memory: ``Z.T @ (sigmoid(Z @ w + b) - y) / n`` (median of ``repeats``)."""
    Z = (data.X - data.X.mean(axis=0)) / data.X.std(axis=0)
    y = data.y
    w = np.full(Z.shape[1], 0.01)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        err = 0.5 * (1.0 + np.tanh(0.5 * (Z @ w + 0.1))) - y
        grad = Z.T @ err / len(y)
        times.append(time.perf_counter() - started)
    del grad
    return float(np.median(times))
