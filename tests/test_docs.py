"""The docs name every package: README's Layout section and docs/ARCHITECTURE.md.

Packages are found from the file tree (every directory under ``collab/`` with an
``__init__.py``, at any depth), so a package added, moved or split is missed by the docs
until they name it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "collab"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"


def packages(root: Path = ROOT) -> list[str]:
    """Every package under collab/ as its path, e.g. ``collab/plans``, ``collab/_jupyter``."""
    return sorted(
        init.parent.relative_to(root).as_posix()
        for init in (root / PACKAGE).rglob("__init__.py")
        if init.parent != root / PACKAGE and ".ipynb_checkpoints" not in init.parts
    )


def section(markdown: str, title: str) -> str:
    """The text of the level-2 section ``title`` (up to the next level-2 heading)."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no '## {title}' section"
    return match.group(1)


def unnamed(text: str, names: list[str]) -> list[str]:
    """The package paths of ``names`` that ``text`` never writes (as a whole path: naming
    ``collab/plans/trees`` also names ``collab/plans``, ``collab/planset`` names neither)."""
    return [name for name in names if not re.search(rf"{re.escape(name)}(?![\w-])", text)]


def test_packages_are_found_in_the_tree() -> None:
    found = packages()
    assert {"collab/plans", "collab/lake", "collab/widgets", "collab/_jupyter"} <= set(found)
    assert "collab/static" not in found  # a folder without __init__.py is not a package


@pytest.mark.parametrize(
    "where", ["README.md#Layout", "docs/ARCHITECTURE.md"], ids=["readme", "architecture"]
)
def test_every_package_is_named(where: str) -> None:
    if where == "README.md#Layout":
        text = section((ROOT / "README.md").read_text(encoding="utf-8"), "Layout")
    else:
        text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = unnamed(text, packages())
    assert not missing, f"{where} does not name these packages: {', '.join(missing)}"


def test_the_readme_layout_links_the_architecture_page() -> None:
    layout = section((ROOT / "README.md").read_text(encoding="utf-8"), "Layout")
    assert "docs/ARCHITECTURE.md" in layout and ARCHITECTURE.is_file()


def test_the_check_catches_a_package_left_out(tmp_path: Path) -> None:
    for folder in ("plans", "plans/trees", "widgets", "static"):
        (tmp_path / PACKAGE / folder).mkdir(parents=True)
    for folder in ("plans", "plans/trees", "widgets"):
        (tmp_path / PACKAGE / folder / "__init__.py").touch()
    (tmp_path / PACKAGE / "__init__.py").touch()
    found = packages(tmp_path)
    assert found == ["collab/plans", "collab/plans/trees", "collab/widgets"]
    assert unnamed("collab/plans/trees and collab/widgets.", found) == []
    assert unnamed("collab/plans and collab/widgetset", found) == [
        "collab/plans/trees",
        "collab/widgets",
    ]
