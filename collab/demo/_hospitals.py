"""Hospitals holding parts of scikit-learn's breast-cancer data, each in a lake of its own.

This is the instructor's view: it made the data, so it can show the held-out test set and a
centralised baseline. A scientist's code should only use ``demo.federation``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._errors import CollabError
from .._scratch import remove_scratch, scratch_folder
from ..lake import Lake
from ..plans import (
    GradientBoostedTrees,
    LinearRegression,
    LogisticRegression,
    Plan,
    SoftmaxRegression,
)
from ..scientist import Federation, connect
from ..scientist._job import _in_kernel

HOSPITAL_NAMES = (
    "st-mary",
    "st-jude",
    "riverside",
    "northgate",
    "lakeside",
    "hillcrest",
    "westbrook",
    "eastwood",
    "southfield",
    "kingsway",
)
SCIENTIST_EMAIL = "ada@uni.edu"
SCIENTIST_PASSWORD = "ada-lovelace-1815"
LABEL = "malignant"
TABLE = "patients"


def _published_range(values: pd.Series) -> tuple[float, float]:
    """A range an owner could publish for a column: zero (or the study's minimum, widened,
    when it goes below zero) to the study's maximum widened to two significant digits."""
    low, high = float(values.min()), float(values.max())
    return (0.0 if low >= 0 else -_round_up(-low), _round_up(high))


def _round_up(value: float) -> float:
    """``value`` rounded up to two significant digits (0.2863 -> 0.29, 4254 -> 4300)."""
    if value <= 0:
        return 1.0
    scale = 10 ** (np.floor(np.log10(value)) - 1)
    return float(np.ceil(value / scale) * scale)


def breast_cancer_frame() -> pd.DataFrame:
    """scikit-learn's Wisconsin breast-cancer data with a ``malignant`` label and patient ids."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    frame.columns = [re.sub(r"\W+", "_", c.strip()).lower() for c in frame.columns]
    frame[LABEL] = (data.target == 0).astype("int32")  # sklearn codes malignant as 0
    frame.insert(0, "patient_id", [f"P{i:05d}" for i in range(len(frame))])
    return frame


def diabetes_frame() -> pd.DataFrame:
    """scikit-learn's diabetes data (442 patients, ten baseline measurements, scaled as
    published) with ``progression``, a measure of disease progression one year later."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True)
    frame = data.data.copy()
    frame["progression"] = data.target.astype("float64")
    frame.insert(0, "patient_id", [f"D{i:05d}" for i in range(len(frame))])
    return frame


def wine_frame() -> pd.DataFrame:
    """scikit-learn's wine data (178 wines, 13 chemical measurements) with ``cultivar``, the
    grape variety (0, 1 or 2)."""
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    frame = data.data.copy()
    frame.columns = [re.sub(r"\W+", "_", c.strip()).lower() for c in frame.columns]
    frame["cultivar"] = data.target.astype("int32")
    frame.insert(0, "sample_id", [f"W{i:05d}" for i in range(len(frame))])
    return frame


SIZE_GROUPS = ["small", "medium", "large"]


def write_patients(folder: str | Path = ".", hospitals: int = 3, seed: int = 0) -> list[Path]:
    """Write the breast-cancer biopsies as ``hospitals`` tables of a patients register, one
    Parquet file each (``folder/patients-1.parquet``, ...; rows dealt at random), and return
    their absolute paths: the data of the README's quickstart, the tables as owners would keep them.

    Columns: ``patient_id`` (text), the 30 biopsy measurements, ``size_group`` (``"small"``,
    ``"medium"`` or ``"large"`` by ``mean_radius``: below 12, below 16, above) and
    ``malignant`` (1 or 0). Files already there are left as they are.
    """
    if not isinstance(hospitals, int) or isinstance(hospitals, bool) or hospitals < 1:
        raise ValueError(f"hospitals must be a whole number of at least 1, not {hospitals!r}")
    folder = Path(folder).resolve()  # absolute: Spark reads it from its own directory
    folder.mkdir(parents=True, exist_ok=True)
    frame = breast_cancer_frame()
    radius = frame["mean_radius"]
    size = np.select([radius < 12, radius < 16], SIZE_GROUPS[:2], SIZE_GROUPS[2])
    frame.insert(len(frame.columns) - 1, "size_group", size)
    parts = split_rows(frame[LABEL].to_numpy(), hospitals, "iid", np.random.default_rng(seed))
    paths = []
    for i, rows in enumerate(parts, start=1):
        path = folder / f"patients-{i}.parquet"
        if not path.exists():
            frame.iloc[rows].to_parquet(path, index=False)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class DemoData:
    """One of the demo's data sets: how to load it and what a lake publishes about it."""

    load: Callable[[], pd.DataFrame]
    label: str
    identifier: str
    description: str
    label_description: str
    task: Literal["binary", "multiclass", "regression"]


