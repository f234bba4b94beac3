"""The package layout shows the architecture: stages are folders, and imports point down.

Each package is a stack of layers (docs/architecture.md). A module may import a module of its
own stage folder or of a lower layer, never one above: these tests read every import statement
(lazy ones inside functions included) with :mod:`ast` and fail naming the offending line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SDK_ROOT = REPO / "client" / "rundial"
COLLECTOR_ROOT = REPO / "collector" / "rundial_collector"
MAX_ROOT_MODULES = 12

# Stage folder (or root module) -> layer; a key absent here is a bottom module of the root (0).
# The CLI sits on the public API (it may import from ``rundial`` itself); nothing imports it.
SDK_LAYERS: Mapping[str, float] = {
    "_wire": 1, "_http": 1, "_spool": 2, "_pipeline": 3, "_producers": 3, "_artifacts": 3,
    "_run": 4, "_eval": 4.5, "__init__": 5, "cli": 6, "compat": 6, "eval_pytest_plugin": 6,
}
COLLECTOR_LAYERS: Mapping[str, float] = {
    "config": 0, "datadir": 0, "store": 1, "store.sqlite": 1.5, "store.postgres": 1.5,
    "store.factory": 1.8, "web": 2, "ingest": 3,
    "query": 3, "live": 3, "artifacts": 3, "user_accounts": 3, "routes": 4, "bootstrap": 5,
    "app": 6, "users_cli": 6.5, "__main__": 7, "__init__": 7,
}


def _module_of(package_root: Path, package: str, dotted: str) -> str:
    """The module file a dotted import target names: ``pkg.a.b.Name`` -> ``pkg.a.b``."""
    parts = dotted.split(".")[1:]
    while parts:
        base = package_root.joinpath(*parts)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join([package, *parts])
        parts = parts[:-1]
    return package


def _imports(path: Path, package: str) -> Iterator[tuple[str, int]]:
    """Every ``package`` import target of one file, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == package or node.module.startswith(package + ".")):
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package or alias.name.startswith(package + "."):
                    yield alias.name, node.lineno


def _stage(module: str, layers: Mapping[str, float]) -> tuple[str, float]:
    """(stage name, layer) of a module: its longest dotted prefix listed in ``layers``."""
    parts = module.split(".")[1:] or ["__init__"]
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in layers:
            return key, layers[key]
    return "root", 0


def _upward_imports(package_root: Path, package: str,
                    layers: Mapping[str, float]) -> list[str]:
    found = []
    for path in sorted(package_root.rglob("*.py")):
        rel = path.relative_to(package_root).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"] or ["__init__"]
        source = ".".join([package, *parts])
        source_stage, source_layer = _stage(source, layers)
        for target, line in _imports(path, package):
            target_stage, target_layer = _stage(_module_of(package_root, package, target), layers)
            if target_stage == source_stage or target_layer < source_layer or (
                    source_layer == target_layer == 0):
                continue
            found.append(f"{path.relative_to(REPO)}:{line} imports {target} "
                         f"({source_stage} -> {target_stage})")
    return found


def test_sdk_imports_point_down_the_stages() -> None:
    assert _upward_imports(SDK_ROOT, "rundial", SDK_LAYERS) == []


def test_collector_imports_point_down_the_stages() -> None:
    assert _upward_imports(COLLECTOR_ROOT, "rundial_collector", COLLECTOR_LAYERS) == []


@pytest.mark.parametrize("root", [SDK_ROOT, COLLECTOR_ROOT], ids=["sdk", "collector"])
def test_package_root_holds_few_modules(root: Path) -> None:
    modules = sorted(p.name for p in root.glob("*.py"))
    assert len(modules) <= MAX_ROOT_MODULES, modules


def test_every_stage_folder_is_a_regular_package() -> None:
    """setuptools only ships folders with an ``__init__.py``; a missing one loses a stage."""
    for root in (SDK_ROOT, COLLECTOR_ROOT):
        for folder in root.rglob("*"):
            if folder.is_dir() and any(folder.glob("*.py")):
                assert (folder / "__init__.py").is_file(), folder


def test_no_client_module_imports_the_spool_tools() -> None:
    """``rundial_spool`` depends on ``rundial``, never the reverse: ``rundial sync`` and
    ``rundial doctor`` work with only the SDK installed."""
    offenders = [f"{path.relative_to(REPO)}:{line} imports {target}"
                 for path in sorted((REPO / "client").rglob("*.py"))
                 for target, line in _imports(path, "rundial_spool")]
    assert offenders == []
