"""What the pickup, return, stock and task workflows share: recording an op with
its effect on the local view, and reading a scan into what it names.

Effects of these ops live in `floor_effects`; the `live_floor_effects` view keeps
only those of ops the pulled hub state does not reflect yet (edge migration 6)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from devices.errors import ScanError
from devices.parse import parse_scan
from devices.scan import Item, Meaning
from edge_app import outbox
from edge_app.errors import Refused, UnknownBarcode
from edge_app.replica import Replica
from sync.models import Op

__all__ = ["FloorEffect", "record", "read_scan", "item_for_scan", "bin_for_scan", "role_of"]


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


def read_scan(raw: str) -> Meaning:
    """What a scan names. Raises Refused with what to do for an empty or unreadable one."""
    try:
        return parse_scan(raw).meaning
    except ScanError as exc:
        raise UnknownBarcode(f"That scan could not be read ({exc}). Scan again or type it.") from exc


def item_for_scan(replica: Replica, raw: str) -> tuple[str, str]:
    """(sku, name) of the item a barcode (or a typed SKU) names; raises UnknownBarcode."""
    meaning = read_scan(raw)
    code = meaning.code if isinstance(meaning, Item) else raw.strip()
    row = replica.query_one(
        "SELECT i.sku, i.name FROM barcodes b JOIN items i ON i.sku = b.sku WHERE b.code = ?", (code,)
    ) or replica.query_one("SELECT sku, name FROM items WHERE sku = ? COLLATE NOCASE", (raw.strip(),))
    if row is None:
        raise UnknownBarcode(f"No item has barcode {raw.strip()[:40]}. Check the label and scan again.")
    return row["sku"], row["name"]


def bin_for_scan(replica: Replica, raw: str) -> str:
    """The bin a label (`BIN:…`) or typed code names; raises Refused for anything else."""
    code = raw.strip()
    if code.upper().startswith("BIN:"):
        code = code[4:]
    row = replica.query_one("SELECT code FROM bins WHERE code = ? COLLATE NOCASE", (code,))
    if row is None:
        raise Refused(f"There is no bin {code[:40]} here. Scan the label on the shelf edge.")
    return row["code"]


def role_of(replica: Replica, role: str | None) -> str:
    """The role a workflow acts for: the signed-in person's, else the device's."""
    return role or replica.get_meta("role") or "associate"

