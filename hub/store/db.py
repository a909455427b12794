"""The hub's database: one engine for SQLite (default) or PostgreSQL, and write
transactions that keep the change feed in commit order on both."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator

import psycopg
from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine

from hub.errors import StorageFull
from hub.store.checkpoint import SAFETY_NET_PAGES, Checkpointer
from hub.store.group_commit import GroupCommit
from hub.store.tx import Tx

__all__ = ["Database", "normalise_url", "is_storage_full", "STORAGE_FULL"]

WRITER_CACHE_KIB = 64 * 1024  # the SQLite write connection's page cache

# Any constant works; it only has to be the same in every hub process.
_FEED_LOCK_KEY = 0x6261636B726F6F6D


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as psycopg 3 URLs; leave others alone."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Plan every statement for the tables as they are now. psycopg prepares a statement
# it has run 5 times, and PostgreSQL then keeps a generic plan for it as long as the
# connection lives (until an ANALYZE): chosen while op_log (or orders, on a new hub)
# was empty, that plan is a sequential scan, and every look-up of the growing table
# read all of it. A fresh plan per statement costs little; parsing is still saved.
def _pg_engine(url: str, **pool) -> Engine:
    engine = create_engine(url, **pool)
    event.listen(engine, "connect", _pg_on_connect)
    return engine


def _pg_on_connect(dbapi_conn, _record) -> None:
    # Outside a transaction, so that SQLAlchemy's rollback on check-in keeps it.
    dbapi_conn.autocommit = True
    dbapi_conn.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_conn.autocommit = False


class Database:
    """Connections to the hub database. `write()` is the only way to change it."""

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.engine = self._create_engine()
        self._write_engine = self._create_write_engine()
        # SQLite has one writer at a time anyway; queueing writers in-process
        # avoids busy-timeouts between our own threads.
        self._write_lock = threading.Lock()
        self.group_commit = GroupCommit(self.write)
        path = _sqlite_file(self.url)
        self._lock_path = path + "-writers.lock" if path else None
        self._lock_fd: int | None = None
        self._checkpointer = Checkpointer(path, self.writing) if path else None

    def _create_engine(self) -> Engine:
        if not self.is_sqlite:
            return _pg_engine(self.url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        # A pool of open connections: opening one per request (and running the
        # pragmas, and closing it again) was a large share of a push's time.
        engine = create_engine(self.url, pool_size=8, max_overflow=16) if ":memory:" not in self.url else create_engine(self.url)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine

    def _create_write_engine(self) -> Engine:
        """Every write on one connection of its own: writes take turns anyway (SQLite's
        single writer, PostgreSQL's feed lock). On SQLite its page cache (64 MB) stays
        warm with what the writes touch; readers taking turns on it left the writer
        reading the same index pages back from the OS group after group. On
        PostgreSQL its prepared statements and column types stay with it."""
        if not self.is_sqlite:
            # No ping before each group (a round trip of ~1 ms under load): a connection
            # found dead fails its group, the pool drops it, and the pieces run again.
            return _pg_engine(self.url, pool_size=1, max_overflow=0)
        if _sqlite_file(self.url) is None:
            return self.engine  # an in-memory database lives in its one connection
        engine = create_engine(self.url, pool_size=1, max_overflow=0)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "connect", _sqlite_writer_cache)
        event.listen(engine, "begin", _sqlite_begin)
        return engine

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A transaction that commits on success and rolls back on any error.
        What the transaction staged (the change feed) is written just before the commit.

        On PostgreSQL it takes a transaction-scoped advisory lock first, so change
        feed rows become visible in the order of their sequence numbers.
        Raises StorageFull when the disk is full (the transaction rolled back whole).
        """
        try:
            with self._committed() as tx:
                yield tx
        except Exception as exc:
            if is_storage_full(exc):
                raise StorageFull(STORAGE_FULL) from exc
            raise

    @contextmanager
    def _committed(self) -> Iterator[Tx]:
        with self._writing() as conn:
            tx = Tx(conn)
            try:
                if not self.is_sqlite:
                    tx.execute("SELECT pg_advisory_xact_lock(:k)", {"k": _FEED_LOCK_KEY})
                yield tx
                tx.flush()
            finally:
                tx.close()
        if self._checkpointer is not None:
            self._checkpointer.committed()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        if not self.is_sqlite:
            with self._write_engine.begin() as conn:
                yield conn
            return
        with self.writing(), self._write_engine.begin() as conn:
            yield conn

    @contextmanager
    def _between_processes(self) -> Iterator[None]:
        """SQLite: writers of other processes (the writer process, HTTP workers, the
        CLI) wait on an flock beside the database, woken the moment it is free;
        SQLite's own busy wait sleeps 1, 2, 5, 10… ms between tries."""
        if self._lock_path is None:
            yield
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction: on SQLite a deferred BEGIN, so readers never
        queue behind a writer (WAL readers see the last committed state)."""
        with self.engine.connect() as conn:
            conn.info["reading"] = True
            try:
                with conn.begin():
                    tx = Tx(conn)
                    try:
                        yield tx
                    finally:
                        tx.close()
            finally:
                conn.info.pop("reading", None)

    def dispose(self) -> None:
        """Finish queued writes, stop the writer and close every connection."""
        self.group_commit.close()
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.engine.dispose()
        self._write_engine.dispose()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold off every other writer, in this process and in others (SQLite)."""
        with self._write_lock, self._between_processes():
            yield


STORAGE_FULL = ("the hub's database disk is full: nothing of this was written; "
                "it is kept where it came from and sent again once space is freed")


def is_storage_full(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is the database saying its disk is full: SQLite's
    SQLITE_FULL, PostgreSQL's disk_full (SQLSTATE 53100)."""
    seen: BaseException | None = exc
    for _link in range(20):  # a chain of causes is short; never follow one forever
        if seen is None:
            return False
        cause = getattr(seen, "orig", None)  # SQLAlchemy's wrapper around the driver's error
        for error in (seen, cause):
            if isinstance(error, sqlite3.OperationalError) and getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                return True
            if isinstance(error, psycopg.errors.DiskFull):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def _sqlite_file(url: str) -> str | None:
    """The database file of a sqlite:/// URL; None for PostgreSQL and in-memory databases."""
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return None
    return url[len("sqlite:///"):].split("?", 1)[0] or None


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front (no lock upgrade deadlocks); readers don't take it at all.
    conn.exec_driver_sql("BEGIN" if conn.info.get("reading") else "BEGIN IMMEDIATE")


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a device forgets an op once the hub answers `applied`, so every commit
    # must survive a power cut, not just a crash (WAL + NORMAL may lose the last ones,
    # and the device would then be stuck behind a sequence gap).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    # Checkpoints run in hub.checkpoint's thread, not inside a commit.
    cur.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    cur.close()


def _sqlite_writer_cache(dbapi_conn, _record) -> None:
    # A group commit touches a few thousand pages of indexes; SQLite's default
    # 2 MB cache made it read them back from the OS again and again.
    dbapi_conn.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
