"""Taking orders at a dark-store terminal, online or not.

An order whose every line fits this terminal's escrow allotment is confirmed at
once and released for picking: the hub promised those units to this device
alone. Otherwise it is recorded as *pending*: not guaranteed until the hub
answers, and not picked before then."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from edge_app.errors import BadQuantity, Refused, UnknownBarcode
from edge_app.local import outbox
from edge_app.local.allotments import headroom
from edge_app.local.replica import Replica

__all__ = ["TakenOrder", "take_order"]

@dataclass(frozen=True)
class TakenOrder:
    order_id: str
    number: str
    guaranteed: bool
    message: str


def _now() -> datetime:
    return datetime.now(timezone.utc)


def take_order(replica: Replica, lines: list[tuple[str, int]], customer_name: str, actor: str,
               fulfilment: str = "quick", promise_within: timedelta = timedelta(minutes=30),
               now: datetime | None = None) -> TakenOrder:
    """Record an order taken at this terminal; raises Refused for bad lines, saving nothing."""
    now = now or _now()
    need = _validate(replica, lines)
    with replica.transaction() as conn:
        guaranteed = all(headroom(conn, sku, now) >= qty for sku, qty in need.items())
        order_id = str(uuid.uuid4())
        number = f"T-{replica.get_meta('device_id', 'x')[:4].upper()}-{replica.get_meta('next_seq', '1')}"
        promised_by = (now + promise_within).isoformat()
        _insert_local_order(conn, replica, order_id, number, fulfilment, promised_by, customer_name, lines, guaranteed, now)
        outbox.record_op(
            conn,
            "reservation.requested",
            {"order_id": order_id, "number": number, "fulfilment": fulfilment, "promised_by": promised_by,
             "customer_name": customer_name, "lines": [{"sku": s, "qty": q} for s, q in lines], "from_allotment": guaranteed},
            actor,
            outbox.PendingEffect(escrow=tuple(need.items()) if guaranteed else (), orders=((order_id, guaranteed),)),
        )
    if guaranteed:
        return TakenOrder(order_id, number, True, f"Order {number} confirmed: the units are held for it.")
    return TakenOrder(order_id, number, False, f"Order {number} is pending: not guaranteed until the hub confirms it.")


def _validate(replica: Replica, lines: list[tuple[str, int]]) -> dict[str, int]:
    if not lines:
        raise Refused("Add at least one item to the order.")
    need: dict[str, int] = {}
    for sku, qty in lines:
        if replica.query_one("SELECT 1 FROM items WHERE sku = ?", (sku,)) is None:
            raise UnknownBarcode(f"No item {sku} in the catalogue. Scan the item's barcode instead.")
        if qty < 1:
            raise BadQuantity(f"Quantity for {sku} must be at least 1.")
        need[sku] = need.get(sku, 0) + qty
    return need


def _insert_local_order(conn, replica, order_id, number, fulfilment, promised_by, customer_name, lines, guaranteed, now) -> None:
    conn.execute(
        "INSERT INTO orders (id, number, channel, fulfilment, promised_by, customer_name, location, status, created_at) "
        "VALUES (?, ?, 'terminal', ?, ?, ?, ?, ?, ?)",
        (order_id, number, fulfilment, promised_by, customer_name, replica.get_meta("location"),
         "released" if guaranteed else "pending", now.isoformat()),
    )
    for line_no, (sku, qty) in enumerate(lines, start=1):
        conn.execute(
            "INSERT INTO order_lines (order_id, line_no, sku, qty, pick_bin, qty_picked, qty_short) VALUES (?, ?, ?, ?, ?, 0, 0)",
            (order_id, line_no, sku, qty, _first_bin(conn, sku, qty)),
        )


def _first_bin(conn: sqlite3.Connection, sku: str, qty: int) -> str | None:
    """Same choice the hub makes: first bin on the path holding the whole quantity, else the fullest."""
    rows = conn.execute(
        "SELECT s.bin, s.on_hand FROM stock_now s JOIN bins b ON b.code = s.bin WHERE s.sku = ? AND s.on_hand > 0 ORDER BY b.seq",
        (sku,),
    ).fetchall()
    for row in rows:
        if row["on_hand"] >= qty:
            return row["bin"]
    return max(rows, key=lambda r: r["on_hand"])["bin"] if rows else None
