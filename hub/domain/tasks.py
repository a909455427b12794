"""Tasks people finish on the floor: a put-back puts units back in the ledger; any
task closed is told to its location's devices."""

from __future__ import annotations

import json
from typing import Any

from hub.domain.stock import Movement, move
from hub.feed import emit
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import TaskDone
from sync.models import Op

__all__ = ["task_done", "close_task", "find_task"]


def task_done(conn: Tx, ctx: Context, op: Op, p: TaskDone) -> Outcome:
    row = find_task(conn, ctx.location, p)
    if row is None:
        return Outcome.refused("unknown_task", f"there is no task {p.task_id} at {ctx.location}")
    if row.status != "open":
        return Outcome(message=f"task {p.task_id} was already {row.status}")
    details = json.loads(row.details)
    bin_code = p.bin or details.get("bin")
    if row.kind == "put_back" and details.get("sku") and details.get("qty") and bin_code:
        # Units put back on a shelf are on hand again: the ledger follows the shelf.
        move(conn, Movement(ctx.here, bin_code, details["sku"], int(details["qty"]), "put_back", row.order_id, op.op_id, op.hlc))
    close_task(conn, row.id, "done")
    return Outcome(message=f"task {p.task_id} done")


def find_task(conn: Tx, location: str | None, p: TaskDone) -> Any:
    """The task by id when it still reads as the device saw it; else the oldest open
    task with the same kind and sentence (a replay may number tasks differently)."""
    row = conn.execute("SELECT * FROM tasks WHERE id = :i AND location = :l", {"i": p.task_id, "l": location}).first()
    if row is not None and row.kind == p.kind and row.sentence == p.sentence:
        return row
    return conn.execute(
        "SELECT * FROM tasks WHERE location = :l AND kind = :k AND sentence = :s ORDER BY status <> 'open', id",
        {"l": location, "k": p.kind, "s": p.sentence},
    ).first()


def close_task(conn: Tx, task_id: int, status: str) -> None:
    """Set a task's status and tell its location's devices."""
    conn.execute("UPDATE tasks SET status = :s WHERE id = :i", {"s": status, "i": task_id})
    row = conn.execute("SELECT * FROM tasks WHERE id = :i", {"i": task_id}).one()
    emit(conn, row.location, "task", str(row.id), {
        "id": row.id, "kind": row.kind, "for_role": row.for_role, "sentence": row.sentence,
        "details": json.loads(row.details), "order_id": row.order_id, "status": status,
    })
