"""What an administrator does with the exceptions queue: give a task to someone, close
a task from the console, say what was done about a conflict or a refused op. Hub
commands, logged like every change; the time and the person travel in the payload."""

from __future__ import annotations

from hub.commands import ConflictResolved, OpReviewed, TaskAssigned, TaskClosed
from hub.domain.tasks import close_task
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op

__all__ = ["task_assigned", "task_closed", "conflict_resolved", "op_reviewed"]


def task_assigned(conn: Tx, _ctx: Context, _op: Op, p: TaskAssigned) -> Outcome:
    row = conn.execute("SELECT status FROM tasks WHERE id = :i", {"i": p.task_id}).first()
    if row is None:
        return Outcome.refused("invalid", f"task_id: no task {p.task_id}")
    if row.status != "open":
        return Outcome.refused("closed", f"task {p.task_id} is {row.status} already")
    conn.execute("UPDATE tasks SET assigned_to = :to WHERE id = :i", {"to": p.to, "i": p.task_id})
    return Outcome(message=f"task {p.task_id} is {p.to}'s")


def task_closed(conn: Tx, _ctx: Context, _op: Op, p: TaskClosed) -> Outcome:
    row = conn.execute("SELECT status FROM tasks WHERE id = :i", {"i": p.task_id}).first()
    if row is None:
        return Outcome.refused("invalid", f"task_id: no task {p.task_id}")
    if row.status != "open":
        return Outcome.refused("closed", f"task {p.task_id} is {row.status} already")
    conn.execute("UPDATE tasks SET note = :n WHERE id = :i", {"n": p.note, "i": p.task_id})
    close_task(conn, p.task_id, "closed")  # the store's devices drop it from their list
    return Outcome(message=f"task {p.task_id} closed")


def conflict_resolved(conn: Tx, _ctx: Context, _op: Op, p: ConflictResolved) -> Outcome:
    updated = conn.execute("UPDATE conflicts SET resolved_by = :b, resolved_at = :t, note = :n WHERE id = :i "
                           "AND resolved_at IS NULL",
                           {"b": p.by, "t": p.at.isoformat(), "n": p.note, "i": p.conflict_id}).rowcount
    if not updated:
        found = conn.execute("SELECT 1 FROM conflicts WHERE id = :i", {"i": p.conflict_id}).first()
        return Outcome.refused("invalid" if found is None else "closed",
                               f"conflict_id: no conflict {p.conflict_id}" if found is None else
                               f"conflict {p.conflict_id} is resolved already")
    return Outcome(message=f"conflict {p.conflict_id} resolved")


def op_reviewed(conn: Tx, _ctx: Context, _op: Op, p: OpReviewed) -> Outcome:
    if conn.execute("SELECT 1 FROM op_log WHERE op_id = :o AND status = 'rejected'", {"o": p.op_id}).first() is None:
        return Outcome.refused("invalid", f"op_id: no refused op {p.op_id}")
    if conn.execute("SELECT 1 FROM op_reviews WHERE op_id = :o", {"o": p.op_id}).first():
        return Outcome.refused("closed", f"op {p.op_id} was reviewed already")
    conn.execute("INSERT INTO op_reviews (op_id, reviewed_by, reviewed_at, note) VALUES (:o, :b, :t, :n)",
                 {"o": p.op_id, "b": p.by, "t": p.at.isoformat(), "n": p.note})
    return Outcome(message=f"op {p.op_id} reviewed")
