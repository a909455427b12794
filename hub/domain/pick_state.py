"""What a transaction of picks holds in memory and writes back once.

A pushed batch is mostly `pick.confirmed`, one op per unit, many on the same order
line. Read-modify-write of the line, the order and its reservations for every unit
was most of a push's time (each statement is a round trip on PostgreSQL), so the
pick handler works on the order as loaded once per transaction and stages its
movements; `Tx.flush` writes them back before anything else reads those tables:
before any other op kind is applied (`hub.log.apply_op`), before the change feed
is written (it is flushed last) and before the commit.

A group commit loads every order its picks name in one query (`hold_orders`);
an order not loaded that way is loaded on first use. The order's status
(picking, picked, short) is settled when it is written back: no rule reads the
difference between those, only whether the order is closed for picking.

Writes go back as absolute values: the transaction holds the hub's write lock
(SQLite's single writer, PostgreSQL's feed lock), so nobody changed them meanwhile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.domain.stages import stamp_many
from hub.domain.stock import Movement
from hub.feed import order_extras, publish_known_orders, publish_known_stock, line_extras, LineExtras
from hub.return_codes import return_code_for
from hub.store.tx import Tx

__all__ = ["HeldLine", "HeldOrder", "held_order", "hold_orders", "stage_movement", "status_after_picking"]

_PICKING_STATUSES = ("released", "picking", "picked", "short")


@dataclass
class HeldLine:
    sku: str
    qty: int
    picked: int
    short: int
    handed_over: int
    returned: int
    refunded: int
    short_reason: str | None
    reserved: int | None  # None: no reservation row
    row: dict[str, Any]  # the whole order_lines row as loaded, for the change feed
    changed: bool = False


@dataclass
class HeldOrder:
    id: str
    location: str | None
    status: str
    tote: str | None
    row: dict[str, Any]  # the whole orders row as loaded, for the change feed
    lines: dict[int, HeldLine] = field(default_factory=dict)
    changed: bool = False
    return_code: str | None = None  # returns from any channel: the feed's order carries it
    moved_hlc: str | None = None  # the last pick that counted: when picking closed, if it did

    def settle_status(self) -> None:
        """picking while lines are open; then picked, or short if any unit was short."""
        status = status_after_picking(self.status, [(l.qty, l.picked, l.short) for l in self.lines.values()])
        if status != self.status:
            self.status, self.changed = status, True

    def snapshot(self) -> dict[str, Any]:
        """The order as `hub.feed.order_snapshot` reads it back from the tables."""
        order = {**self.row, "status": self.status, "tote": self.tote}
        order["lines"] = [
            {**{k: v for k, v in line.row.items() if k != "order_id"},
             "qty_picked": line.picked, "qty_short": line.short, "short_reason": line.short_reason}
            for _n, line in sorted(self.lines.items())
        ]
        order["return_code"] = self.return_code
        return order


def status_after_picking(status: str, lines: list[tuple[int, int, int]]) -> str:
    """The order status once its lines are (qty, picked, short); statuses past
    picking (packed, handed over, cancelled…) are left alone."""
    if status not in _PICKING_STATUSES:
        return status
    qty = sum(q for q, _p, _s in lines)
    picked = sum(p for _q, p, _s in lines)
    short = sum(s for _q, _p, s in lines)
    if picked + short < qty:
        return "picking"
    return "short" if short else "picked"


def held_order(conn: Tx, order_id: str) -> HeldOrder | None:
    """The order with its lines and reservations, loaded once per transaction."""
    orders: dict[str, HeldOrder | None] = conn.staged.get("held_orders") or {}
    if order_id not in orders:
        hold_orders(conn, [order_id])
        orders = conn.staged["held_orders"]
    return orders[order_id]


def hold_orders(conn: Tx, order_ids) -> None:
    """Load these orders (those not held yet) in one query; unknown ids are held as None."""
    orders: dict[str, HeldOrder | None] = conn.staged.setdefault("held_orders", {})
    wanted = sorted({o for o in order_ids if o not in orders})
    if not wanted:
        return
    conn.on_flush("held", _write_back)
    orders.update(dict.fromkeys(wanted))
    orders.update(_load(conn, wanted))


def stage_movement(conn: Tx, m: Movement) -> None:
    """`hub.domain.stock.move`, written at flush: movements in order, on-hand per bin summed."""
    staged = conn.staged.setdefault("held_movements", [])
    staged.append(m)
    conn.on_flush("held", _write_back)


def _load(conn: Tx, order_ids: list[str]) -> dict[str, HeldOrder]:
    # No FOR UPDATE: every write transaction holds the hub's write lock already.
    orders = {
        r["id"]: HeldOrder(r["id"], r["location"], r["status"], r["tote"], r)
        for r in conn.execute("SELECT o.*, d.ship_to, d.contact FROM orders o LEFT JOIN order_details d ON d.order_id = o.id "
                              "WHERE o.id IN :ids", {"ids": order_ids}).mappings()  # as hub.feed.order_snapshots
    }
    for order_id, extra in order_extras(conn, list(orders)).items():  # as hub.feed.order_snapshots adds them
        orders[order_id].row.update(extra)
    lines = conn.execute(
        "SELECT l.*, r.qty AS reserved FROM order_lines l "
        "LEFT JOIN reservations r ON r.order_id = l.order_id AND r.line_no = l.line_no "
        "WHERE l.order_id IN :ids",
        {"ids": order_ids},
    ).mappings()
    extras = line_extras(conn, order_ids)  # the snapshot carries them, as the feed's read does
    for r in lines:
        reserved = r.pop("reserved")
        r.update((extras.get(r["order_id"]) or LineExtras()).of(r["line_no"]))
        orders[r["order_id"]].lines[r["line_no"]] = HeldLine(
            r["sku"], r["qty"], r["qty_picked"], r["qty_short"], r["qty_handed_over"], r["qty_returned"],
            r["qty_refunded"], r["short_reason"], reserved, r)
    for order in orders.values():  # as hub.feed.order_snapshots signs it
        order.return_code = return_code_for(conn, order.id, order.row["number"], order.location,
                                            [(n, line.sku, line.qty) for n, line in sorted(order.lines.items())])
    return orders


def _write_back(conn: Tx) -> None:
    held: dict[str, HeldOrder | None] = conn.staged.pop("held_orders", {})
    movements: list[Movement] = conn.staged.pop("held_movements", [])
    orders = [o for o in held.values() if o is not None]
    _write_orders(conn, orders)
    _write_movements(conn, movements)
    # The feed publishes these as written, without reading them back.
    publish_known_orders(conn, {o.id: o.snapshot for o in orders})


def _write_orders(conn: Tx, orders: list[HeldOrder]) -> None:
    for order in orders:
        if any(line.changed for line in order.lines.values()):
            order.settle_status()
    lines = [(o.id, n, l) for o in orders for n, l in o.lines.items() if l.changed]
    conn.executemany(
        "UPDATE order_lines SET qty_picked = ?, qty_short = ?, short_reason = ? WHERE order_id = ? AND line_no = ?",
        [(l.picked, l.short, l.short_reason, oid, n) for oid, n, l in lines],
    )
    # Down to 0, not deleted, until the order goes (hub.domain.stock.release_order): a delete
    # wrote three B-trees, one keyed by (location, sku) at a random place.
    conn.executemany(
        "UPDATE reservations SET qty = ? WHERE order_id = ? AND line_no = ?",
        [(max(l.reserved, 0), oid, n) for oid, n, l in lines if l.reserved is not None],
    )
    conn.executemany(
        "UPDATE orders SET status = ?, tote = ? WHERE id = ?",
        [(o.status, o.tote, o.id) for o in orders if o.changed],
    )
    stamp_many(conn, [(o.id, o.status, o.location, o.moved_hlc) for o in orders
                      if o.changed and o.status != o.row["status"]])


def _write_movements(conn: Tx, movements: list[Movement]) -> None:
    conn.executemany(
        "INSERT INTO movements (location, bin, sku, qty, reason, order_id, op_id, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        movements,
    )
    on_hand: dict[tuple[str, str, str], int] = {}
    for m in movements:
        key = (m.location, m.bin, m.sku)
        on_hand[key] = on_hand.get(key, 0) + m.qty
    written = conn.executemany_returning(
        "INSERT INTO stock (location, bin, sku, on_hand) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (location, bin, sku) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand "
        "RETURNING location, bin, sku, on_hand",
        [(l, b, s, q) for (l, b, s), q in sorted(on_hand.items())],
    )
    publish_known_stock(conn, written)  # as the upsert left it: no reading back at the flush
