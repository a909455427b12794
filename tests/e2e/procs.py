"""Real Backroom processes for end-to-end tests: the hub under uvicorn and the
`backroom edge …` commands, each started as a subprocess in its own session so a
test can pause, resume or SIGKILL it by id. Output goes to files (never pipes), so
a chatty process cannot block on a full pipe.

    procs = Processes(tmp_path / "logs")       # kill_all() in a finalizer
    hub = HubProcess(procs, "sqlite:///…/hub.db", free_port())
    hub.seed_demo(); hub.start()
    edge = EdgeDevice(procs, tmp_path / "device")
    edge.enroll(hub.url, hub.enrollment_code("DEMO-1"))
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import httpx

__all__ = [
    "BACKROOM",
    "Proc",
    "Processes",
    "HubProcess",
    "EdgeDevice",
    "free_port",
    "run_backroom",
    "wait_until",
    "wait_for_http",
]

T = TypeVar("T")


def _backroom_script() -> str:
    # The console script next to the interpreter running the tests (.venv/bin/backroom).
    beside = Path(sys.executable).with_name("backroom")
    return str(beside) if beside.exists() else (shutil.which("backroom") or "backroom")


BACKROOM = _backroom_script()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_backroom(*args: str, timeout: float = 60.0) -> str:
    """Run `backroom ARGS…` to completion; returns stdout, raises with stderr on failure."""
    done = subprocess.run([BACKROOM, *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"backroom {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1].strip()


def wait_until(check: Callable[[], T], timeout: float, what: str, interval: float = 0.02) -> T:
    """Call `check` until it returns something truthy; AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Proc:
    """One started process, its session id equal to its pid."""

    def __init__(self, name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.stdout_path = log_dir / f"{name}.out"
        self.stderr_path = log_dir / f"{name}.err"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                          start_new_session=True, env=env)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Send `sig` to the process group this process leads (it and anything it started)."""
        if self.alive():
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass

    def pause(self, timeout: float = 10.0) -> None:
        """SIGSTOP, and wait until every thread has stopped (Linux /proc).

        A thread inside a system call (say an fsync) stops only when the call
        returns, so "signal sent" is not yet "frozen"."""
        self.signal(signal.SIGSTOP)
        wait_until(lambda: not self.alive() or self._all_threads_stopped(), timeout, f"{self.name} to stop", interval=0.001)

    def _all_threads_stopped(self) -> bool:
        states = []
        for stat in Path(f"/proc/{self.pid}/task").glob("*/stat"):
            try:
                # The state follows the parenthesised command name, which may hold spaces.
                states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
            except (OSError, IndexError):
                continue  # the thread just ended
        return bool(states) and all(state in ("T", "t") for state in states)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, then reap, so the pid cannot be reused under us."""
        self.signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running after {timeout:.0f} s:\n{self.output()}") from None

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def output(self) -> str:
        return f"--- {self.name} stdout ---\n{self.stdout()}--- {self.name} stderr ---\n{self.stderr_path.read_text(errors='replace')}"


class Processes:
    """Every process a test starts, so a finalizer can SIGKILL those still running."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started: list[Proc] = []

    def start(self, name: str, *args: str) -> Proc:
        """Start `backroom ARGS…`; `name` (made unique) names its log files."""
        taken = sum(1 for p in self.started if p.name.split("#")[0] == name)
        proc = Proc(f"{name}#{taken + 1}", [BACKROOM, *args], self.log_dir, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            proc.resume()  # a stopped process still dies of SIGKILL; resume anyway so nothing lingers
            proc.kill()


def wait_for_http(url: str, proc: Proc, timeout: float = 30.0) -> None:
    """Poll `url` until it answers 200; fails early, with the logs, if `proc` exits."""

    def up() -> bool:
        if not proc.alive():
            raise AssertionError(f"{proc.name} exited {proc.popen.returncode} before {url} answered:\n{proc.output()}")
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout, f"{url} to answer", interval=0.05)


class HubProcess:
    """`backroom hub serve` on one database file and one port; restartable on both."""

    def __init__(self, procs: Processes, db_url: str, port: int):
        self.procs = procs
        self.db_url = db_url
        self.port = port
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seed_demo(self) -> None:
        run_backroom("hub", "seed", "--demo", "--db", self.db_url)

    def admin_token(self) -> str:
        return _last_line(run_backroom("hub", "token", "--db", self.db_url, "--role", "admin"))

    def enrollment_code(self, location: str, role: str = "picker") -> str:
        return _last_line(run_backroom("hub", "enroll", "--db", self.db_url, "--location", location, "--role", role))

    def start(self, timeout: float = 30.0, wait: bool = True) -> None:
        """Start serving and (unless not to `wait`) wait until /healthz answers."""
        assert self.proc is None or not self.proc.alive(), "hub is already running"
        self.proc = self.procs.start("hub", "hub", "serve", "--db", self.db_url, "--port", str(self.port))
        if wait:
            wait_for_http(f"{self.url}/healthz", self.proc, timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what was committed must survive."""
        assert self.proc is not None
        self.proc.kill()


class EdgeDevice:
    """One device's data folder, driven through `backroom edge …`."""

    def __init__(self, procs: Processes, data_dir: Path):
        self.procs = procs
        self.data_dir = Path(data_dir)

    def enroll(self, hub_url: str, code: str) -> None:
        run_backroom("edge", "enroll", "--hub", hub_url, "--code", code, "--data-dir", str(self.data_dir), "--name", "e2e")

    def start_sync(self, batch_size: int = 200) -> Proc:
        """Start one sync round in the background; see `report()` for its result."""
        return self.procs.start("edge-sync", "edge", "sync", "--data-dir", str(self.data_dir), "--json",
                                "--batch-size", str(batch_size))

    def sync(self, batch_size: int = 200, timeout: float = 60.0) -> dict[str, Any]:
        """Run one sync round to the end; returns its JSON report (raises if it failed)."""
        run = self.start_sync(batch_size)
        code = run.wait(timeout)
        report = self.report(run)
        assert code == 0 and "error" not in report, f"edge sync exited {code}:\n{run.output()}"
        return report

    @staticmethod
    def report(run: Proc) -> dict[str, Any]:
        """The one JSON object a finished `edge sync --json` printed."""
        try:
            return json.loads(_last_line(run.stdout()))
        except (ValueError, IndexError):
            raise AssertionError(f"{run.name} printed no JSON report:\n{run.output()}") from None

    def status(self) -> dict[str, Any]:
        return json.loads(_last_line(run_backroom("edge", "status", "--data-dir", str(self.data_dir), "--json")))

    def answered_through(self) -> int:
        """The highest device_seq the device has recorded a hub answer for.

        Reads replica.db directly and only reads, so it is safe while an edge
        process is running or stopped mid-transaction (WAL readers take no lock
        the writer holds). Don't open a `Replica` then: it migrates, which writes."""
        conn = sqlite3.connect(self.data_dir / "replica.db", timeout=10)
        try:
            row = conn.execute("SELECT COALESCE(MAX(device_seq), 0) FROM outbox WHERE state != 'pending'").fetchone()
        finally:
            conn.close()
        return row[0]
