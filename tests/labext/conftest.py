"""Served lakes for the extension's tests, and pytest-jupyter's Jupyter server fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403 - jp_serverapp, jp_fetch...
from served_lakes import served_lakes

import collab


@pytest.fixture(scope="session")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, collab.Lake]]:
    """St Mary's and St Jude's lakes served over HTTP, for the whole session."""
    with served_lakes(tmp_path_factory.mktemp("labext-lakes")) as started:
        yield started


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Jupyter config dir for this test (``JUPYTER_CONFIG_DIR``)."""
    path = tmp_path / "jupyter-config"
    path.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(path))
    for name in ("ST_MARY", "ST_JUDE", "ST_LUKE"):
        monkeypatch.delenv(f"COLLAB_PASSWORD_{name}", raising=False)
    return path
