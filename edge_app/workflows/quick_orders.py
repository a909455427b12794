"""Taking orders at a dark-store terminal, online or not.

An order whose every line fits this terminal's escrow allotment is confirmed at
once and released for picking: the hub promised those units to this device
alone. Otherwise it is recorded as *pending*: not guaranteed until the hub
answers, and not picked before then."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from edge_app.errors import BadQuantity, Refused, UnknownBarcode
from edge_app.local import outbox
from edge_app.local.allotments import evidence, headroom
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.scans import item_for_scan

__all__ = ["TakenOrder", "take_order", "QuickOrderCart", "TakenSummary", "taken_orders", "Headroom", "headrooms",
           "MAX_LINE_QTY"]

MAX_LINE_QTY = 99  # units of one item a terminal takes in one order

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
        payload = {"order_id": order_id, "number": number, "fulfilment": fulfilment, "promised_by": promised_by,
                   "customer_name": customer_name, "lines": [{"sku": s, "qty": q} for s, q in lines], "from_allotment": guaranteed}
        if guaranteed and (said := evidence(conn, list(need))):
            payload["allotment_evidence"] = said  # so a hub restored from an older backup honours it
        outbox.record_op(
            conn,
            "reservation.requested",
            payload,
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


@dataclass(frozen=True)
class Headroom:
    sku: str
    name: str
    units: int  # this terminal may still promise offline


def headrooms(replica: Replica, now: datetime | None = None) -> list[Headroom]:
    """Per SKU this terminal holds an allotment of: units it may still promise offline."""
    now = now or _now()
    with replica.transaction() as conn:
        rows = conn.execute("SELECT a.sku, COALESCE(i.name, a.sku) AS name FROM allotments a "
                            "LEFT JOIN items i ON i.sku = a.sku ORDER BY a.sku").fetchall()
        return [Headroom(r["sku"], r["name"], headroom(conn, r["sku"], now)) for r in rows]


class QuickOrderCart:
    """The order being taken at the counter: scan items, set quantities, take it."""

    def __init__(self, replica: Replica, actor: str):
        self.replica = replica
        self.actor = actor
        self.lines: dict[str, int] = {}
        self.names: dict[str, str] = {}

    def scan(self, raw: str) -> Feedback:
        """Add one unit of the item a barcode (or typed SKU) names."""
        try:
            sku, name = item_for_scan(self.replica, raw)
        except Refused as exc:
            return Feedback(False, str(exc), "cart")
        return self.set_qty(sku, self.lines.get(sku, 0) + 1, name)

    def set_qty(self, sku: str, qty: int, name: str | None = None) -> Feedback:
        """Change a line's quantity (0 takes it out)."""
        name = name or self.names.get(sku, sku)
        if not 0 <= qty <= MAX_LINE_QTY:
            return Feedback(False, f"Take 0 to {MAX_LINE_QTY} × {name} in one order; you asked for {qty}.", "cart")
        if qty == 0:
            self.lines.pop(sku, None)
            return Feedback(True, f"{name} taken out of the order.", "cart")
        self.lines[sku], self.names[sku] = qty, name
        return Feedback(True, f"{qty} × {name} in the order.", "cart")

    def take(self, customer_name: str) -> Feedback:
        """Record the order: confirmed at once from this terminal's allotment, or pending."""
        customer = customer_name.strip()
        if not customer:
            return Feedback(False, "Type the customer's name first.", "cart")
        if len(customer) > 100:
            return Feedback(False, f"A customer name is at most 100 characters; that one has {len(customer)}.", "cart")
        try:
            taken = take_order(self.replica, sorted(self.lines.items()), customer, self.actor)
        except Refused as exc:
            return Feedback(False, str(exc), "cart")
        self.lines.clear()
        return Feedback(True, taken.message, "taken")


@dataclass(frozen=True)
class TakenSummary:
    order_id: str
    number: str
    customer_name: str
    units: int
    state: str  # "confirmed" (from the allotment, or by the hub), "waiting" (for the hub), "refused"
    words: str


def taken_orders(replica: Replica, limit: int = 20) -> list[TakenSummary]:
    """Orders taken at this terminal, newest first, with whether each is guaranteed."""
    rows = replica.query(
        "SELECT device_seq, state, message, json_extract(payload, '$.order_id') AS order_id, "
        "json_extract(payload, '$.number') AS number, json_extract(payload, '$.customer_name') AS customer, "
        "json_extract(payload, '$.from_allotment') AS guaranteed, payload FROM outbox "
        "WHERE kind = 'reservation.requested' ORDER BY device_seq DESC LIMIT ?", (limit,))
    return [_summary(r) for r in rows]


def _summary(row: sqlite3.Row) -> TakenSummary:
    units = sum(line["qty"] for line in json.loads(row["payload"])["lines"])
    if row["state"] == "rejected":
        state, words = "refused", f"Refused by the hub: {row['message'] or 'no reason given'}. Tell the customer."
    elif row["state"] == "applied" or row["guaranteed"]:
        state = "confirmed"
        words = "Confirmed by the hub." if row["state"] == "applied" else "Confirmed: held from this terminal's stock."
    else:
        state, words = "waiting", "Waiting for the hub: not guaranteed yet, not picked before it answers."
    return TakenSummary(row["order_id"], row["number"], row["customer"], units, state, words)
