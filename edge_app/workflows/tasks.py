"""Open tasks of this device's location (put back, recount, refund review,
reroute, …) as the hub sent them, and marking one done (`task.done`, a fact).

Putting units back is stock coming back: the hub moves them into the bin, and
this device shows them there until the next sync. Supervisor tasks (recounts,
refund reviews, reroutes) may only be closed by a supervisor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from edge_app.errors import Refused
from edge_app.local import outbox
from edge_app.local.floor_effects import FloorEffect, record
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.scans import bin_for_scan, role_of

__all__ = ["Task", "KIND_WORDS", "open_tasks", "mark_done"]

KIND_WORDS = {"put_back": "Put back", "recount": "Recount", "refund_review": "Refund review", "reroute": "Reroute",
              "quarantine": "To damage/quarantine", "unpack": "Unpack", "check_carton": "Check carton"}


@dataclass(frozen=True)
class Task:
    id: int
    kind: str
    for_role: str
    sentence: str
    details: dict[str, Any]
    order_id: str | None
    assigned_to: str | None = None  # a device id: given to one handheld (a swapped one's work, handed over)

    @property
    def needs_bin(self) -> bool:
        """A put-back with no bin named: the person says where the units went."""
        return self.kind == "put_back" and not self.details.get("bin")


def open_tasks(replica: Replica, role: str | None = None) -> list[Task]:
    """Open tasks, minus those this device has marked done; those given to this device
    first, then the role's own."""
    role = role_of(replica, role)
    me = replica.get_meta("device_id")
    rows = replica.query("SELECT id, kind, for_role, sentence, details, order_id, assigned_to FROM tasks_now ORDER BY id")
    tasks = [Task(r["id"], r["kind"], r["for_role"], r["sentence"], json.loads(r["details"]), r["order_id"], r["assigned_to"])
             for r in rows]
    return sorted(tasks, key=lambda t: (t.assigned_to != me, t.for_role != role and role != "supervisor", t.id))


def mark_done(replica: Replica, task_id: int, actor: str, role: str | None = None, bin_raw: str = "") -> Feedback:
    """Record that the task is done. Refused (nothing recorded) for a task that is not
    open here, a supervisor's task done by someone else, or a put-back without a bin."""
    try:
        task = next((t for t in open_tasks(replica, role) if t.id == task_id), None)
        if task is None:
            raise Refused("That task is no longer open. Pick another from the list.")
        if task.for_role == "supervisor" and role_of(replica, role) != "supervisor":
            raise Refused(f"{KIND_WORDS.get(task.kind, task.kind)} tasks are for a supervisor. Ask one to sign in.")
        bin_code = bin_for_scan(replica, bin_raw) if bin_raw.strip() else task.details.get("bin")
        if task.needs_bin and not bin_code:
            raise Refused("Scan the label of the bin you put the units in.")
    except Refused as exc:
        return Feedback(False, str(exc), "tasks")
    payload = {"task_id": task.id, "kind": task.kind, "sentence": task.sentence,
               "bin": bin_code if bin_raw.strip() else None}
    stock: tuple[tuple[str, str, int], ...] = ()
    if task.kind == "put_back" and task.details.get("sku") and task.details.get("qty") and bin_code:
        stock = ((bin_code, task.details["sku"], int(task.details["qty"])),)
    with replica.transaction() as conn:
        record(conn, "task.done", payload, actor, outbox.PendingEffect(stock=stock), (FloorEffect(task_id=task.id),))
    return Feedback(True, f"Done: {task.sentence}", "tasks")
