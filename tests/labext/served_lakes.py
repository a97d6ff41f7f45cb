"""Two lakes served over HTTP for the JupyterLab extension's tests, and saved connections.

Importable from any test (no fixtures here): ``tests/labext/conftest.py`` and the browser
test both start their lakes with :func:`served_lakes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lake_processes import ADMIN_PASSWORD, SCIENTIST, free_port

import collab
from collab import _connections
from collab.demo._hospitals import breast_cancer_frame

# lake -> table -> rows of the breast-cancer data it hosts (coarsened: 300, 200 and 60)
TABLES = {
    "st-mary": {"patients": slice(0, 300)},
    "st-jude": {"patients": slice(300, 569), "biopsies": slice(0, 60)},
    "st-anne": {"patients": slice(100, 250)},
}
FEATURES = ["mean_radius", "mean_texture"]


def launch_lake(root: Path, name: str, *, port: int | None = None) -> collab.Lake:
    """Launch (or, with the same ``root``, reopen) lake ``name`` of :data:`TABLES`, served
    over HTTP, with its tables and the demo scientist."""
    reopening = (root / name).exists()
    lake = collab.Lake.launch(
        name, port=port or free_port(), data_dir=root / name, admin_password=ADMIN_PASSWORD
    )
    if reopening:
        return lake
    try:
        frame = breast_cancer_frame()
        for table, rows in TABLES[name].items():
            path = root / f"{name}-{table}.parquet"
            frame.iloc[rows].to_parquet(path, index=False)
            lake.add_table(table, path, private_columns=["patient_id"])
        lake.add_scientist(*SCIENTIST, name="Ada")
    except BaseException:
        lake.stop()
        raise
    return lake


@contextmanager
def served_lakes(root: Path) -> Iterator[dict[str, collab.Lake]]:
    """St Mary's and St Jude's lakes, each serving its Datasite over HTTP on a free port,
    with the demo scientist registered; both stopped on exit."""
    lakes: dict[str, collab.Lake] = {}
    try:
        for name in ("st-mary", "st-jude"):
            lakes[name] = launch_lake(root, name)
        yield lakes
    finally:
        for lake in lakes.values():
            lake.stop()


def save_lab_connections(lakes: dict[str, collab.Lake], *, offline: bool = False) -> None:
    """Save St Mary's as its owner, St Jude's as the scientist (both through
    ``collab.connect(..., save=True)``), and with ``offline`` St Luke's, whose owner saved it
    but which nobody serves now."""
    collab.connect(
        [lakes["st-mary"]],
        email="info@openmined.org",
        password=ADMIN_PASSWORD,
        role="owner",
        save=True,
    )
    collab.connect([lakes["st-jude"]], email=SCIENTIST[0], password=SCIENTIST[1], save=True)
    if offline:
        url = f"http://127.0.0.1:{free_port()}"
        _connections.save_connections(
            [_connections.Connection("st-luke", url, "owner", "info@openmined.org")],
            {"st-luke": ADMIN_PASSWORD},
        )
