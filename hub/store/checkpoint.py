"""Copying SQLite's write-ahead log back into the database file, off the writer's path.

Left to itself SQLite checkpoints inside the commit that takes the log past 1,000
pages: that commit then also writes those pages into the database file and
fsyncs it, which made a group commit 3× slower every few groups. The hub's
connections turn that off (`wal_autocheckpoint` very high, a safety net only) and
this thread checkpoints a few times a second instead, in PASSIVE mode: it never
waits for, nor holds up, readers and the writer.

A log that is always being written to is never started over, though: a PASSIVE
checkpoint racing the writer is always a few frames behind. It grew past 200 MB
in a minute of pushes, and every page read searches the log's index, block by
block. So once the log passes RESTART_FRAMES, the thread catches up while holding
the hub's write lock, and the next write transaction starts the log from its
beginning. Passes without the lock first, until one finds only a few new frames,
keep the pass under the lock short (docs/benchmarks.md has the times)."""

from __future__ import annotations

import sqlite3
import threading
from typing import Callable, ContextManager

__all__ = ["Checkpointer", "SAFETY_NET_PAGES"]

# Only if the thread falls far behind does a commit checkpoint again (~200 MB of log).
SAFETY_NET_PAGES = 50_000
INTERVAL_S = 0.25
RESTART_FRAMES = 8_000  # ~32 MB of log
CATCH_UP_PASSES = 4
CAUGHT_UP_FRAMES = 200


class Checkpointer:
    """A daemon thread with its own connection; started on the first commit."""

    def __init__(self, path: str, writing: Callable[[], ContextManager]):
        self._path = path
        self._writing = writing
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def committed(self) -> None:
        """Note a commit: the log has pages to copy back."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(target=self._run, name="hub-checkpoint", daemon=True)
                    self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Checkpoint what is left and stop."""
        with self._lock:
            self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            while True:
                self._wake.wait()
                self._wake.clear()
                _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames > RESTART_FRAMES:
                    _catch_up(conn, frames)
                    with self._writing():
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                # A pause, so the commits meanwhile are copied back together; cut short by close().
                if self._stopping.wait(INTERVAL_S):
                    break
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()


def _catch_up(conn: sqlite3.Connection, frames: int) -> None:
    """Passes without the lock until the last copied few frames: each copies what was
    written during the one before, so the pass under the lock copies (and fsyncs)
    only the last few milliseconds' frames."""
    for _ in range(CATCH_UP_PASSES):
        _busy, now, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if now - frames <= CAUGHT_UP_FRAMES:
            return
        frames = now
