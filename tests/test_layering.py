"""Imports run one way: no cycles, and no import against the layering.

DESIGN: ``hub`` and ``partners`` use ``keys``; ``keys`` imports neither;
``partners`` never imports ``hub``. Inside the hub: acks use records, records
use the ledger, routes use services, and reports (and whatever reads
everything) are never imported back. Every import statement counts, also
those inside functions (an import moved into a function body to hide a
cycle is still the cycle); only ``if TYPE_CHECKING:`` blocks are left out.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "keys", "partners")

#: (importer prefix, imported prefix): an edge that must never exist.
FORBIDDEN = [
    ("keys", "hub"),
    ("keys", "partners"),
    ("partners", "hub"),
    ("hub.ledger", "hub.records"),
    ("hub.ledger", "hub.acks"),
    ("hub.records", "hub.acks"),
    ("hub.records", "hub.reports"),
    ("hub.acks", "hub.reports"),
    ("hub.ledger", "hub.reports"),
    ("hub.auth", "hub.records"),
    ("hub.auth", "hub.acks"),
    ("hub.auth", "hub.ledger"),
    ("hub.auth", "hub.reports"),
    ("hub.auth", "hub.taxii"),
    ("hub.records", "hub.taxii"),
    ("hub.records", "hub.numbers"),
    ("hub.ledger", "hub.numbers"),
    ("hub.acks", "hub.numbers"),
    ("hub.auth", "hub.numbers"),
    ("hub.ledger", "hub.taxii"),
    ("hub.acks", "hub.taxii"),
    ("hub.reports", "hub.taxii"),
    ("hub.problems", "hub.auth"),
    ("hub.admin", "hub.cli"),
    ("hub.demo", "hub.cli"),
]


def _hub_parts_but_the_console(root: Path = ROOT) -> list[str]:
    """Every module and package directly under ``hub`` except ``hub.console`` (and ``hub`` itself)."""
    parts = []
    for path in sorted((root / "hub").iterdir()):
        if path.suffix == ".py" and path.name != "__init__.py":
            parts.append(f"hub.{path.stem}")
        elif path.is_dir() and path.name != "console" and (path / "__init__.py").exists():
            parts.append(f"hub.{path.name}")
    return parts


#: The ministry's console is a leaf (issue 15): it reads the reports' and the records' own queries,
#: and nothing reads it back. Only the app factory (``hub/__init__.py``'s create_app) imports it, to
#: register the blueprint; a module added under ``hub`` later gets the edge without editing this list.
FORBIDDEN += [(part, "hub.console") for part in _hub_parts_but_the_console()]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(root: Path, tree: ast.AST, module: str, is_package: bool) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from hub import clock`` imports the module hub.clock (and runs hub/__init__,
            # which imports nothing at module level); ``from hub.db import db`` imports hub.db.
            submodules = [a.name for a in node.names if _is_module(root, target, a.name)]
            found.update(f"{target}.{name}" for name in submodules)
            if len(submodules) < len(node.names):
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _is_module(root: Path, package: str, name: str) -> bool:
    base = root.joinpath(*package.split("."))
    return (base / f"{name}.py").exists() or (base / name / "__init__.py").exists()


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    modules: dict[str, tuple[Path, bool]] = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            modules[_module_name(root, path)] = (path, path.name == "__init__.py")
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        targets = _imports(root, ast.parse(path.read_text(), str(path)), name, is_package)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_the_graph_sees_real_imports() -> None:
    graph = import_graph()
    assert "hub.ledger" in graph["hub.records.ingest"] or "hub.ledger.log" in graph["hub.records.ingest"]
    assert "keys.wire" in graph["hub.batch"]
    assert len(graph) > 60


def test_no_import_cycles() -> None:
    graph = import_graph()
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_no_import_against_the_layering() -> None:
    graph = import_graph()
    wrong = [
        f"{src} imports {dst}"
        for src, targets in graph.items()
        for dst in targets
        for a, b in FORBIDDEN
        if (src == a or src.startswith(a + ".")) and (dst == b or dst.startswith(b + "."))
    ]
    assert wrong == []


def test_only_the_app_factory_imports_the_console() -> None:
    graph = import_graph()
    importers = sorted(src for src, targets in graph.items() if any(t.startswith("hub.console") for t in targets))
    assert [m for m in importers if not m.startswith("hub.console")] == ["hub"]
    edges = set(FORBIDDEN)
    assert {("hub.reports", "hub.console"), ("hub.admin", "hub.console"), ("hub.records", "hub.console")} <= edges
    assert not any(a in ("hub", "hub.console") or a.startswith("hub.console.") for a, b in edges if b == "hub.console")


def test_a_cycle_hidden_in_a_function_is_caught(tmp_path: Path) -> None:
    """The checker itself: two modules importing each other, one inside a function body, are a cycle."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text("from pkg.a import f\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.a"}
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter(graph).static_order())
