"""Group commit: pushes share write transactions, so one commit (one fsync, one
turn of the feed lock) answers many of them.

One writer thread per database takes everything queued, runs each piece of work
in one write transaction and commits, then answers them all (in the writer
process on SQLite, the event loop's own thread does, between its turns:
`write_on_loop`). Work whose class has a `prepare_group(tx, works)` gets to load
what the whole group needs in bulk first; what the pieces staged (held orders,
the change feed, the op log) is written once for the whole group, in a handful
of statements. While a writer thread waits on the disk or on PostgreSQL, the
event loop goes on reading and checking the next requests.

If any piece raises, or the commit fails, the whole transaction rolls back and
each piece runs again in a transaction of its own: the good ones stand, and the
failing one's caller gets its exception. Nobody is answered before the commit
that holds their work, so an answered push is as durable as with a transaction
of its own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, ContextManager, TypeVar

from hub.store.tx import Tx

__all__ = ["GroupCommit", "WriterClosed"]

T = TypeVar("T")

# Pieces per transaction: enough to amortise the commit and the statements of a
# group over a busy moment, few enough that the first of them is not kept waiting long.
MAX_PIECES = 128
# While pushes keep coming (the last group had company), the writer waits up to
# GATHER_S for GATHER_PIECES before it starts: pushes handed over one by one by
# the HTTP workers made groups of ~5, each paying a commit and a dozen statements.
# Only a few, though: waiting for more left the writer idle while pushes queued
# (the trials are in docs/benchmarks.md).
GATHER_PIECES = 4
GATHER_S = 0.004


class WriterClosed(RuntimeError):
    """The database was closed while this work was waiting for the writer."""


class GroupCommit:
    """Runs work in write transactions shared with whatever else is waiting."""

    def __init__(self, write: Callable[[], ContextManager[Tx]]):
        self._write_tx = write  # Database.write: handed in, so this module needs no Database
        self._queue: deque[tuple[Callable[[Tx], Any], Future]] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.busy = threading.Event()  # set while a group is being written (tests wait on it)
        self._loop: asyncio.AbstractEventLoop | None = None  # see write_on_loop
        self._loop_thread = 0
        self._drain_due = False

    def write_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Write groups in `loop`'s own thread, between its turns, instead of in a writer
        thread: for a process that does nothing but apply pushes (hub.api.writer).

        There, the event loop's thread reading and parsing pushes and the writer thread
        took turns on one GIL, each handing it over hundreds of times a second, and the
        writer waited up to GATHER_S for company before each group. On the loop, a group
        takes whatever was queued when it starts; while it is written, the next pushes
        wait in the socket, and the next group takes all of them."""
        with self._wake:
            if self._thread is not None:
                raise RuntimeError("the writer thread has started already")
            self._loop, self._loop_thread = loop, threading.get_ident()

    def submit(self, work: Callable[[Tx], T]) -> "Future[T]":
        """Queue `work(tx)`; the future resolves once its transaction is committed,
        or with what `work` raised (its writes rolled back) or what the commit raised."""
        future: Future = Future()
        self._enqueue(work, future)
        return future

    def _enqueue(self, work: Callable[[Tx], Any], future) -> None:
        with self._wake:
            if self._closed:
                raise WriterClosed("the hub database is closed")
            self._queue.append((work, future))
            if self._loop is not None:
                if not self._drain_due:
                    self._drain_due = True
                    if threading.get_ident() == self._loop_thread:
                        self._loop.call_soon(self._drain)
                    else:
                        self._loop.call_soon_threadsafe(self._drain)
                return
            if self._thread is None:  # started on first use: no threads at import or construction
                self._thread = threading.Thread(target=self._write_forever, name="hub-writer", daemon=True)
                self._thread.start()
            self._wake.notify()

    def run(self, work: Callable[[Tx], T]) -> T:
        """`submit` and wait, from any thread but the writer's."""
        return self.submit(work).result()

    async def run_async(self, work: Callable[[Tx], T]) -> T:
        """`submit` and wait without blocking the event loop."""
        if self._loop is not None and threading.get_ident() == self._loop_thread:
            future = self._loop.create_future()  # answered in this thread: no wake-up through a pipe
            self._enqueue(work, future)
            return await future
        return await asyncio.wrap_future(self.submit(work))

    def queued(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        """Finish what is queued, then stop the writer."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        while self._loop is not None and self._queue:
            self._drain()

    def _drain(self) -> None:
        """On the loop (write_on_loop): one group of what is queued."""
        with self._wake:
            self._drain_due = False
            pieces = self._take()
            if self._queue and not self._closed:  # the rest once the loop has sent these answers
                self._drain_due = True
                assert self._loop is not None  # write_on_loop set it
                self._loop.call_soon(self._drain)
        if pieces:
            self._write_group(pieces)

    def _write_forever(self) -> None:
        last = 0
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if not self._queue:
                    return
                if last > 1:  # busy: let a few more join before the commit they will share
                    self._gather()
                pieces = self._take()
                last = len(pieces)
            self._write_group(pieces)

    def _take(self) -> list[tuple[Callable[[Tx], Any], Future]]:
        """The next group's pieces (holding `_wake`): the oldest, up to MAX_PIECES."""
        return [self._queue.popleft() for _ in range(min(MAX_PIECES, len(self._queue)))]

    def _write_group(self, pieces: list[tuple[Callable[[Tx], Any], Future]]) -> None:
        self.busy.set()
        try:
            self._write(pieces)
        except BaseException as exc:  # never leave a caller waiting on a dead writer
            for _work, future in pieces:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self.busy.clear()

    def _gather(self) -> None:
        """Wait (holding `_wake`) up to GATHER_S for GATHER_PIECES to be queued."""
        deadline = time.monotonic() + GATHER_S
        while len(self._queue) < GATHER_PIECES and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)

    def _write(self, pieces: list[tuple[Callable[[Tx], Any], Future]]) -> None:
        try:
            with self._write_tx() as tx:
                _prepare(tx, [work for work, _future in pieces])
                results = [work(tx) for work, _future in pieces]
        except Exception as exc:
            if len(pieces) == 1:
                if not pieces[0][1].done():  # its caller may have given up (cancelled)
                    pieces[0][1].set_exception(exc)
                return
            for piece in pieces:  # find the failing one: each alone, in its own transaction
                self._write([piece])
            return
        for (_work, future), result in zip(pieces, results):
            if not future.done():
                future.set_result(result)


def _prepare(tx: Tx, works: list[Callable[[Tx], Any]]) -> None:
    by_kind: dict[Any, list[Any]] = {}
    for work in works:
        if hasattr(type(work), "prepare_group"):
            by_kind.setdefault(type(work), []).append(work)
    for kind, same in by_kind.items():
        kind.prepare_group(tx, same)
