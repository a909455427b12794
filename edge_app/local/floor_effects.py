"""Effects of pickup, return, stock and task ops on this device's view, kept beside
their outbox op: the `floor_effects` table; the `live_floor_effects` view keeps only
those of ops the pulled hub state does not reflect yet (edge migration 6)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from edge_app.local import outbox
from sync.models import Op

__all__ = ["FloorEffect", "record"]


@dataclass(frozen=True)
class FloorEffect:
    """One row of a pickup/return/task op's effect on the local view."""

    order_id: str | None = None
    line_no: int | None = None
    handed_over: int = 0
    refused: int = 0
    returned: int = 0
    refunded: int = 0
    task_id: int | None = None
    pickup_by: str | None = None


def record(conn: sqlite3.Connection, kind: str, payload: dict[str, Any], actor: str,
           effect: outbox.PendingEffect = outbox.PendingEffect(), floor: tuple[FloorEffect, ...] = ()) -> Op:
    """Append the op and both its overlays, inside the caller's transaction."""
    op = outbox.record_op(conn, kind, payload, actor, effect)
    conn.executemany(
        "INSERT INTO floor_effects (device_seq, order_id, line_no, handed_over, refused, returned, refunded, task_id, pickup_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(op.device_seq, f.order_id, f.line_no, f.handed_over, f.refused, f.returned, f.refunded, f.task_id, f.pickup_by) for f in floor],
    )
    return op
