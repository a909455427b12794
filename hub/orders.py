"""Order intake and routing: an order from a channel is routed to one location
that can hold all its lines, its units are reserved there, and its pick bins
chosen along the pick path."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text

from hub.errors import Invalid, NotFound
from hub.feed import emit_order, order_snapshot
from hub.stock import available, on_hand_by_bin
from sync.models import Fulfilment, OrderIn

__all__ = ["accept_order", "get_order", "list_orders", "ROUTE_PREFERENCE"]

# Which kinds of location serve which fulfilment, best first.
ROUTE_PREFERENCE: dict[Fulfilment, tuple[str, ...]] = {
    Fulfilment.QUICK: ("dark_store", "store"),
    Fulfilment.PICKUP: ("store",),
    Fulfilment.SHIP: ("warehouse", "store", "dark_store"),
}


def accept_order(conn: Connection, order: OrderIn, now_iso: str) -> tuple[dict[str, Any], bool]:
    """Store, route and reserve an order. Returns (order, created).

    Posting the same channel + number again returns the stored order unchanged,
    so a channel may retry safely. Raises Invalid for an unknown SKU or location.
    """
    existing = conn.execute(
        text("SELECT id FROM orders WHERE channel = :c AND number = :n"),
        {"c": order.channel, "n": order.number},
    ).first()
    if existing:
        return order_snapshot(conn, existing.id), False
    _check_skus(conn, order)
    location = _route(conn, order)
    order_id = str(uuid.uuid4())
    conn.execute(
        text(
            "INSERT INTO orders (id, number, channel, fulfilment, promised_by, customer_name, "
            "location, status, created_at) VALUES (:id, :number, :channel, :fulfilment, "
            ":promised_by, :customer_name, :location, :status, :created_at)"
        ),
        {
            "id": order_id,
            "number": order.number,
            "channel": order.channel,
            "fulfilment": order.fulfilment.value,
            "promised_by": order.promised_by.isoformat(),
            "customer_name": order.customer_name,
            "location": location,
            "status": "released" if location else "awaiting_stock",
            "created_at": now_iso,
        },
    )
    for line_no, line in enumerate(order.lines, start=1):
        _add_line(conn, order_id, line_no, line.sku, line.qty, location)
    emit_order(conn, order_id)
    return order_snapshot(conn, order_id), True


def _check_skus(conn: Connection, order: OrderIn) -> None:
    for i, line in enumerate(order.lines):
        if conn.execute(text("SELECT 1 FROM items WHERE sku = :s"), {"s": line.sku}).first() is None:
            raise Invalid(f"lines[{i}].sku: unknown SKU {line.sku!r}")
    if order.location is not None:
        if conn.execute(text("SELECT 1 FROM locations WHERE code = :c"), {"c": order.location}).first() is None:
            raise Invalid(f"location: unknown location {order.location!r}")


def _route(conn: Connection, order: OrderIn) -> str | None:
    """The first location, by fulfilment preference, with every line available."""
    needed: dict[str, int] = {}
    for line in order.lines:
        needed[line.sku] = needed.get(line.sku, 0) + line.qty
    for code in _candidates(conn, order):
        if all(available(conn, code, sku) >= qty for sku, qty in needed.items()):
            return code
    return None


def _candidates(conn: Connection, order: OrderIn) -> list[str]:
    if order.location is not None:
        return [order.location]
    rows = conn.execute(text("SELECT code, kind FROM locations ORDER BY code")).all()
    prefs = ROUTE_PREFERENCE[order.fulfilment]
    ranked = sorted((prefs.index(r.kind), r.code) for r in rows if r.kind in prefs)
    return [code for _, code in ranked]


def _add_line(conn: Connection, order_id: str, line_no: int, sku: str, qty: int, location: str | None) -> None:
    pick_bin = _pick_bin(conn, location, sku, qty) if location else None
    conn.execute(
        text(
            "INSERT INTO order_lines (order_id, line_no, sku, qty, pick_bin, qty_picked, qty_short) "
            "VALUES (:o, :n, :s, :q, :b, 0, 0)"
        ),
        {"o": order_id, "n": line_no, "s": sku, "q": qty, "b": pick_bin},
    )
    if location:
        conn.execute(
            text(
                "INSERT INTO reservations (order_id, line_no, location, sku, qty) "
                "VALUES (:o, :n, :l, :s, :q)"
            ),
            {"o": order_id, "n": line_no, "l": location, "s": sku, "q": qty},
        )


def _pick_bin(conn: Connection, location: str, sku: str, qty: int) -> str | None:
    """First bin on the pick path that holds the whole quantity, else the fullest."""
    bins = on_hand_by_bin(conn, location, sku)
    for code, _seq, on_hand in bins:
        if on_hand >= qty:
            return code
    return max(bins, key=lambda b: b[2])[0] if bins else None


def get_order(conn: Connection, order_id: str) -> dict[str, Any]:
    """The order with its lines; raises NotFound."""
    snapshot = order_snapshot(conn, order_id)
    if snapshot is None:
        raise NotFound(f"no order {order_id!r}")
    return snapshot


def list_orders(conn: Connection, location: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    clauses, params = [], {"lim": limit}
    if location:
        clauses.append("location = :loc")
        params["loc"] = location
    if status:
        clauses.append("status = :st")
        params["st"] = status
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        text(f"SELECT id FROM orders {where} ORDER BY created_at, number LIMIT :lim"), params
    ).all()
    return [order_snapshot(conn, r.id) for r in rows]
