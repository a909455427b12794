"""`backroom demo`: a hub with the demo store, one enrolled handheld, and the
floor app in the browser, all started from one command and stopped by Ctrl-C.

This is wiring only: each part runs as its own process through the same CLI a
store would use, so the demo exercises the real thing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["run_demo"]


def _backroom(*args: str, capture: bool = True) -> str:
    out = subprocess.run([sys.executable, "-m", "backroom_cli", *args], check=True, text=True,
                         stdout=subprocess.PIPE if capture else None)
    return (out.stdout or "").strip()


def _start(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backroom_cli", *args],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(url: str, proc: subprocess.Popen, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with status {proc.returncode}; see its log in .backroom/")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f} s")


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def run_demo(state_dir: str, host: str, hub_port: int, app_port: int) -> None:
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{state / 'hub.db'}"
    device_dir = state / "device-handheld-1"
    print(_backroom("hub", "seed", "--demo", "--db", db))
    admin_token = _backroom("hub", "token", "--db", db, "--role", "admin", "--name", "demo").splitlines()[-1]
    procs: list[subprocess.Popen] = []
    try:
        hub = _start("hub", "serve", "--db", db, "--host", host, "--port", str(hub_port), log=state / "hub.log")
        procs.append(hub)
        hub_url = f"http://{host}:{hub_port}"
        _wait_for(f"{hub_url}/healthz", hub, "the hub")
        _ensure_device(db, hub_url, device_dir)
        app = _start("edge", "serve", "--data-dir", str(device_dir), "--host", host, "--port", str(app_port),
                     "--sync-interval", "3", log=state / "app.log")
        procs.append(app)
        _wait_for(f"http://{host}:{app_port}/", app, "the floor app", timeout=120)
        _print_banner(host, hub_url, app_port, admin_token, state)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a process stopped; see the logs in", state)
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        _stop(procs)


def _ensure_device(db: str, hub_url: str, device_dir: Path) -> None:
    """Enroll the demo handheld once; on later runs point it at this run's hub."""
    from edge_app.local.replica import Replica

    replica = Replica(device_dir)
    try:
        if replica.get_meta("device_id"):
            replica.set_meta("hub_url", hub_url)
            return
    finally:
        replica.close()
    # A shared handheld every demo operator signs in on: enrolled with the role whose ceiling is
    # every floor job (sync.authority); the signed-in operator's role decides the rest.
    code = _backroom("hub", "enroll", "--db", db, "--location", "DEMO-1", "--role", "supervisor").splitlines()[-1]
    # The demo's hub serves plain http on this machine (a real one serves https: see README, TLS).
    print(_backroom("edge", "enroll", "--hub", hub_url, "--code", code, "--data-dir", str(device_dir), "--name", "handheld-1",
                    "--insecure"))


def _demo_operators() -> list[tuple[str, str, str, str]]:
    from hub.seed import DEMO_OPERATORS

    return DEMO_OPERATORS


def _print_banner(host: str, hub_url: str, app_port: int, admin_token: str, state: Path) -> None:
    print(
        "\n".join(
            [
                "",
                "Backroom demo is running. Open:",
                f"  floor app (handheld 1, store DEMO-1):  http://{host}:{app_port}",
                f"  hub API docs (OpenAPI):               {hub_url}/docs",
                f"  hub orders:  curl -H 'Authorization: Bearer {admin_token}' {hub_url}/v1/orders",
                "sign in on the floor app (scan BADGE:<id> or type id + PIN):",
                *(f"  {op_id:3} / {pin}  {role:10} {name}" for op_id, name, role, pin in _demo_operators()),
                f"logs and data: {state}",
                "Ctrl-C stops everything.",
                "",
            ]
        ),
        flush=True,
    )
