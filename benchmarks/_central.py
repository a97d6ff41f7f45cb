"""The centralised yardsticks on the pooled rows: Spark MLlib (cached DataFrame, same
SparkSession as the lakes), scikit-learn, and one numpy gradient pass.

Each collab family (named by its plan's ``model``) has its pooled counterpart in both
libraries: logistic regression, least squares, multinomial logistic regression and a
perceptron.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._data import METRICS, Dataset, score


@dataclass
class Central:
    """One centralised fit: its test metric (``accuracy`` or ``rmse``) and where the time
    went."""

    method: str
    metric: str
    value: float
    fit_seconds: float
    load_seconds: float = 0.0  # reading the pooled rows and caching them (MLlib)
    iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out[self.metric] = out.pop("value")
        return out


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


def _mllib_estimator(family: str, data: Dataset, reg: float, hidden: Sequence[int]) -> Any:
    """MLlib's counterpart of a collab family. The linear models standardise internally (as
    collab does); the perceptron does not, so a ``StandardScaler`` stage comes first."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression, MultilayerPerceptronClassifier
    from pyspark.ml.feature import StandardScaler
    from pyspark.ml.regression import LinearRegression

    if family == "linear_regression":  # normal equations ("auto" below 4,096 features)
        return LinearRegression(regParam=reg, standardization=True)
    if family in ("logistic_regression", "softmax_regression"):
        return LogisticRegression(
            maxIter=100,
            regParam=reg,
            standardization=True,
            tol=1e-6,
            family="multinomial" if family == "softmax_regression" else "auto",
        )
    if family == "mlp_classifier":
        layers = [len(data.features), *hidden, len(data.classes)]
        scaler = StandardScaler(
            inputCol="features", outputCol="scaled", withMean=True, withStd=True
        )
        mlp = MultilayerPerceptronClassifier(
            featuresCol="scaled", layers=layers, maxIter=100, tol=1e-6, seed=0
        )
        return Pipeline(stages=[scaler, mlp])
    raise ValueError(f"no MLlib counterpart of {family!r}")


def _mllib_predictions(spark: Any, family: str, model: Any, data: Dataset) -> np.ndarray:
    """An MLlib model's predictions of the test rows: from its coefficients for the linear
    models, through ``transform`` for the perceptron."""
    X = data.X_test
    if family == "linear_regression":
        return X @ model.coefficients.toArray() + model.intercept
    if family == "logistic_regression":
        return ((X @ model.coefficients.toArray() + model.intercept) > 0).astype(np.float64)
    if family == "softmax_regression":
        margins = X @ model.coefficientMatrix.toArray().T + model.interceptVector.toArray()
        return np.argmax(margins, axis=1).astype(np.float64)
    return _transformed(spark, model, X)


def _mllib_iterations(model: Any) -> int:
    last = model.stages[-1] if hasattr(model, "stages") else model
    summary = last.summary() if callable(last.summary) else last.summary
    return int(summary.totalIterations)


def mllib(
    spark: Any,
    data: Dataset,
    reg: float = 0.0,
    family: str = "logistic_regression",
    hidden: Sequence[int] = (32,),
) -> tuple[Central, Any]:
    """MLlib's counterpart of ``family`` (L-BFGS for the classifiers, normal equations for
    least squares) fitted on the pooled, cached rows; returns the fit and the cached
    DataFrame."""
    started = time.perf_counter()
    df = pooled_frame(spark, data)
    df.count()
    load = time.perf_counter() - started
    estimator = _mllib_estimator(family, data, reg, hidden)
    started = time.perf_counter()
    model = estimator.fit(df)
    fit = time.perf_counter() - started
    metric = METRICS[data.task]
    value = score(metric, _mllib_predictions(spark, family, model, data), data.y_test)
    return Central("mllib", metric, value, fit, load, _mllib_iterations(model)), df


def mllib_seconds_per_iteration(
    df: Any, low: int = 3, high: int = 13, repeats: int = 3
) -> dict[str, float | None]:
    """One L-BFGS iteration of MLlib over ``df``'s cached rows: the difference between the
    median fits of ``high`` and ``low`` iterations (tolerance 0, so both run their count; the
    two fitted in turn ``repeats`` times), per iteration, ``None`` where that difference is
    below the fits' noise; and the plain average over the ``high`` fits."""
    from pyspark.ml.classification import LogisticRegression

    times: dict[int, list[float]] = {low: [], high: []}
    iters: dict[int, int] = {}
    for _ in range(repeats):
        for n in (low, high):
            started = time.perf_counter()
            model = LogisticRegression(maxIter=n, tol=0.0, regParam=0.0).fit(df)
            times[n].append(time.perf_counter() - started)
            iters[n] = int(model.summary.totalIterations)
    fit = {n: float(np.median(t)) for n, t in times.items()}
    marginal = (fit[high] - fit[low]) / max(iters[high] - iters[low], 1)
    return {
        "marginal_seconds": marginal if marginal > 0 else None,
        "average_seconds": fit[high] / max(iters[high], 1),
        "iterations": float(iters[high]),
    }


