"""The device's SQLite replica: hub state for this device's location, the outbox,
and the overlay of pending effects. WAL mode, synchronous=FULL: a committed
action survives a crash or a dead battery.

The replica holds the device token: its folder is 0700 and its files 0600 (SQLite
gives the WAL and shared-memory files the database file's mode), so other
accounts on the device cannot read them."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, overload

import sqlite_utils

from edge_app.errors import NotEnrolled, StorageFull
from edge_app.local.migrations import MIGRATIONS

__all__ = ["Replica", "DB_FILE", "FOLDER_MODE", "FILE_MODE", "STORAGE_FULL"]

DB_FILE = "replica.db"
FOLDER_MODE = 0o700
FILE_MODE = 0o600
STORAGE_FULL = ("This handheld's storage is full, so that was not saved. Everything saved before is safe. "
                "Tell your supervisor; once space is freed, do it again.")


class Replica:
    """One device's database. Use `transaction()` for every write."""

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        self.path = self.data_dir / DB_FILE
        _keep_private(self.data_dir, self.path)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000", "foreign_keys=ON"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.db = sqlite_utils.Database(self.conn)
        # The UI thread and the sync thread share this connection; one at a time.
        self._lock = threading.RLock()
        self._depth = 0
        self._migrate()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
                    self.conn.execute("ROLLBACK")
                if _is_full(exc):
                    raise StorageFull(STORAGE_FULL) from exc
                raise
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        with self._lock:
            return self.conn.execute(sql, params).fetchone()

    def query_row(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row:
        """The one row a statement always returns (an aggregate); LookupError if none."""
        row = self.query_one(sql, params)
        if row is None:
            raise LookupError(f"no row for {sql[:60]!r}")
        return row

    # -- meta: identity, cursor, clock ---------------------------------------------
    @overload
    def get_meta(self, key: str) -> str | None: ...

    @overload
    def get_meta(self, key: str, default: str) -> str: ...

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, str(value)),
            )

    def identity(self) -> dict[str, str]:
        """device_id, token, hub_url, location, role; raises NotEnrolled."""
        keys = ("device_id", "token", "hub_url", "location", "role")
        values = {k: self.get_meta(k) for k in keys}
        if not values["device_id"]:
            raise NotEnrolled(f"{self.data_dir} holds no enrolled device; run `backroom edge enroll` first")
        return {k: v or "" for k, v in values.items()}

    @property
    def cursor(self) -> int:
        return int(self.get_meta("cursor", "0"))

    def _migrate(self) -> None:
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in conn.execute("SELECT number FROM _migrations")}
            for number, name, sql in MIGRATIONS:
                if number in done:
                    continue
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO _migrations (number, name, applied_at) VALUES (?, ?, ?)",
                    (number, name, datetime.now(timezone.utc).isoformat()),
                )


def _is_full(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _keep_private(folder: Path, path: Path) -> None:
    """The folder 0700 and the database files 0600, created so before SQLite opens them."""
    os.chmod(folder, FOLDER_MODE)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.exists():
            os.chmod(name, FILE_MODE)


def _statements(sql: str) -> list[str]:
    # executescript() would commit our transaction; split instead (no ';' inside our DDL strings).
    return [s for s in sql.split(";") if s.strip()]
