"""Printers and the local print queue.

``RawTcpPrinter`` sends bytes (ZPL) to a raw TCP port, 9100 by convention.
``PrintQueue`` keeps jobs in a SQLite file, so a label asked for while the
printer is off, out of paper or out of reach is printed when it is back, even
after the app restarts. Failed attempts are retried with exponential backoff;
jobs for one printer go out in the order they were submitted. Delivery is at
least once: a crash between sending and recording "printed" reprints the label,
which is better than losing it. ``PrintSpooler`` runs the queue in a thread.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

from devices.errors import PrintJobNotFound, PrinterError, PrinterUnreachable

__all__ = ["Backoff", "PrintJob", "PrintQueue", "PrintSpooler", "Printer", "RawTcpPrinter"]


class Printer(Protocol):
    """Something that accepts a whole print job or raises ``PrinterUnreachable``."""

    address: str

    def send(self, payload: bytes) -> None:
        """Deliver ``payload``; raise ``PrinterUnreachable`` when it could not."""
        ...


class RawTcpPrinter:
    """A printer listening on a raw TCP port (Zebra and most label printers: 9100)."""

    def __init__(self, host: str, port: int = 9100, *, timeout: float = 5.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.address = f"{host}:{port}"

    @classmethod
    def from_address(cls, address: str) -> "RawTcpPrinter":
        """``"host"`` or ``"host:port"``. Raises ``ValueError`` for a bad port."""
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "9100")
        return cls(host, int(port))

    def send(self, payload: bytes) -> None:
        """Connect, send everything, close our side. Raises ``PrinterUnreachable``."""
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as conn:
                conn.sendall(payload)
                conn.shutdown(socket.SHUT_WR)
                self._drain(conn)
        except OSError as exc:
            raise PrinterUnreachable(f"printer {self.address} did not take the job: {exc}") from exc

    @staticmethod
    def _drain(conn: socket.socket) -> None:
        # Printers may answer (status) or just close; either way the data was read.
        conn.settimeout(0.5)
        try:
            while conn.recv(1024):
                pass
        except socket.timeout:
            pass


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait after the n-th failed attempt: base * factor**(n-1), at most ``maximum``."""

    base: float = 2.0
    factor: float = 2.0
    maximum: float = 300.0

    def delay(self, attempts: int) -> float:
        """Delay after ``attempts`` failures (attempts >= 1)."""
        return min(self.maximum, self.base * self.factor ** max(attempts - 1, 0))


@dataclass(frozen=True)
class PrintJob:
    """One job as stored: status is ``queued``, ``printed`` or ``cancelled``."""

    id: int
    printer: str
    payload: bytes
    description: str
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float
    last_error: str
    printed_at: float | None


_MIGRATIONS = (
    (
        "0001_print_jobs",
        """CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            printer TEXT NOT NULL,
            payload BLOB NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'printed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            printed_at REAL
        );
        CREATE INDEX print_jobs_due ON print_jobs (status, next_attempt_at, id);""",
    ),
)
_COLUMNS = "id, printer, payload, description, status, attempts, created_at, next_attempt_at, last_error, printed_at"


