"""The architecture's layer rules, checked: which collab packages may never import which.

Every ``.py`` file under ``collab/`` is parsed with ``ast`` (never imported), and every import
in it counts: module-level and function-local ones, ``import x`` and ``from x import y``,
relative imports resolved against the file's package, and imports under ``if TYPE_CHECKING:``.
Type-only imports are deliberately NOT exempted: a layer that names another layer's types is
coupled to it, and the rules below are about coupling, not just about what runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "collab"


@dataclass(frozen=True)
class Rule:
    source: str  # a package prefix: the files under it are checked
    forbidden: tuple[str, ...]  # package prefixes those files may never import
    reason: str


# source package prefix -> forbidden prefixes, and why.
RULES: tuple[Rule, ...] = (
    Rule(
        "collab.scientist",
        ("collab.engine",),
        "the scientist's side never runs Spark: rows stay in the lakes",
    ),
    Rule(
        "collab.plans",
        ("collab.lake",),
        "a plan is a pure description; the lake runs plans, never the reverse",
    ),
    Rule(
        "collab.secure",
        ("collab.lake", "collab.plans"),
        "the crypto and DP primitives sit below every layer that uses them",
    ),
    Rule(
        "collab.engine",
        ("collab.scientist",),
        "the engine computes where the rows live and knows nothing of the coordinator",
    ),
    Rule(
        "collab.protocol",
        ("collab.lake", "collab.scientist", "collab.engine"),
        "the wire protocol is shared by both sides and depends on neither",
    ),
    Rule("collab.widgets", ("collab.engine",), "views hold no logic and never see rows"),
    Rule(
        "collab.transport",
        ("collab.lake", "collab.scientist", "collab.engine", "collab.widgets", "collab._jupyter"),
        "the transport carries requests and messages for both sides and depends on neither",
    ),
    Rule(
        "collab.features",
        ("collab.plans", "collab.lake", "collab.scientist", "collab.engine", "collab.protocol"),
        "transforms are data and arithmetic under the plans, run alike by lakes and models",
    ),
)

# The one package that may import PySyft (`syft`), so another transport can replace it.
TRANSPORT = "collab.transport"

# Packages a rule may name before they exist (then the rule passes vacuously).
MAY_BE_ABSENT = {"collab.protocol"}


@dataclass(frozen=True)
class Import:
    path: str  # the importing file, relative to the repository root
    line: int
    module: str  # the imported module, absolute (relative imports resolved)
    name: str | None = None  # for `from module import name`: the name, maybe a submodule

    def targets(self) -> Iterator[str]:
        """What this import may bring in: the module, and `module.name` in case the name is a
        submodule (`from .. import engine` inside collab/lake imports `collab.engine`)."""
        yield self.module
        if self.name is not None and self.name != "*":
            yield f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Violation:
    rule: Rule
    imp: Import
    target: str  # the forbidden module it imports

    def __str__(self) -> str:
        how = f" (from {self.imp.module} import {self.imp.name})" if self.imp.name else ""
        return f"{self.imp.path}:{self.imp.line} -> {self.target}{how}"


def under(module: str, prefix: str) -> bool:
    """`module` is the package `prefix` or inside it (by dotted components, not by text)."""
    return module == prefix or module.startswith(prefix + ".")


def module_of(path: str) -> str:
    """collab/lake/_runner.py -> collab.lake._runner; collab/lake/__init__.py -> collab.lake."""
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(path: str) -> str:
    """The package that a relative import in `path` is resolved against."""
    module = module_of(path)
    return module if Path(path).name == "__init__.py" else module.rpartition(".")[0]


def resolve(path: str, level: int, module: str | None) -> str:
    """The absolute module named by `from <level dots><module> import ...` inside `path`."""
    if level == 0:
        assert module is not None
        return module
    parts = package_of(path).split(".")
    if level - 1 >= len(parts):
        raise ValueError(f"{path}: relative import beyond the top package (level {level})")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imports_of(path: str | Path, source: str | None = None) -> list[Import]:
    """Every import in one file, at any depth (functions, classes, `if TYPE_CHECKING:`, ...).

    `path` is relative to the repository root (an absolute path under it is made relative);
    `source` defaults to the file's text, and lets a test check text that is not on disk.
    """
    path = Path(path)
    if path.is_absolute():
        path = path.relative_to(ROOT)
    shown = path.as_posix()
    if source is None:
        source = (ROOT / path).read_text(encoding="utf-8")
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=shown)):
        if isinstance(node, ast.Import):
            found += [Import(shown, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = resolve(shown, node.level, node.module)
            found += [Import(shown, node.lineno, module, alias.name) for alias in node.names]
    return sorted(found, key=lambda imp: (imp.line, imp.module, imp.name or ""))


def violations(rules: Iterable[Rule], files: Mapping[str, str]) -> list[Violation]:
    """Every import in `files` (path relative to the root -> source) that breaks a rule."""
    found: list[Violation] = []
    for path, source in sorted(files.items()):
        module = module_of(path)
        applicable = [rule for rule in rules if under(module, rule.source)]
        if not applicable:
            continue
        for imp in imports_of(path, source):
            for rule in applicable:
                hits = [t for t in imp.targets() for f in rule.forbidden if under(t, f)]
                if hits:
                    found.append(Violation(rule, imp, hits[0]))
    return found


def collab_files() -> dict[str, str]:
    """Every .py file under collab/, by path relative to the repository root."""
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / PACKAGE).rglob("*.py"))
        if ".ipynb_checkpoints" not in path.parts
    }


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    found = collab_files()
    assert found, f"no .py files under {ROOT / PACKAGE}"
    return found


@pytest.mark.parametrize("rule", RULES, ids=[rule.source for rule in RULES])
def test_layer_rule(rule: Rule, files: dict[str, str]) -> None:
    checked = [path for path in files if under(module_of(path), rule.source)]
    if rule.source not in MAY_BE_ABSENT:
        assert checked, f"no files under {rule.source}: is the rule's prefix misspelt?"
    broken = violations([rule], files)
    if broken:  # the message alone: the sources in this test's arguments are too long to show
        pytest.fail(
            f"{rule.source} must not import {' or '.join(rule.forbidden)} ({rule.reason}); "
            f"{len(broken)} offending import(s):\n" + "\n".join(f"  {v}" for v in broken),
            pytrace=False,
        )


def syft_imports(files: Mapping[str, str]) -> tuple[list[Import], list[Import]]:
    """The imports of PySyft (`syft` or a module under it) in `files`: those inside the
    transport package, and those anywhere else."""
    inside: list[Import] = []
    outside: list[Import] = []
    for path, source in sorted(files.items()):
        found = [imp for imp in imports_of(path, source) if under(imp.module, "syft")]
        (inside if under(module_of(path), TRANSPORT) else outside).extend(found)
    return inside, outside


def test_only_the_transport_imports_syft(files: dict[str, str]) -> None:
    inside, outside = syft_imports(files)
    assert inside, f"no import of syft under {TRANSPORT}: is the package's name misspelt?"
    if outside:
        pytest.fail(
            f"only {TRANSPORT} may import syft (PySyft stays behind one transport package); "
            f"{len(outside)} import(s) elsewhere:\n"
            + "\n".join(f"  {i.path}:{i.line} {i.module}" for i in outside),
            pytrace=False,
        )


def test_syft_imports_are_found_at_any_depth() -> None:
    source = "def f():\n    import syft\n    from syft.server import uvicorn\nimport syftx\n"
    inside, outside = syft_imports(
        {"collab/transport/_owner.py": source, "collab/lake/_x.py": source}
    )
    assert [(i.path, i.line) for i in inside] == [
        ("collab/transport/_owner.py", 2),
        ("collab/transport/_owner.py", 3),
    ]
    assert [(i.path, i.line, i.module) for i in outside] == [
        ("collab/lake/_x.py", 2, "syft"),
        ("collab/lake/_x.py", 3, "syft.server"),
    ]  # and not `syftx` (line 4): modules match whole dotted components


# The checker itself: it must catch what the rules forbid, or the tests above pass vacuously.

SYNTHETIC = """\
from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import CollabError

