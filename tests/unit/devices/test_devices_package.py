"""The devices package keeps its promises: public names listed, no import-time work, no upward imports."""

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import devices

PACKAGE_DIR = Path(devices.__file__).parent
MODULES = sorted(f"devices.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE_DIR)]))


@pytest.mark.parametrize("name", ["devices", *MODULES])
def test_every_public_module_lists_its_public_names_and_they_exist(name):
    module = importlib.import_module(name)
    assert module.__all__, f"{name} has an empty __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []


def test_importing_every_devices_module_loads_no_image_library_and_starts_no_thread():
    code = (
        "import importlib, json, sys, threading\n"
        f"for m in {MODULES!r}: importlib.import_module(m)\n"
        "heavy = [m for m in ('cv2', 'zxingcpp', 'pyzbar', 'PIL', 'barcode', 'segno', 'numpy') if m in sys.modules]\n"
        "print(json.dumps({'heavy': heavy, 'threads': threading.active_count()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE_DIR.parent)
    assert json.loads(out.stdout) == {"heavy": [], "threads": 1}


def test_devices_imports_nothing_from_hub_edge_app_or_sync():
    offenders = []
    for path in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("hub", "edge_app", "sync")]
    assert offenders == []


def test_every_error_class_has_a_one_line_docstring_and_derives_from_device_error():
    from devices import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.DeviceError) and cls.__doc__ and "\n" not in cls.__doc__.strip()


def test_the_devices_package_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), str(PACKAGE_DIR)],
        capture_output=True, text=True, cwd=PACKAGE_DIR.parent,
    )
    assert out.returncode == 0, out.stdout
