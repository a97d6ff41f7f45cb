"""Three uneven lakes hosting public data sets, for every family's accuracy tests.

Each lake hosts its (skewed) share of four scikit-learn data sets as tables: the demo's
breast-cancer biopsies, diabetes progression, wine cultivars, and handwritten digits. The
pooled training rows and the held-out rows stay here, in the test, as the yardstick.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lake_processes import SCIENTIST

import collab
from collab.demo._hospitals import DATASETS, split_rows

LAKES = ("north", "central", "south")


def digits_frame() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    data = load_digits(as_frame=True)
    frame = data.data.copy()
    frame.columns = [c.replace("pixel_", "p") for c in frame.columns]
    frame["digit"] = data.target.astype("int32")
    return frame


@dataclass
class Table:
    name: str
    features: list[str]
    label: str
    train: pd.DataFrame
    test: pd.DataFrame
    parts: list[np.ndarray]

    @property
    def pooled(self) -> pd.DataFrame:
        return self.train


@dataclass
class UnevenLakes:
    lakes: list[collab.Lake]
    federation: collab.Federation
    tables: dict[str, Table]

    def bounded(self, name: str, max_epsilon: float) -> str:
        """Table ``name`` hosted again as ``<name>_bounded``, with published bounds for every
        column (what a DP plan needs) and a budget of ``max_epsilon`` per scientist."""
        from collab.demo._hospitals import _published_range

        table = self.tables[name]
        columns = [*table.features, table.label]
        categories = self.lakes[0].schema(name).column(table.label).categories
        return self.host(
            f"{name}_bounded",
            table.train,
            table.parts,
            bounds={c: _published_range(table.pooled[c]) for c in columns},
            max_epsilon=max_epsilon,
            categories={table.label: list(categories)} if categories else None,
        )

    def host(
        self,
        name: str,
        frame: pd.DataFrame,
        parts: list[np.ndarray],
        bounds: dict[str, tuple[float, float]],
        max_epsilon: float | None,
        categories: dict[str, list] | None = None,
        **policy: object,
    ) -> str:
        """Rows ``parts[i]`` of ``frame`` hosted by lake ``i`` as table ``name`` (once per
        session), with published ``bounds``, a budget of ``max_epsilon`` per scientist and
        the other ``policy`` settings given."""
        for i, lake in enumerate(self.lakes):
            if name in lake.tables:
                continue
            path = lake.data_dir / f"{name}.parquet"
            frame.iloc[parts[i]].to_parquet(path, index=False)
            private = [c for c in ("patient_id", "sample_id") if c in frame.columns]
            lake.add_table(
                name,
                path,
                private_columns=private,
                bounds=bounds,
                categories=categories,
                policy=collab.Policy(max_epsilon=max_epsilon, **policy),  # type: ignore[arg-type]
            )
        return name

    def train(
        self, plan: collab.plans.Plan, timeout: float = 600, *, validation: bool = False
    ) -> tuple[collab.Job, object]:
        """Submit ``plan``, have every owner approve it, and wait for the model. Without
        ``validation`` the plan holds out no rows, so that it trains on the rows scikit-learn's
        pooled fit, the yardstick, is given."""
        if not validation and plan.holdout > 0:
            plan = dataclasses.replace(plan, validation=0.0)  # type: ignore[type-var]
        job = self.federation.submit(plan)
        for lake in self.lakes:
            for request in lake.requests:
                if request.job_id == job.job_id and request.status == "pending":
                    request.approve()
        return job, job.result(progress=False, timeout=timeout)


def _table(name: str, frame: pd.DataFrame, label: str, drop: tuple[str, ...], stratify: bool):
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        frame, test_size=0.2, random_state=0, stratify=frame[label] if stratify else None
    )
    train = train.reset_index(drop=True)
    parts = split_rows(train[label].to_numpy(), len(LAKES), "skewed", np.random.default_rng(0))
    features = [c for c in frame.columns if c not in (*drop, label)]
    return Table(name, features, label, train, test.reset_index(drop=True), parts)


@pytest.fixture(scope="session")
def uneven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UnevenLakes]:
    root: Path = tmp_path_factory.mktemp("uneven")
    tables = {
        "biopsies": _table(
            "biopsies", DATASETS["breast_cancer"].load(), "malignant", ("patient_id",), True
        ),
        "diabetes": _table(
            "diabetes", DATASETS["diabetes"].load(), "progression", ("patient_id",), False
        ),
        "wine": _table("wine", DATASETS["wine"].load(), "cultivar", ("sample_id",), True),
        "digits": _table("digits", digits_frame(), "digit", (), True),
    }
    categories = {"wine": {"cultivar": [0, 1, 2]}, "digits": {"digit": list(range(10))}}
    lakes: list[collab.Lake] = []
    try:
        for i, name in enumerate(LAKES):
            lake = collab.Lake.launch(name)
            lakes.append(lake)
            for table in tables.values():
                path = root / f"{name}-{table.name}.parquet"
                table.train.iloc[table.parts[i]].to_parquet(path, index=False)
                private = [c for c in ("patient_id", "sample_id") if c in table.train.columns]
                lake.add_table(
                    table.name,
                    path,
                    private_columns=private,
                    categories=categories.get(table.name),
                )
            lake.add_scientist(*SCIENTIST, name="Ada")
        federation = collab.connect(lakes, email=SCIENTIST[0], password=SCIENTIST[1])
        yield UnevenLakes(lakes, federation, tables)
    finally:
        for lake in lakes:
            lake.stop()