class PrintQueue:
    """A durable queue of print jobs in a SQLite file; safe to use from several threads."""

    def __init__(
        self,
        path: str | Path,
        *,
        connect: Callable[[str], Printer] = RawTcpPrinter.from_address,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._connect, self.clock = connect, clock
        self.backoff = backoff or Backoff()
        self._lock = threading.Lock()
        self._migrate()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def _migrate(self) -> None:
        """Apply named migrations, each recorded in ``_migrations`` in the same transaction."""
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")  # two processes opening the queue at once take turns
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
            for name, sql in _MIGRATIONS:
                if name not in done:
                    for statement in filter(str.strip, sql.split(";")):
                        conn.execute(statement)
                    conn.execute("INSERT INTO _migrations VALUES (?, ?)", (name, self.clock()))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def submit(self, printer: str, payload: bytes | str, *, description: str = "") -> int:
        """Queue a job for ``printer`` (an address like ``"10.0.0.7:9100"``); returns its id."""
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        now = self.clock()
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO print_jobs (printer, payload, description, created_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (printer, data, description, now, now),
            )
            if cursor.lastrowid is None:
                raise PrinterError("the print queue did not record the job")
            return cursor.lastrowid

    def job(self, job_id: int) -> PrintJob:
        """The job with this id. Raises ``PrintJobNotFound``."""
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM print_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise PrintJobNotFound(f"no print job {job_id}")
        return PrintJob(*row)

    def pending(self) -> list[PrintJob]:
        """Jobs not yet printed, oldest first."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM print_jobs WHERE status = 'queued' ORDER BY id").fetchall()
        return [PrintJob(*row) for row in rows]

    def cancel(self, job_id: int) -> None:
        """Stop trying to print a queued job. Raises ``PrintJobNotFound``."""
        with self._db() as db:
            cursor = db.execute(
                "UPDATE print_jobs SET status = 'cancelled' WHERE id = ? AND status = 'queued'", (job_id,)
            )
        if cursor.rowcount == 0:
            self.job(job_id)  # raises when it does not exist; a printed job stays printed

    def next_attempt_at(self) -> float | None:
        """When the earliest queued job is due, or None when nothing is queued."""
        with self._db() as db:
            row = db.execute("SELECT MIN(next_attempt_at) FROM print_jobs WHERE status = 'queued'").fetchone()
        return None if row[0] is None else float(row[0])

    def deliver_due(self) -> list[PrintJob]:
        """Try every job that is due, in order; returns the jobs as they are afterwards.

        After a failure, later jobs for the same printer wait (labels come out
        in order) and the failed job is retried after the backoff delay.
        """
        with self._lock:
            now = self.clock()
            blocked: set[str] = set()
            results = []
            for job in self._due(now):
                if job.printer in blocked:
                    continue
                if not self._attempt(job):
                    blocked.add(job.printer)
                results.append(self.job(job.id))
            return results

    def _due(self, now: float) -> list[PrintJob]:
        with self._db() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM print_jobs WHERE status = 'queued' ORDER BY id",
            ).fetchall()
        jobs = [PrintJob(*row) for row in rows]
        # A printer's oldest job decides: while it waits for its retry, newer ones wait too.
        oldest: dict[str, PrintJob] = {}
        for job in jobs:
            oldest.setdefault(job.printer, job)
        return [j for j in jobs if oldest[j.printer].next_attempt_at <= now and j.next_attempt_at <= now]

    def _attempt(self, job: PrintJob) -> bool:
        try:
            self._connect(job.printer).send(job.payload)
        except (PrinterUnreachable, ValueError) as exc:
            self._record_failure(job, str(exc))
            return False
        with self._db() as db:
            db.execute(
                "UPDATE print_jobs SET status = 'printed', attempts = attempts + 1, printed_at = ?, last_error = ''"
                " WHERE id = ?",
                (self.clock(), job.id),
            )
        return True

    def _record_failure(self, job: PrintJob, error: str) -> None:
        attempts = job.attempts + 1
        retry_at = self.clock() + self.backoff.delay(attempts)
        with self._db() as db:
            db.execute(
                "UPDATE print_jobs SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                (attempts, retry_at, error, job.id),
            )


class PrintSpooler:
    """Runs ``PrintQueue.deliver_due`` in a background thread until stopped."""

    def __init__(self, queue: PrintQueue, *, idle_poll: float = 1.0) -> None:
        self.queue, self.idle_poll = queue, idle_poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (no-op when running)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="print-spooler", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Try now, e.g. right after submitting a job."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.queue.deliver_due()
            self._wake.wait(self._sleep_time())
            self._wake.clear()

    def _sleep_time(self) -> float:
        due = self.queue.next_attempt_at()
        if due is None:
            return self.idle_poll
        return max(0.0, min(self.idle_poll, due - self.queue.clock()))
