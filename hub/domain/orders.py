"""Order intake: an order from a channel is stored, then routed by the routing
policy (hub.domain.routing): its units reserved at the chosen location(s) and its
pick bins chosen along the pick path, or parked awaiting stock."""

from __future__ import annotations

from typing import Any

from hub.commands import OrderAccepted, OrderCancelled
from hub.domain.followups import settled
from hub.domain.pickups import assign_pickup
from hub.domain.routing import parse_time, route_order, save_details
from hub.domain.stock import on_hand_by_bin, release_order
from hub.feed import emit_order, order_snapshot
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Fulfilment, Op, OrderIn
from sync.rules import settle_cancel

__all__ = ["create_order", "find_order", "order_accepted", "order_cancelled"]

def find_order(conn: Tx, channel: str, number: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT id FROM orders WHERE channel = :c AND number = :n", {"c": channel, "n": number}).first()
    return order_snapshot(conn, row.id) if row else None


def order_accepted(conn: Tx, _ctx: Context, op: Op, p: OrderAccepted) -> Outcome:
    """Store the order parked, with what the channel said about it, then route it by
    the policy in force at its acceptance time (hub.domain.routing)."""
    order = p.order
    if (problem := _problem(conn, order)) is not None:
        return Outcome.refused("invalid", problem)
    create_order(conn, p.id, p.created_at, order, None, p.pickup_code)
    save_details(conn, p.id, order)
    synced = {k: v.isoformat() for k, v in p.synced.items()} if p.synced is not None else None
    route_order(conn, p.id, "intake", parse_time(p.created_at), op.op_id, synced)
    return Outcome()


def create_order(conn: Tx, order_id: str, created_at: str, order: OrderIn, location: str | None,
                 pickup_code: str | None = None) -> None:
    """Insert a routed order, reserve its lines at `location` and publish it.
    The caller has checked availability, inside `promising(...)`."""
    conn.execute(
        "INSERT INTO orders (id, number, channel, fulfilment, promised_by, customer_name, "
        "location, status, created_at) VALUES (:id, :number, :channel, :fulfilment, "
        ":promised_by, :customer_name, :location, :status, :created_at)",
        {
            "id": order_id,
            "number": order.number,
            "channel": order.channel,
            "fulfilment": order.fulfilment.value,
            "promised_by": order.promised_by.isoformat(),
            "customer_name": order.customer_name,
            "location": location,
            "status": "released" if location else "awaiting_stock",
            "created_at": created_at,
        },
    )
    if order.fulfilment == Fulfilment.PICKUP:
        assign_pickup(conn, order_id, order.promised_by, pickup_code)
    for line_no, line in enumerate(order.lines, start=1):
        _add_line(conn, order_id, line_no, line.sku, line.qty, location)
    emit_order(conn, order_id)


def order_cancelled(conn: Tx, ctx: Context, op: Op, p: OrderCancelled) -> Outcome:
    order = order_snapshot(conn, p.order_id)
    if order is None:
        return Outcome.refused("invalid", f"order_id: no order {p.order_id!r}")
    picked = {l["line_no"]: (l["sku"], l["pick_bin"], l["qty_picked"] - l["qty_handed_over"]) for l in order["lines"]}
    decision = settle_cancel(order["status"], picked)
    if decision.refusal:
        return Outcome.refused(decision.refusal, decision.message)
    conn.execute("UPDATE orders SET status = 'cancelled' WHERE id = :o", {"o": p.order_id})
    release_order(conn, p.order_id)
    conn.execute("DELETE FROM routing_waits WHERE order_id = :o", {"o": p.order_id})
    outcome = settled(conn, ctx, op, decision, order["location"], p.order_id)
    emit_order(conn, p.order_id)
    return outcome


def _problem(conn: Tx, order: OrderIn) -> str | None:
    for i, line in enumerate(order.lines):
        if conn.execute("SELECT 1 FROM items WHERE sku = :s", {"s": line.sku}).first() is None:
            return f"lines[{i}].sku: unknown SKU {line.sku!r}"
    if order.location is not None:
        if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": order.location}).first() is None:
            return f"location: unknown location {order.location!r}"
    return None


def _add_line(conn: Tx, order_id: str, line_no: int, sku: str, qty: int, location: str | None) -> None:
    pick_bin = _pick_bin(conn, location, sku, qty) if location else None
    conn.execute(
        "INSERT INTO order_lines (order_id, line_no, sku, qty, pick_bin, qty_picked, qty_short) "
        "VALUES (:o, :n, :s, :q, :b, 0, 0)",
        {"o": order_id, "n": line_no, "s": sku, "q": qty, "b": pick_bin},
    )
    if location:
        conn.execute(
            "INSERT INTO reservations (order_id, line_no, location, sku, qty) "
            "VALUES (:o, :n, :l, :s, :q)",
            {"o": order_id, "n": line_no, "l": location, "s": sku, "q": qty},
        )


def _pick_bin(conn: Tx, location: str, sku: str, qty: int) -> str | None:
    """First bin on the pick path that holds the whole quantity, else the fullest."""
    bins = on_hand_by_bin(conn, location, sku)
    for code, _seq, on_hand in bins:
        if on_hand >= qty:
            return code
    return max(bins, key=lambda b: b[2])[0] if bins else None
