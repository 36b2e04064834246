"""The tap's imports: no cycle between its modules, nothing outside its own dependencies.

Read from the source (every import statement, including those inside functions and
``TYPE_CHECKING`` blocks), so an import hidden from Python's import order still counts.
"""

from __future__ import annotations

import ast
import graphlib
import importlib.util
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "tap_tiktok_ads"


def module_files() -> dict[str, Path]:
    """Module name -> source file, for every module of the package."""
    modules = {}
    for path in sorted((REPO_ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every module name an import statement of ``path`` asks for (``from a import b`` asks
    for ``a.b`` as well as ``a``; the caller keeps what exists)."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            package = module if is_package else module.rpartition(".")[0]
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def internal_import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {
        module: {
            name for name in imported_names(module, path) if name in modules and name != module
        }
        for module, path in modules.items()
    }


def test_the_graph_covers_every_module_and_its_imports():
    graph = internal_import_graph()
    assert {"tap_tiktok_ads.tap", "tap_tiktok_ads.client", "tap_tiktok_ads.envelope"} <= set(graph)
    assert "tap_tiktok_ads.client" in graph["tap_tiktok_ads.streams.reports"]
    assert "tap_tiktok_ads.streams.reports" in graph["tap_tiktok_ads.streams"]
    assert "tap_tiktok_ads.streams" in graph["tap_tiktok_ads.tap"]


def test_a_cycle_would_be_found():
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).static_order())


def test_the_modules_import_each_other_without_a_cycle():
    graph = internal_import_graph()
    try:
        order = tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")
    # Leaves first: the envelope and the pagination know nothing of streams or the tap.
    assert order.index("tap_tiktok_ads.envelope") < order.index("tap_tiktok_ads.pagination")
    assert order.index("tap_tiktok_ads.client") < order.index("tap_tiktok_ads.streams")
    assert order.index("tap_tiktok_ads.streams") < order.index("tap_tiktok_ads.tap")


def declared_distributions() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in project["project"]["dependencies"]
    }


#: Modules that may use an optional extra's distributions, imported inside functions only.
OPTIONAL_EXTRA_OF_MODULE = {"tap_tiktok_ads.shared_budget": "shared-budget"}


def extra_distributions(extra: str) -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in project["project"]["optional-dependencies"][extra]
    }


def imported_at_import_time(path: Path) -> set[str]:
    """Top-level names of the imports that run when the module is imported (everything
    outside function bodies)."""
    names: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
        pending.extend(ast.iter_child_nodes(node))
    return names


def test_the_tap_imports_only_its_own_dependencies():
    """What ``pip install`` of the tap brings is all it may use: no psycopg, cryptography,
    web framework, bridge or simulator code. An optional extra's distributions only in the
    module that needs them, imported when first used, so the tap alone still imports."""
    declared = declared_distributions()
    assert declared == {"singer-sdk", "requests", "orjson"}
    providers = packages_distributions()
    outside = {}
    for module, path in module_files().items():
        extra = OPTIONAL_EXTRA_OF_MODULE.get(module)
        allowed = declared | (extra_distributions(extra) if extra else set())
        eager = imported_at_import_time(path)
        for name in imported_names(module, path):
            top = name.partition(".")[0]
            if top == PACKAGE or top in sys.stdlib_module_names or top == "__future__":
                continue
            distributions = {d.lower() for d in providers.get(top, [top])}
            if not distributions & allowed or (not distributions & declared and top in eager):
                outside[f"{module}: {top}"] = sorted(distributions)
    assert outside == {}


def test_the_shared_budget_extra_brings_psycopg_imported_lazily():
    assert extra_distributions("shared-budget") == {"psycopg"}
    path = module_files()["tap_tiktok_ads.shared_budget"]
    assert "psycopg" in {
        n.partition(".")[0] for n in imported_names("tap_tiktok_ads.shared_budget", path)
    }
    assert "psycopg" not in imported_at_import_time(path)
