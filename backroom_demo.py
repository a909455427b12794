"""`backroom demo`: a hub with the demo store, one enrolled handheld, and the
floor app in the browser, all started from one command and stopped by Ctrl-C.

This is wiring only: each part runs as its own process through the same CLI a
store would use, so the demo exercises the real thing."""

from __future__ import annotations

import os
import select
import shutil
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


def run_demo(state_dir: str, host: str, hub_port: int, app_port: int, reset: bool = False) -> None:
    """Run the demo until Ctrl-C (or `q`). The hub may stop and start again meanwhile:
    the floor app keeps working offline, which is the point of it."""
    state = Path(state_dir).resolve()
    if reset and state.exists():
        shutil.rmtree(state)
        print(f"demo data reset: {state} removed")
    state.mkdir(parents=True, exist_ok=True)
    demo = _Demo(state, host, hub_port, app_port)
    try:
        demo.start()
        demo.watch()
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        demo.stop()


class _Demo:
    """The demo's processes: a hub that may come and go, and the floor app that stays."""

    def __init__(self, state: Path, host: str, hub_port: int, app_port: int):
        self.state, self.host, self.hub_port, self.app_port = state, host, hub_port, app_port
        self.db = f"sqlite:///{state / 'hub.db'}"
        self.hub_url = f"http://{host}:{hub_port}"
        self.hub: subprocess.Popen | None = None
        self.app: subprocess.Popen | None = None

    def start(self) -> None:
        print(_backroom("hub", "seed", "--demo", "--db", self.db))
        admin_token = _backroom("hub", "token", "--db", self.db, "--role", "admin", "--name", "demo").splitlines()[-1]
        _ensure_console_admin(self.db)
        self.start_hub()
        _ensure_device(self.db, self.hub_url, self.state / "device-handheld-1")
        self.app = _start("edge", "serve", "--data-dir", str(self.state / "device-handheld-1"), "--host", self.host,
                          "--port", str(self.app_port), "--sync-interval", "3", log=self.state / "app.log")
        _wait_for(f"http://{self.host}:{self.app_port}/", self.app, "the floor app", timeout=120)
        _print_banner(self.host, self.hub_url, self.app_port, admin_token, self.state)

    def start_hub(self) -> None:
        self.hub = _start("hub", "serve", "--db", self.db, "--host", self.host, "--port", str(self.hub_port),
                          "--log-level", "info", log=self.state / "hub.log")
        _wait_for(f"{self.hub_url}/healthz", self.hub, "the hub")

    def stop_hub(self) -> None:
        if self.hub is not None:
            _stop([self.hub])
            self.hub = None

    def watch(self) -> None:
        """Follow the processes and the keyboard: `h` stops or starts the hub, `q` quits."""
        interactive = sys.stdin.isatty()
        while True:
            if self.app is not None and self.app.poll() is not None:
                print(f"the floor app stopped (status {self.app.returncode}); its log: {self.state / 'app.log'}")
                return
            if self.hub is not None and self.hub.poll() is not None:
                print(f"the hub stopped (status {self.hub.returncode}); the floor app keeps working offline. "
                      f"Its log: {self.state / 'hub.log'}. Press h then Enter to start it again.")
                self.hub = None
            command = _read_command(0.5) if interactive else (time.sleep(0.5) or "")
            if command == "q":
                return
            if command == "h":
                self._toggle_hub()

    def _toggle_hub(self) -> None:
        if self.hub is None:
            self.start_hub()
            print("hub started: the floor app sends what it did offline within a few seconds.")
        else:
            self.stop_hub()
            print("hub stopped: keep picking in the floor app; its bar says Offline and counts what waits.")

    def stop(self) -> None:
        _stop([p for p in (self.app, self.hub) if p is not None])


def _read_command(timeout: float) -> str:
    ready, _w, _x = select.select([sys.stdin], [], [], timeout)
    return sys.stdin.readline().strip().lower() if ready else ""


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


DEMO_ADMIN = ("admin", "backroom-demo")  # the console's demo network admin: login, password


def _ensure_console_admin(db: str) -> None:
    """A network admin for the console, once (a second run finds it there)."""
    login, password = DEMO_ADMIN
    subprocess.run([sys.executable, "-m", "backroom_cli", "hub", "admin", "add", "--db", db, "--login", login,
                    "--name", "Demo Admin", "--role", "network_admin"], env={**os.environ, "BACKROOM_ADMIN_PASSWORD": password},
                   check=False, capture_output=True)


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
                f"  admin console:                        {hub_url}/console/  (login {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]})",
                f"  hub API docs (OpenAPI):               {hub_url}/docs",
                f"  hub orders:  curl -H 'Authorization: Bearer {admin_token}' {hub_url}/v1/orders",
                "sign in on the floor app (scan BADGE:<id> or type id + PIN):",
                *(f"  {op_id:3} / {pin}  {role:10} {name}" for op_id, name, role, pin in _demo_operators()),
                f"logs: {state / 'hub.log'} (one line per request) and {state / 'app.log'}",
                f"data: {state}  (start afresh: backroom demo --reset)",
                "type h + Enter to stop or start the hub (the floor app works on offline), q + Enter or Ctrl-C to quit.",
                "",
            ]
        ),
        flush=True,
    )
