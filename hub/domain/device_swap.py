"""A swapped handheld: the unfinished work of the device it replaces (pick claims on
orders still being picked, escrow allotments, open tasks given to it) becomes the new
device's, by one logged hub command (`device.work_handed_over`). Nothing moves by
itself: a device that is merely silent keeps its work until its claims and leases run
out, as before. The old device's token is revoked with it (hub.hand_over), outside the
log: credentials are not hub state."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hub.commands import WorkHandedOver
from hub.domain.escrow import hand_allotment
from hub.domain.stock import promising
from hub.feed import emit, emit_order
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op
from sync.rules import PICKING_STATUSES

__all__ = ["UnfinishedWork", "unfinished_work", "work_handed_over"]


@dataclass(frozen=True)
class UnfinishedWork:
    """What a device holds that another could carry on with."""

    claims: dict[str, str] = field(default_factory=dict)  # order id -> number
    allotments: dict[str, int] = field(default_factory=dict)  # sku -> units outstanding
    tasks: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"claims": sorted(self.claims.values()), "allotments": self.allotments, "tasks": self.tasks}

    def sentence(self) -> str:
        units = sum(self.allotments.values())
        return (f"{len(self.claims)} pick claim(s), {units} allotted unit(s) of {len(self.allotments)} SKU(s), "
                f"{len(self.tasks)} open task(s)")


def unfinished_work(conn: Tx, device_id: str, location: str) -> UnfinishedWork:
    """The device's claims on orders still being picked, its outstanding allotments and
    the open tasks given to it, at `location`."""
    claims = conn.execute("SELECT id, number FROM orders WHERE claimed_by = :d AND location = :l AND status IN :s "
                          "ORDER BY id", {"d": device_id, "l": location, "s": sorted(PICKING_STATUSES)}).all()
    allotted = conn.execute("SELECT sku, granted - used - released AS outstanding FROM allotments WHERE device_id = :d "
                            "AND location = :l AND granted - used - released > 0 ORDER BY sku",
                            {"d": device_id, "l": location}).all()
    tasks = conn.execute("SELECT id FROM tasks WHERE assigned_to = :d AND location = :l AND status = 'open' ORDER BY id",
                         {"d": device_id, "l": location}).scalars()
    return UnfinishedWork({r.id: r.number for r in claims}, {r.sku: int(r.outstanding) for r in allotted}, list(tasks))


def work_handed_over(conn: Tx, _ctx: Context, op: Op, p: WorkHandedOver) -> Outcome:
    if p.from_device == p.to_device:
        return Outcome.refused("invalid", f"to_device: {p.to_device} is the device handing over; name its replacement")
    work = unfinished_work(conn, p.from_device, p.location)
    for order_id in work.claims:  # the claim is fresh again: the person goes on picking on the new handheld
        conn.execute("UPDATE orders SET claimed_by = :to, claimed_hlc = :h WHERE id = :o",
                     {"to": p.to_device, "h": op.hlc, "o": order_id})
        emit_order(conn, order_id)
    with promising(conn, p.location, work.allotments):  # units move between devices: the total stays
        for sku in work.allotments:
            hand_allotment(conn, p.from_device, p.to_device, sku)
    for task_id in work.tasks:
        conn.execute("UPDATE tasks SET assigned_to = :to WHERE id = :i", {"to": p.to_device, "i": task_id})
        _publish_task(conn, task_id)
    return Outcome(message=f"handed over from {p.from_device} to {p.to_device}: {work.sentence()}")


def _publish_task(conn: Tx, task_id: int) -> None:
    """The task as its location's devices hold it, with whom it is given to."""
    row = conn.execute("SELECT * FROM tasks WHERE id = :i", {"i": task_id}).one()
    emit(conn, row.location, "task", str(row.id), {
        "id": row.id, "kind": row.kind, "for_role": row.for_role, "sentence": row.sentence,
        "details": json.loads(row.details), "order_id": row.order_id, "status": row.status,
        "assigned_to": row.assigned_to,
    })
