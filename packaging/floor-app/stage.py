"""Copy the packages the floor app runs (edge_app, sync, devices) beside main.py in
src/, so `flet build` packages them: `python packaging/floor-app/stage.py`.
Refuses if edge_app imports anything the device build does not carry."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGES = ("edge_app", "sync", "devices")


def stage(target: Path = HERE / "src") -> Path:
    """Copy PACKAGES into `target` (replacing earlier copies); returns `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PACKAGES:
        shutil.rmtree(target / name, ignore_errors=True)
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if (target / "main.py").resolve() != (HERE / "src" / "main.py").resolve():
        shutil.copy2(HERE / "src" / "main.py", target / "main.py")
    return target


if __name__ == "__main__":
    print(f"staged {', '.join(PACKAGES)} in {stage(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / 'src')}")
