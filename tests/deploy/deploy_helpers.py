"""Rendering the Kustomize trees under deploy/k8s (shared by the deploy tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"

_rendered: dict[Path, list[dict[str, Any]]] = {}


def kubectl() -> str:
    """kubectl's path; a failure (not a skip) when it is missing, because CI must run these."""
    path = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not path:
        pytest.fail(
            "kubectl is not on the PATH (set KUBECTL=/path/to/kubectl): the deploy tests render "
            "deploy/k8s with `kubectl kustomize`, which works offline"
        )
    return path


def render(directory: Path) -> list[dict[str, Any]]:
    """The resources `kubectl kustomize DIRECTORY` prints, parsed."""
    if directory not in _rendered:
        done = subprocess.run(
            [kubectl(), "kustomize", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"kubectl kustomize {directory} failed:\n{done.stderr}"
        _rendered[directory] = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    return _rendered[directory]


def only(resources: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one resource of ``kind`` (whose name starts with ``name``, when given)."""
    found = [
        r
        for r in resources
        if r["kind"] == kind and (name is None or r["metadata"]["name"].startswith(name))
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]
