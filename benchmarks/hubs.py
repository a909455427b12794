"""Hub databases and hub processes for the benchmarks: a loaded base database per
backend, cheap fresh copies of it (file copy, or CREATE DATABASE … TEMPLATE), and
`backroom hub serve` as a real uvicorn process on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from hub.store.db import Database

__all__ = ["PG_ADMIN_URL", "pg_available", "pg_checkpoint", "pg_version", "Backend", "HubServer", "free_port"]

PG_ADMIN_URL = os.environ.get("BACKROOM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def pg_version() -> str:
    with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def pg_checkpoint() -> None:
    """Have PostgreSQL write every dirty page out now."""
    _pg_admin("CHECKPOINT")


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


class Backend:
    """A base database (migrated, to be loaded by the caller) and copies of it."""

    def __init__(self, kind: str, work: Path):
        self.kind = kind
        self.work = work
        self._made: list[str] = []
        self.base_url = self._new_url("base")

    def _new_url(self, label: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.work / f'hub-{label}.db'}"
        name = f"backroom_bench_{label}_{uuid.uuid4().hex[:8]}"
        _pg_admin(f"CREATE DATABASE {name}")
        self._made.append(name)
        return _pg_url(name)

    def open_base(self) -> Database:
        from hub.store.migrations import migrate

        db = Database(self.base_url)
        migrate(db)
        return db

    def copy(self, label: str) -> str:
        """A fresh database holding what the base holds now (close the base first)."""
        if self.kind == "sqlite":
            src = Path(self.base_url[len("sqlite:///"):])
            dst = self.work / f"hub-{label}.db"
            for suffix in ("", "-wal", "-shm"):
                if Path(str(src) + suffix).exists():
                    shutil.copyfile(str(src) + suffix, str(dst) + suffix)
                else:  # a used label's old WAL would be replayed onto the fresh copy: a malformed database
                    Path(str(dst) + suffix).unlink(missing_ok=True)
            os.sync()  # the copy's dirty pages go out now, not in the middle of the run
            return f"sqlite:///{dst}"
        name = f"backroom_bench_{label}_{uuid.uuid4().hex[:8]}"
        base = self.base_url.rpartition("/")[2]
        _pg_admin(f"CREATE DATABASE {name} TEMPLATE {base}")
        self._made.append(name)
        # PostgreSQL 15 copies a template through its WAL: without a checkpoint now,
        # the WAL-triggered checkpoints that write the copy back fall inside the runs
        # (three did in one make bench, the 2-worker busy-floor run's p99 was 2.1 s).
        pg_checkpoint()
        os.sync()
        return _pg_url(name)

    def empty(self, label: str) -> str:
        return self._new_url(label)

    def drop_all(self) -> None:
        for name in reversed(self._made):
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._made.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _backroom() -> str:
    beside = Path(sys.executable).with_name("backroom")
    return str(beside) if beside.exists() else (shutil.which("backroom") or "backroom")


class HubServer:
    """`backroom hub serve` on 127.0.0.1; a context manager that stops it (by pid)."""

    def __init__(self, db_url: str, log_dir: Path, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(log_dir / f"hub-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            [_backroom(), "hub", "serve", "--db", db_url, "--port", str(self.port), "--workers", str(workers)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def __enter__(self) -> "HubServer":
        deadline = time.monotonic() + 180  # a hub with a writer process and 2 workers starts slowly on a busy machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}; see {self._log.name}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("hub did not come up in 180 s")

    def log_tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-chars:]

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=20)
        self._log.close()
