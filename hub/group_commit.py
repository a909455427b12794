"""Group commit: pushes that arrive while another is being written share its
transaction, so one commit (one fsync, one turn of the feed lock) answers them all.

The first waiting thread becomes the leader: it takes every queued piece of work,
runs each in a savepoint of one write transaction and commits. A piece that
raises is rolled back to its savepoint alone and its caller gets the exception;
the others stand. Nobody is answered before the commit, so an answered push is
as durable as with a transaction of its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from hub.tx import Tx

if TYPE_CHECKING:
    from hub.db import Database

__all__ = ["GroupCommit"]

T = TypeVar("T")

# Pieces per transaction: enough to amortise the commit over a busy moment, few
# enough that the first of them is not kept waiting long.
MAX_PIECES = 64


class _Piece:
    __slots__ = ("work", "result", "error", "done")

    def __init__(self, work: Callable[[Tx], Any]):
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False


class GroupCommit:
    """Runs work in write transactions shared with whatever else is waiting."""

    def __init__(self, db: "Database"):
        self._db = db
        self._queue: list[_Piece] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def run(self, work: Callable[[Tx], T]) -> T:
        """`work(tx)` in a shared transaction; returns once it is committed, or
        raises what `work` raised (its writes rolled back) or what the commit raised."""
        piece = _Piece(work)
        with self._queue_lock:
            self._queue.append(piece)
        while not piece.done:
            with self._leader:
                if not piece.done:
                    self._run_queued()
        if piece.error is not None:
            raise piece.error
        return piece.result

    def _run_queued(self) -> None:
        with self._queue_lock:
            pieces, self._queue = self._queue[:MAX_PIECES], self._queue[MAX_PIECES:]
        try:
            with self._db.write() as tx:
                for n, piece in enumerate(pieces):
                    _run_piece(tx, piece, f"piece_{n}")
        except Exception as exc:  # the commit failed: nothing of this transaction stands
            for piece in pieces:
                piece.result, piece.error = None, piece.error or exc
        finally:
            for piece in pieces:
                piece.done = True


def _run_piece(tx: Tx, piece: _Piece, savepoint: str) -> None:
    tx.execute(f"SAVEPOINT {savepoint}")
    try:
        piece.result = piece.work(tx)
        tx.flush()  # its staged writes belong inside its savepoint
    except Exception as exc:
        tx.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
        tx.discard_staged()
        piece.error = exc
    tx.execute(f"RELEASE SAVEPOINT {savepoint}")
