"""packaging/ is real: what can be checked without the Flutter SDK or a container
engine is checked here (packaging/README.md lists how)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
IN_CI = os.environ.get("CI") == "true"


def _tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is missing: `make test` installs it (system-deps)")
        pytest.skip(f"{name} is not installed (make system-deps installs it)")
    return found


def _serve_args(command: str) -> list[str]:
    """The arguments after `backroom hub serve` in a command line."""
    words = shlex.split(command)
    return words[words.index("serve") + 1:]


def test_the_flet_build_configuration_names_the_app_and_asks_for_the_camera():
    config = tomllib.loads((PACKAGING / "floor-app/pyproject.toml").read_text())
    flet = config["tool"]["flet"]
    assert flet["org"] and flet["product"] == "Backroom Floor" and "camera" in flet["permissions"]
    app = PACKAGING / "floor-app" / flet["app"]["path"]
    assert (app / f"{flet['app']['module']}.py").exists()
    assert flet["android"]["permission"]["android.permission.CAMERA"]
    assert "NSCameraUsageDescription" in flet["ios"]["info"]
    assert flet["web"]["cdn"] is False  # a store's network may have no internet
    names = {re.split(r"[<>=!\[ ]", d)[0].lower() for d in config["project"]["dependencies"]}
    assert "flet" in names and not names & {"fastapi", "psycopg", "sqlalchemy", "uvicorn", "opencv-python-headless"}


def test_the_app_reports_the_version_it_is_built_as():
    from edge_app import APP_VERSION

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    floor_app = tomllib.loads((PACKAGING / "floor-app/pyproject.toml").read_text())["project"]["version"]
    assert APP_VERSION == project == floor_app


def test_the_staged_floor_app_starts_its_ui_with_only_what_a_device_carries(tmp_path):
    sys.path.insert(0, str(PACKAGING / "floor-app"))
    try:
        from stage import stage
    finally:
        sys.path.pop(0)
    src = stage(tmp_path / "src")
    # A device build has neither the hub nor OpenCV/zxing-cpp/pyzbar: importing them must not be needed.
    probe = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'hub', 'cv2', 'zxingcpp', 'pyzbar', 'numpy', 'fastapi', 'sqlalchemy'}:\n"
        "            raise ImportError(f'{name} is not in a device build')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import main, edge_app.ui.app\n"
        "assert edge_app.ui.app.__file__.startswith(sys.argv[1]), edge_app.ui.app.__file__\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(src)], cwd=src, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(src), "PYTHONSAFEPATH": "1"}, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_systemd_unit_verifies_and_its_command_is_one_the_hub_takes(tmp_path):
    unit = (PACKAGING / "hub/backroom-hub.service").read_text()
    command = re.search(r"^ExecStart=(.+)$", unit, re.M).group(1)
    from hub.cli import serve

    serve.make_context("serve", _serve_args(command))  # raises on an option the hub does not have
    local = tmp_path / "backroom-hub.service"
    backroom = shutil.which("backroom") or str(Path(sys.executable).with_name("backroom"))
    local.write_text(unit.replace("/opt/backroom/.venv/bin/backroom", backroom))
    out = subprocess.run([_tool("systemd-analyze"), "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [line for line in out.stderr.splitlines() if "backroom-hub.service" in line]
    assert out.returncode == 0 and not problems, out.stderr


def test_the_container_recipe_copies_files_that_exist_and_runs_a_command_the_hub_takes():
    recipe = (PACKAGING / "hub/Containerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", recipe, re.M):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    command = re.search(r"^CMD (\[.+\])$", recipe, re.M).group(1)
    import json

    from hub.cli import serve

    serve.make_context("serve", _serve_args(" ".join(json.loads(command))))
    assert re.search(r"^EXPOSE 8700$", recipe, re.M) and "--port\", \"8700" in recipe


def test_the_tls_proxy_example_passes_nginx_t(tmp_path):
    nginx = _tool("nginx")
    cert, key = tmp_path / "hub.crt", tmp_path / "hub.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hub.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    site = (PACKAGING / "hub/nginx-backroom.conf").read_text()
    site = site.replace("/etc/ssl/backroom/hub.crt", str(cert)).replace("/etc/ssl/backroom/hub.key", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; include {tmp_path}/site.conf; }}\n")
    out = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