DATASETS: dict[str, DemoData] = {
    "breast_cancer": DemoData(
        breast_cancer_frame,
        LABEL,
        "patient_id",
        "Breast biopsy measurements and diagnosis",
        "1 if the biopsy was malignant, 0 if benign",
        "binary",
    ),
    "diabetes": DemoData(
        diabetes_frame,
        "progression",
        "patient_id",
        "Diabetes patients: baseline measurements and progression a year later",
        "disease progression one year after baseline",
        "regression",
    ),
    "wine": DemoData(
        wine_frame,
        "cultivar",
        "sample_id",
        "Wines: chemical analysis and grape cultivar",
        "the grape cultivar: 0, 1 or 2",
        "multiclass",
    ),
}


def split_rows(
    labels: np.ndarray, n: int, split: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """Row indices per hospital: ``iid`` deals rows evenly at random; ``skewed`` gives the
    hospitals different sizes and very different shares of each kind of case (of each class,
    or of each third of a numeric label's range)."""
    if split == "iid":
        order = rng.permutation(len(labels))
        return [np.sort(part) for part in np.array_split(order, n)]
    if split == "skewed" and len(np.unique(labels)) > 2:
        values = np.unique(labels)
        groups = (
            [np.flatnonzero(labels == v) for v in values]
            if len(values) <= 10
            else np.array_split(np.argsort(labels, kind="stable"), 3)
        )
        weights = 0.5 ** np.arange(n)
        parts: list[list[np.ndarray]] = [[] for _ in range(n)]
        for g, members in enumerate(groups):
            share = np.roll(weights, g) / weights.sum()
            cuts = (np.cumsum(share)[:-1] * len(members)).astype(int)
            for i, piece in enumerate(np.split(rng.permutation(members), cuts)):
                parts[i].append(piece)
        return [np.sort(np.concatenate(p)) for p in parts]
    if split == "skewed":
        positive = rng.permutation(np.flatnonzero(labels == 1))
        negative = rng.permutation(np.flatnonzero(labels == 0))
        weights = 0.5 ** np.arange(n)  # hospital 0 sees most malignant cases
        pos_share = weights / weights.sum()
        neg_share = weights[::-1] / weights.sum()
        parts = []
        pos_cuts = (np.cumsum(pos_share)[:-1] * len(positive)).astype(int)
        neg_cuts = (np.cumsum(neg_share)[:-1] * len(negative)).astype(int)
        for p, q in zip(np.split(positive, pos_cuts), np.split(negative, neg_cuts), strict=True):
            parts.append(np.sort(np.concatenate([p, q])))
        return parts
    raise CollabError(f"split must be 'iid', 'skewed' or ('by', column), not {split!r}")


def split_by(values: pd.DataFrame, n: int, split: tuple[str, str]) -> list[np.ndarray]:
    """Row indices per hospital for ``split=("by", column)``: the rows sorted by ``column``
    and cut into ``n`` runs of equal size, so each hospital holds one range of it (the first
    the lowest values), as when a clinic sees the mild cases and a specialist centre the
    severe ones."""
    if len(split) != 2 or split[0] != "by" or split[1] not in values.columns:
        raise CollabError(
            f"split=('by', column) takes one of the columns {', '.join(values.columns)}, "
            f"not {split!r}"
        )
    order = np.argsort(values[split[1]].to_numpy(), kind="stable")
    return [np.sort(part) for part in np.array_split(order, n)]


@dataclass(frozen=True)
class Dealt:
    """One of the demo's data sets dealt to ``n`` hospitals, before any lake starts: the
    whole ``frame``, the ``train`` rows (numbered from 0) and held-out ``test`` rows, each
    hospital's row indices into ``train`` (``parts``), and the range owners publish per
    column (``bounds``: each feature's, and a numeric label's)."""

    data: DemoData
    frame: pd.DataFrame = field(repr=False)
    train: pd.DataFrame = field(repr=False)
    test: pd.DataFrame = field(repr=False)
    parts: list[np.ndarray] = field(repr=False)
    features: list[str]
    label: str
    bounds: dict[str, tuple[float, float]] = field(repr=False)


def deal(
    n: int = 3,
    dataset: str = "breast_cancer",
    split: str | tuple[str, str] = "iid",
    seed: int = 0,
    *,
    test_size: float = 0.2,
) -> Dealt:
    """``dataset`` dealt to ``n`` hospitals exactly as :func:`hospitals` deals it (the same
    test rows and the same rows per hospital for the same arguments), without starting
    lakes: for yardsticks and benchmarks that need the rows themselves."""
    data = DATASETS.get(dataset)
    if data is None:
        raise CollabError(f"the demo ships the data sets {', '.join(DATASETS)}, not {dataset!r}")
    from sklearn.model_selection import train_test_split

    frame = data.load()
    label = data.label
    train, test = train_test_split(
        frame,
        test_size=test_size,
        random_state=seed,
        stratify=None if data.task == "regression" else frame[label],
    )
    train = train.reset_index(drop=True)
    features = [c for c in frame.columns if c not in (data.identifier, label)]
    if isinstance(split, tuple):  # ("by", column): each hospital one range of the column
        parts = split_by(train[[*features, label]], n, split)
    else:
        parts = split_rows(train[label].to_numpy(), n, split, np.random.default_rng(seed))
    # The owners publish a range per measurement (DP plans clip to it): here each column's
    # range over the whole published study, widened to two significant digits.
    bounds = {c: _published_range(frame[c]) for c in features}
    if data.task == "regression":
        bounds[label] = _published_range(frame[label])
    return Dealt(
        data, frame, train, test.reset_index(drop=True), list(parts), features, label, bounds
    )


@dataclass
class HospitalsDemo:
    """Lakes, the scientist's federation, and the data only an instructor may look at."""

    lakes: list[Lake]
    federation: Federation
    features: list[str]
    label: str
    table: str
    _train: pd.DataFrame = field(repr=False)
    _test: pd.DataFrame = field(repr=False)
    data_dir: Path = field(repr=False, default=Path("."))
    dataset: str = "breast_cancer"
    parts: list[np.ndarray] = field(repr=False, default_factory=list)  # each lake's rows
    temporary: bool = field(repr=False, default=False)  # data_dir goes when the demo closes

    def plan(self, **settings: Any) -> Plan:
        """The data set's plan over every feature (``settings`` override): a logistic
        regression for the breast-cancer data, a softmax regression for the wine cultivars,
        an exact least-squares regression for diabetes. It holds out no rows unless given
        ``validation``, so that it trains on the rows the centralised yardstick is fitted on."""
        settings = {"validation": 0.0, **settings}
        if self.dataset == "diabetes":
            return LinearRegression(
                table=self.table, features=self.features, label=self.label, **settings
            )
        family = SoftmaxRegression if self.dataset == "wine" else LogisticRegression
        options: dict[str, Any] = {"rounds": 30, "local_epochs": 5, "learning_rate": 0.5}
        options.update(settings)
        return family(table=self.table, features=self.features, label=self.label, **options)

    def trees_plan(self, **settings: Any) -> Plan:
        """Gradient-boosted trees over every feature (``settings`` override: ``n_trees``,
        ``max_depth``, ...); a regression for the diabetes data."""
        if self.dataset == "diabetes":
            settings = {"objective": "squared_error", **settings}
        return GradientBoostedTrees(
            table=self.table, features=self.features, label=self.label, **settings
        )

    def approve_all(self) -> int:
        """Every owner approves every pending request; how many were approved."""
        approved = 0
        for lake in self.lakes:
            for request in lake.requests:
                if request.status == "pending":
                    request.approve()
                    approved += 1
        if approved and _in_kernel():  # a new job: what the last one freed goes back first
            release_freed_memory()
        return approved

    def test_set(self) -> pd.DataFrame:
        """Held-out rows no lake holds: features and the label."""
        return self._test[[*self.features, self.label]].copy()

    def pooled_training_set(self, validation: float = 0.0) -> pd.DataFrame:
        """Every lake's rows in one frame: what centralised training would need (forbidden in
        real life; here the yardstick). With ``validation``, without the rows each lake holds
        out for it (a lake's table is one block of rows, in this order)."""
        from ..plans._evaluation import holdout_mask

        rows = self._train[[*self.features, self.label]]
        if not validation:
            return rows.copy()
        stratify = self.dataset != "diabetes"
        kept = []
        for part in self.parts:
            mine = rows.iloc[part]
            held = holdout_mask(mine[self.label].to_numpy(float), validation, stratify=stratify)
            kept.append(mine[~held])
        return pd.concat(kept).copy()

    def centralised_model(self, validation: float = 0.0):  # type: ignore[no-untyped-def]
        """scikit-learn on the pooled training rows (standardised): logistic regression
        (multinomial for several classes), or least squares for a numeric label. With
        ``validation``, on the rows a plan with that share trains on."""
        from sklearn.linear_model import LinearRegression as SkLinearRegression
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        pooled = self.pooled_training_set(validation)
        estimator = (
            SkLinearRegression()
            if self.dataset == "diabetes"
            else SkLogisticRegression(max_iter=5000)
        )
        model = make_pipeline(StandardScaler(), estimator)
        return model.fit(pooled[self.features], pooled[self.label])

    def close(self) -> None:
        """Log the scientist out and stop the lakes; a temporary :attr:`data_dir` is removed."""
        self.federation.close()
        for lake in self.lakes:
            lake.stop()
        if self.temporary:
            remove_scratch(self.data_dir)
        release_freed_memory()

    def __enter__(self) -> HospitalsDemo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A demo in a notebook's kernel runs where memory is scarce (Binder gives 1-2 GB) and its Spark
# jobs are few and small: its lakes' rows are kept after the first pass, and rounds are computed
# from them in the lake's process. So Spark's Python workers, forked for those first passes,
# need not stay: each ends with its task (0.05-0.15 s more a Spark job, under load), where a
# kept worker holds 40-45 MiB (PSS) for as long as the session runs. Measured on notebook 03's
# kernel (three demos): Spark's Python processes at the peak went from 162 MiB (the daemon and
# two kept workers) to 96 MiB (the daemon). Elsewhere (a terminal, a test process with many
# Spark jobs) workers stay; a session already running when the demo starts (Spark allows one
# per process) keeps its own settings either way.
DEMO_SPARK_CONF = {"spark.python.worker.reuse": "false"}


def demo_spark_conf() -> dict[str, str] | None:
    """The Spark settings a demo's lakes start with: :data:`DEMO_SPARK_CONF` in a notebook's
    kernel, Spark's (``collab.engine``'s) elsewhere."""
    return dict(DEMO_SPARK_CONF) if _in_kernel() else None


def release_freed_memory() -> None:
    """Collect the garbage a closed demo leaves and hand the freed heap back to the system.

    Python's allocator keeps what it frees for later use, so a notebook that runs one demo
    after another (notebook 03: three, in one kernel) would otherwise carry each closed demo's
    freed pages into the next one's peak. Measured on notebook 03's three demos in one
    process: 466 MiB at the end without, 439-441 MiB with it after each close and job. In a
    kernel a demo also does it when it approves a new job (:meth:`HospitalsDemo.approve_all`;
    the jobs of one demo free as much between them), about 25 ms each.
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:  # not glibc's allocator: nothing to hand back this way
        return
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is not None:
        trim(0)


def hospitals(
    n: int = 3,
    dataset: Literal["breast_cancer", "diabetes", "wine"] = "breast_cancer",
    split: Literal["iid", "skewed"] | tuple[str, str] = "iid",
    seed: int = 0,
    *,
    test_size: float = 0.2,
    ports: Sequence[int | None] | None = None,
    data_dir: str | Path | None = None,
) -> HospitalsDemo:
    """Start ``n`` hospital lakes, each hosting its share of ``dataset`` as table ``patients``.

    Parameters
    ----------
    n
        Number of hospitals (1 to 10).
    dataset
        ``"breast_cancer"`` (a binary diagnosis), ``"wine"`` (three cultivars) or
        ``"diabetes"`` (a numeric progression), all shipped with scikit-learn.
    split
        ``"iid"``: rows dealt evenly at random. ``"skewed"``: different sizes and label mixes.
        ``("by", column)``: equal shares, each hospital one range of ``column`` (a feature or
        the label), the first hospital the lowest values.
    seed
        Seeds the test split and the deal.
    ports
        Serve each lake over HTTP on these ports instead of in this process (a ``None`` entry
        keeps that lake in this process).
    data_dir
        Where the hospitals' Parquet files and records go (by default a temporary folder,
        removed when the demo closes or the process exits).
    """
    if dataset not in DATASETS:
        raise CollabError(f"the demo ships the data sets {', '.join(DATASETS)}, not {dataset!r}")
    if not 1 <= n <= len(HOSPITAL_NAMES):
        raise CollabError(f"n must be between 1 and {len(HOSPITAL_NAMES)}, not {n}")
    if ports is not None and len(ports) != n:
        raise CollabError(f"give one port per hospital: {n} hospitals, {len(ports)} ports")
    dealt = deal(n, dataset, split, seed, test_size=test_size)
    data, frame, label, features = dealt.data, dealt.frame, dealt.label, dealt.features
    train, test, parts, bounds = dealt.train, dealt.test, dealt.parts, dealt.bounds
    root = Path(data_dir) if data_dir else scratch_folder("demo")
    if dataset == "breast_cancer":
        descriptions = {
            c: f"{c.replace('_', ' ')} of the cell nuclei (biopsy image)" for c in features
        }
    else:
        descriptions = {c: c.replace("_", " ") for c in features}
    descriptions[label] = data.label_description
    # a multi-class label's values are published, so plans learn the classes from the owners
    categories = {}
    if data.task == "multiclass":
        categories = {label: sorted(int(v) for v in frame[label].unique())}
    descriptions[data.identifier] = "record number"
    if dataset == "breast_cancer":
        descriptions[data.identifier] = "hospital record number"
    lakes: list[Lake] = []
    try:
        for i, rows in enumerate(parts):
            name = HOSPITAL_NAMES[i]
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{TABLE}.parquet"
            train.iloc[rows].to_parquet(path, index=False)
            lake = Lake.launch(
                name,
                port=None if ports is None else ports[i],  # None in the list: in-process
                data_dir=folder / "lake",
                spark_conf=demo_spark_conf(),
            )
            lakes.append(lake)
            lake.add_table(
                TABLE,
                path,
                description=data.description,
                private_columns=[data.identifier],
                column_descriptions=descriptions,
                bounds=bounds,
                categories=categories,
            )
            lake.add_scientist(SCIENTIST_EMAIL, SCIENTIST_PASSWORD, name="Ada")
        federation = connect(lakes, email=SCIENTIST_EMAIL, password=SCIENTIST_PASSWORD)
    except BaseException:
        for lake in lakes:
            lake.stop()
        if not data_dir:
            remove_scratch(root)
        raise
    # the fields in their order: the lakes, what to train, the rows kept back, where, which
    return HospitalsDemo(
        lakes,
        federation,
        features,
        label,
        TABLE,
        train,
        test,
        root,
        dataset,
        list(parts),
        temporary=not data_dir,
    )
