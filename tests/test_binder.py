"""Binder and conda name the same versions as pyproject.toml, and the README's Binder badge
opens JupyterLab on the notebooks. (conda-forge is not reachable here, so the environment is
checked by reading it, not by building it.)"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = [ROOT / "environment.yml", ROOT / "binder" / "environment.yml"]
BADGE = (
    "[![Binder](https://mybinder.org/badge_logo.svg)]"
    "(https://mybinder.org/v2/gh/data-lake-collab/data-lake-collab/HEAD"
    "?urlpath=lab/tree/notebooks)"
)
# what the notebooks need beside collab's own dependencies
NOTEBOOK_PACKAGES = {"ipykernel", "jupyterlab"}


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        name, sep, version = requirement.partition("==")
        assert sep, f"{requirement!r} is not pinned with =="
        pins[_name(name)] = version.strip()
    return pins


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment(path: Path) -> tuple[list[str], dict[str, str]]:
    data = yaml.safe_load(path.read_text())
    conda = [d for d in data["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in data["dependencies"] if isinstance(d, dict))
    return conda, _pins(pip)


@pytest.mark.parametrize("path", ENVIRONMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_environment_pins_the_versions_of_pyproject(path: Path, pyproject: dict) -> None:
    conda, pip = _environment(path)
    assert "python=3.11" in conda
    assert "openjdk=17" in conda
    assert "pip" in conda
    runtime = _pins(pyproject["project"]["dependencies"])
    extras = _pins(pyproject["project"]["optional-dependencies"]["test"])
    for name, version in runtime.items():
        assert pip.get(name) == version, f"{path.name}: {name} should be =={version}"
    for name in NOTEBOOK_PACKAGES:
        assert pip.get(name) == extras[name], f"{path.name}: {name} should be =={extras[name]}"
    unknown = set(pip) - set(runtime) - NOTEBOOK_PACKAGES
    assert not unknown, f"{path.name} pins packages pyproject.toml does not: {unknown}"
    assert pyproject["project"]["requires-python"].startswith(">=3.11")


def test_binder_environment_is_the_root_one() -> None:
    assert _environment(ENVIRONMENTS[0]) == _environment(ENVIRONMENTS[1])


def test_binder_installs_collab_itself() -> None:
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    assert "pip install --no-deps -e ." in post_build.read_text()


def test_readme_badge_opens_lab_on_the_notebooks() -> None:
    readme = (ROOT / "README.md").read_text()
    assert BADGE in readme
    target = re.search(r"urlpath=lab/tree/([^)\s]+)", BADGE)
    assert target is not None
    folder = ROOT / target.group(1)
    assert folder.is_dir() and sorted(folder.glob("*.ipynb")), f"no notebooks in {folder}"