def sklearn(
    data: Dataset,
    reg: float = 0.0,
    family: str = "logistic_regression",
    hidden: Sequence[int] = (32,),
    mlp_epochs: int = 200,
) -> Central:
    """scikit-learn's counterpart of ``family`` on standardised pooled rows: L-BFGS logistic
    regression (multinomial for several classes), least squares, or an Adam-trained
    perceptron of ``mlp_epochs`` epochs at most."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = len(data.y)
    estimator: Any
    if family == "linear_regression":
        if reg:
            raise ValueError("the least-squares yardstick is unregularised")
        estimator = LinearRegression()
    elif family in ("logistic_regression", "softmax_regression"):
        # sklearn minimises C * sum(loss) + ||w||^2 / 2; MLlib and collab mean(loss) + reg ||w||^2/2
        C = 1.0 / (reg * n) if reg > 0 else 1e12
        estimator = LogisticRegression(C=C, max_iter=1000)
    elif family == "mlp_classifier":
        # scikit-learn adds alpha ||W||^2 / (2 n) to the mean loss
        estimator = MLPClassifier(
            hidden_layer_sizes=tuple(hidden), alpha=reg * n, max_iter=mlp_epochs, random_state=0
        )
    else:
        raise ValueError(f"no scikit-learn counterpart of {family!r}")
    model = make_pipeline(StandardScaler(), estimator)
    started = time.perf_counter()
    with warnings.catch_warnings():  # the perceptron's epochs are capped on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data.X, data.y)
    fit = time.perf_counter() - started
    metric = METRICS[data.task]
    value = score(metric, model.predict(data.X_test), data.y_test)
    iterations = int(np.max(getattr(model[-1], "n_iter_", 0)))  # least squares: none
    return Central("sklearn", metric, value, fit, iterations=iterations)


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


def mllib_gbt(
    spark: Any, data: Dataset, n_trees: int, max_depth: int, learning_rate: float, max_bins: int
) -> Central:
    """Spark MLlib's ``GBTClassifier`` (``GBTRegressor`` for a numeric label) with the trees'
    settings, fitted on the pooled, cached rows; the test rows predicted by ``transform``."""
    from pyspark.ml.classification import GBTClassifier
    from pyspark.ml.regression import GBTRegressor

    started = time.perf_counter()
    df = pooled_frame(spark, data)
    df.count()
    load = time.perf_counter() - started
    kind = GBTRegressor if data.task == "regression" else GBTClassifier
    estimator = kind(
        maxIter=n_trees, maxDepth=max_depth, stepSize=learning_rate, maxBins=max_bins, seed=0
    )
    started = time.perf_counter()
    model = estimator.fit(df)
    fit = time.perf_counter() - started
    df.unpersist()
    predicted = _transformed(spark, model, data.X_test)
    metric = METRICS[data.task]
    return Central("mllib", metric, score(metric, predicted, data.y_test), fit, load, n_trees)


def _transformed(spark: Any, model: Any, X: np.ndarray) -> np.ndarray:
    """An MLlib model's ``prediction`` column for the rows ``X``, in their order."""
    import pandas as pd
    from pyspark.ml.functions import array_to_vector

    test = spark.createDataFrame(pd.DataFrame({"a": list(X)}))
    predicted = model.transform(test.select(array_to_vector("a").alias("features")))
    return predicted.select("prediction").toPandas()["prediction"].to_numpy()


def sklearn_hgb(
    data: Dataset,
    n_trees: int,
    max_depth: int,
    learning_rate: float,
    max_bins: int,
    l2: float,
) -> Central:
    """scikit-learn's ``HistGradientBoostingClassifier`` (``...Regressor`` for a numeric
    label) with the trees' settings on the pooled rows: no early stopping, and no cap on
    leaves beyond the depth (its default caps a tree at 31 leaves)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kind = (
        HistGradientBoostingRegressor
        if data.task == "regression"
        else HistGradientBoostingClassifier
    )
    model = kind(
        max_iter=n_trees,
        max_depth=max_depth,
        learning_rate=learning_rate,
        max_bins=max_bins,
        l2_regularization=l2,
        max_leaf_nodes=None,
        early_stopping=False,
        random_state=0,
    )
    started = time.perf_counter()
    model.fit(data.X, data.y)
    fit = time.perf_counter() - started
    metric = METRICS[data.task]
    value = score(metric, model.predict(data.X_test), data.y_test)
    return Central("sklearn", metric, value, fit, iterations=int(model.n_iter_))
