"""Binder and conda name the same versions as pyproject.toml, and the README's Binder badge
opens JupyterLab on the notebooks. (conda-forge is not reachable here, so the environment is
checked by reading it, not by building it.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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


POST_BUILD = ROOT / "binder" / "postBuild"
INSTALL = "pip install --no-deps .\n"


def test_binder_installs_collab_with_its_built_extension(pyproject: dict) -> None:
    """Binder installs collab from a wheel, whose build hook builds the JupyterLab extension
    with the Node.js of the environment and installs it and the server extension's config."""
    assert os.access(POST_BUILD, os.X_OK), "binder/postBuild must be executable"
    script = POST_BUILD.read_text()
    # not editable: an editable install without a build silently has no extension
    assert INSTALL in script and " -e " not in script
    for path in ENVIRONMENTS:
        conda, _ = _environment(path)
        assert "nodejs=20" in conda, f"{path.name}: the extension is built with Node.js 20"
    build = pyproject["build-system"]["requires"]
    extras = _pins(pyproject["project"]["optional-dependencies"]["test"])
    assert f"jupyterlab=={extras['jupyterlab']}" in build
    hook = pyproject["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]
    assert "collab/labextension/package.json" in hook["ensured-targets"]
    assert hook["build-kwargs"] == {"path": "labext", "build_cmd": "build:prod", "npm": ["jlpm"]}
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["collab/labextension"] == "share/jupyter/labextensions/@data-lake-collab/labext"
    assert shared["jupyter-config/server-config"] == "etc/jupyter/jupyter_server_config.d"
    server_config = json.loads((ROOT / "jupyter-config/server-config/collab.json").read_text())
    assert server_config["ServerApp"]["jpserver_extensions"] == {"collab": True}


def test_binder_checks_the_extension_as_jupyter_lists_it() -> None:
    """postBuild's checks after the install pass where the extension is installed (this
    environment, after `make labext`), so they fail Binder's build only when it is not."""
    checks = POST_BUILD.read_text().split(INSTALL, 1)[1]
    assert "jupyter labextension list" in checks and "jupyter server extension list" in checks
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    listed = subprocess.run(
        [str(Path(bin_dir) / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if "@data-lake-collab/labext" not in listed.stdout + listed.stderr:
        if os.environ.get("CI"):
            pytest.fail("the JupyterLab extension is not installed here: make labext")
        pytest.skip("the JupyterLab extension is not installed here: make labext")
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + checks],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "@data-lake-collab/labext" in done.stdout and "collab enabled" in done.stdout


def test_readme_badge_opens_lab_on_the_notebooks() -> None:
    readme = (ROOT / "README.md").read_text()
    assert BADGE in readme
    target = re.search(r"urlpath=lab/tree/([^)\s]+)", BADGE)
    assert target is not None
    folder = ROOT / target.group(1)
    assert folder.is_dir() and sorted(folder.glob("*.ipynb")), f"no notebooks in {folder}"