if TYPE_CHECKING:
    from collab.engine._tables import TableFacts


def run():
    import collab.engine

    def inner():
        from ..engine import spark_session

        return spark_session

    return inner


class Holder:
    def method(self):
        from .. import engine
        from .. import engineering

        return engine, engineering
"""


def test_checker_catches_every_kind_of_import() -> None:
    path = "collab/scientist/_x.py"
    found = violations(RULES, {path: SYNTHETIC})
    assert [str(v) for v in found] == [
        f"{path}:8 -> collab.engine._tables (from collab.engine._tables import TableFacts)",
        f"{path}:12 -> collab.engine",
        f"{path}:15 -> collab.engine (from collab.engine import spark_session)",
        f"{path}:24 -> collab.engine (from collab import engine)",
    ]  # and not `collab.engineering` (line 25): prefixes match whole dotted components
    assert {v.rule.source for v in found} == {"collab.scientist"}


def test_checker_ignores_files_outside_the_rule() -> None:
    assert violations(RULES, {"collab/lake/_x.py": SYNTHETIC}) == []


def test_relative_imports_resolve_against_the_package() -> None:
    source = "def f():\n    from ..engine import spark_session\n    from . import _state\n"
    assert [(i.module, i.name) for i in imports_of("collab/lake/_runner.py", source)] == [
        ("collab.engine", "spark_session"),
        ("collab.lake", "_state"),
    ]
    # in a package's __init__.py, `.` is that package itself
    assert [i.module for i in imports_of("collab/lake/__init__.py", "from .. import x")] == [
        "collab"
    ]
    with pytest.raises(ValueError, match="beyond the top package"):
        imports_of("collab/_x.py", "from .. import x")


def test_imports_of_reads_the_real_tree() -> None:
    """Parsing from disk works, by relative or absolute path (collab/__init__.py imports)."""
    relative = imports_of("collab/__init__.py")
    assert relative and relative == imports_of(ROOT / "collab" / "__init__.py")
    assert all(imp.path == "collab/__init__.py" for imp in relative)


# Import cycles, private imports and module sizes: the same parse, over collab/ and benchmarks/.

MAX_MODULE_LINES = 700


def tree_files(top: str) -> list[str]:
    """Every .py file under the folder `top` of the repository, relative to the root."""
    return [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / top).rglob("*.py"))
        if ".ipynb_checkpoints" not in path.parts
    ]


def import_graph(files: Mapping[str, str]) -> dict[str, set[str]]:
    """Module -> the modules of `files` it imports (at any depth in the file).

    `from package import name` counts as importing the submodule `package.name` when that is
    one of the modules, else as importing `package` (its ``__init__``). A package's own
    ``__init__`` running before its submodules is not an edge: only what a file names is.
    """
    modules = {module_of(path): path for path in files}
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        for imp in imports_of(path, files[path]):
            sub = f"{imp.module}.{imp.name}" if imp.name else None
            target = sub if sub in modules else imp.module
            if target in modules and target != module:
                graph[module].add(target)
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The import cycles of `graph`: its strongly connected components of two or more modules
    (Tarjan's algorithm, iterative), each sorted, in order of their first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def private_collab_imports(path: str, source: str) -> list[Import]:
    """Imports in `path` that reach into a private part of collab: a dotted component after
    ``collab`` that starts with ``_`` (``collab.engine._step``, ``collab.transport._owner``),
    whether named as the module or as the imported name (``from collab.engine import _step``).
    Dunder names (``from collab import __version__``) are public."""

    def private(module: str) -> bool:
        parts = module.split(".")
        return parts[0] == PACKAGE and any(
            p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts[1:]
        )

    return [imp for imp in imports_of(path, source) if any(map(private, imp.targets()))]


@pytest.mark.parametrize("top", [PACKAGE, "benchmarks"])
def test_no_import_cycle(top: str) -> None:
    files = {path: (ROOT / path).read_text(encoding="utf-8") for path in tree_files(top)}
    assert files, f"no .py files under {ROOT / top}"
    graph = import_graph(files)
    found = cycles(graph)
    if found:
        shown = [
            "  " + ", ".join(f"{m} -> {sorted(t for t in graph[m] if t in cycle)}" for m in cycle)
            for cycle in found
        ]
        pytest.fail(
            f"{len(found)} import cycle(s) among the modules of {top}/ (imports inside "
            "functions and under TYPE_CHECKING count):\n" + "\n".join(shown),
            pytrace=False,
        )


def test_benchmarks_import_only_public_collab_names() -> None:
    files = tree_files("benchmarks")
    assert files
    found = [
        imp
        for path in files
        for imp in private_collab_imports(path, (ROOT / path).read_text(encoding="utf-8"))
    ]
    if found:
        pytest.fail(
            "benchmarks/ must use collab's public names only (collab.probe has what timings "
            "need); private imports:\n"
            + "\n".join(
                f"  {i.path}:{i.line} {i.module}" + (f" import {i.name}" if i.name else "")
                for i in found
            ),
            pytrace=False,
        )


def test_no_module_over_700_lines() -> None:
    sizes = {
        path: len((ROOT / path).read_text(encoding="utf-8").splitlines())
        for path in tree_files(PACKAGE)
    }
    # the walk reaches nested packages' modules (a miss would make the limit vacuous)
    assert sizes.get(f"{PACKAGE}/plans/_survival/_cox.py", 0) > 100
    over = {path: n for path, n in sizes.items() if n > MAX_MODULE_LINES}
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] <= MAX_MODULE_LINES, (
        f"modules in {PACKAGE}/ over {MAX_MODULE_LINES} lines (split them by what they do):\n"
        + "\n".join(f"  {p}: {n}" for p, n in sorted(over.items()))
    )


# The checkers themselves, on synthetic trees.


def test_cycles_are_found_through_relative_and_function_level_imports() -> None:
    files = {
        "pkg/__init__.py": "from .a import A\n",
        "pkg/a.py": "from . import b\nA = 1\n",
        "pkg/b.py": "def f():\n    from .c import C\n",
        "pkg/c.py": "from pkg import a\nC = 1\n",
        "pkg/d.py": "from .a import A\nfrom . import e\n",
        "pkg/e.py": "import pkg.d\n",
        "pkg/f.py": "from pkg import b\n",  # imports into the cycle, is not part of it
    }
    graph = import_graph(files)
    assert graph["pkg"] == {"pkg.a"} and graph["pkg.c"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"], ["pkg.d", "pkg.e"]]
    del files["pkg/e.py"]
    assert cycles(import_graph(files)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_private_collab_imports_are_named() -> None:
    source = (
        "import collab\nfrom collab import __version__, probe\nfrom collab.plans import Plan\n"
        "def f():\n    from collab.engine._step import last_step\n"
        "    from collab.engine import _step\n    import collab.transport._owner\n"
        "from collabs._x import y\n"
    )
    found = private_collab_imports("benchmarks/_x.py", source)
    assert [(i.line, i.module, i.name) for i in found] == [
        (5, "collab.engine._step", "last_step"),
        (6, "collab.engine", "_step"),
        (7, "collab.transport._owner", None),
    ]
