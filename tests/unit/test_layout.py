"""The layout of docs/architecture.md, kept: which package may import which, the rules
inside `hub/` and `edge_app/`, one writer of the op log, one screen base class, and
`__all__` on every public module. Read from the source (ast), so a late import inside a
function counts as much as one at the top."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sync", "hub", "edge_app", "devices")
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def _modules(package: str) -> list[tuple[str, Path]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Every module this file imports, anywhere in it, as absolute dotted names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")[: len(module.split(".")) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


ALL_MODULES = [(name, path) for package in PACKAGES for name, path in _modules(package)]


def _top(name: str) -> str:
    return name.split(".")[0]


def _project(names: set[str]) -> set[str]:
    return {n for n in names if _top(n) in PACKAGES}


# -- between packages (DESIGN.md's "may import" column) -------------------------------
MAY_IMPORT = {
    "sync": {"sync"},
    "devices": {"devices"},
    "hub": {"hub", "sync"},
    "edge_app": {"edge_app", "sync", "devices"},
}
# sync/ is the pure core: the standard library and pydantic, nothing else.
SYNC_THIRD_PARTY = {"pydantic", "pydantic_core"}


@pytest.mark.parametrize("module,path", ALL_MODULES, ids=[m for m, _ in ALL_MODULES])
def test_each_package_imports_only_what_the_design_allows(module, path):
    package = _top(module)
    imported = _imports(path, module)
    wrong = sorted(n for n in _project(imported) if _top(n) not in MAY_IMPORT[package])
    assert not wrong, f"{module} imports {wrong}; {package}/ may import only {sorted(MAY_IMPORT[package])}"
    if package == "sync":
        foreign = sorted(n for n in imported if _top(n) not in STDLIB | SYNC_THIRD_PARTY | {"sync"})
        assert not foreign, f"{module} imports {foreign}: sync/ may use the standard library and pydantic only"


# -- inside hub/ and edge_app/ -----------------------------------------------------------
def _forbidden(module: str) -> tuple[str, ...]:
    """Modules `module` must not import, by where it lives (docs/architecture.md)."""
    if module.startswith("hub.store"):
        return ("hub.domain", "hub.api", "hub.console", "hub.log", "hub.handlers", "hub.feed", "hub.actions",
                "hub.commands", "hub.credentials", "hub.verify", "hub.seed", "hub.cli")
    if module.startswith("hub.domain"):
        return ("hub.api", "hub.console", "hub.log", "hub.handlers", "hub.actions", "hub.verify", "hub.seed", "hub.cli")
    if module.startswith(("hub.api", "hub.console")):
        return ("hub.domain",)
    if module.startswith("edge_app.local"):
        return ("edge_app.workflows", "edge_app.ui", "edge_app.agent", "edge_app.sync_loop", "edge_app.health")
    if module.startswith("edge_app.workflows"):
        return ("edge_app.ui", "edge_app.agent", "edge_app.sync_loop")
    if module in ("edge_app.agent", "edge_app.sync_loop", "edge_app.health", "edge_app.enroll"):
        return ("edge_app.workflows", "edge_app.ui")
    if module.startswith("edge_app.ui.screens"):
        return ("edge_app.ui.screens", "edge_app.ui.navigation", "edge_app.ui.app")
    if module.startswith("edge_app.ui") and module != "edge_app.ui.navigation":
        return ("edge_app.ui.screens",)
    return ()


@pytest.mark.parametrize("module,path", ALL_MODULES, ids=[m for m, _ in ALL_MODULES])
def test_each_layer_imports_only_inward(module, path):
    forbidden = _forbidden(module)
    own = module if not module.startswith("edge_app.ui.screens") else module + "."
    wrong = sorted(n for n in _project(_imports(path, module))
                   if n.startswith(forbidden) and not n.startswith(own) and n != "edge_app.ui.screens")
    assert not wrong, f"{module} imports {wrong} (see docs/architecture.md)"


def test_only_the_log_writes_the_op_log_and_device_sequence_records():
    writes = re.compile(r"INSERT\s+INTO\s+op_log|UPDATE\s+op_log|DELETE\s+FROM\s+op_log|SET\s+last_seq\s*=", re.I)
    writers = sorted(name for name, path in ALL_MODULES if name.startswith("hub") and "migrations" not in name
                     and writes.search(path.read_text()))
    assert writers == ["hub.log"]


def test_every_floor_screen_is_built_on_the_one_screen_base_class():
    from edge_app.ui.navigation import SCREENS
    from edge_app.ui.screen import Screen

    assert all(isinstance(build, type) and issubclass(build, Screen) for build in SCREENS.values())
    for name, path in _modules("edge_app"):
        if name.startswith("edge_app.ui.screens."):
            loaded = importlib.import_module(name)
            classes = [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef) and n.name.endswith("View")]
            for cls in classes:
                assert issubclass(getattr(loaded, cls), Screen), f"{name}.{cls} is not a Screen"


def test_the_handler_table_has_a_handler_for_every_device_kind_and_nothing_registers_itself():
    from hub.handlers import HANDLERS
    from sync.kinds import KINDS

    assert set(KINDS) <= set(HANDLERS)
    for name, path in ALL_MODULES:
        assert "@register" not in path.read_text(), f"{name} registers a handler by decorator"


PUBLIC = [(name, path) for name, path in ALL_MODULES
          if path.name != "__init__.py" and not re.search(r"\.m\d{4}_", name)]


@pytest.mark.parametrize("module,path", PUBLIC, ids=[m for m, _ in PUBLIC])
def test_every_module_says_what_it_exports(module, path):
    if module.startswith("edge_app.ui.camera_scan"):
        pytest.importorskip("cv2")
    loaded = importlib.import_module(module)
    exported = getattr(loaded, "__all__", None)
    assert exported is not None, f"{module} has no __all__"
    assert not [n for n in exported if not hasattr(loaded, n)], f"{module}.__all__ names what it does not define"
