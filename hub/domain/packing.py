"""What packing and shipping ops do to hub state. Closing a carton and handing
it to the carrier are facts: they stand; a collision (packing a cancelled order,
packing more than was picked) becomes a task for a person.

Order statuses: picked (or short) → packing → packed → shipped."""

from __future__ import annotations

import json

from hub.domain.carriers import record_carton, record_handover
from hub.domain.followups import settled
from hub.domain.stages import stamp
from hub.domain.stock import release_order
from hub.feed import emit_order
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import CartonClosed, HandedToCarrier
from sync.models import Op
from sync.rules import Conflict, Decision, Task

__all__ = ["settle_carton", "settle_shipment", "PACKABLE", "carton_closed", "handed_to_carrier"]

# Statuses in which closing a carton moves the order on.
PACKABLE = frozenset({"picked", "short", "packing", "packed"})


def settle_carton(status: str, over_packed: dict[int, int], carton_id: str) -> tuple[str | None, Decision]:
    """(new status or None to keep it, decision). Pure. `over_packed`: line → units
    packed beyond those picked."""
    tasks, conflict = [], None
    if status not in PACKABLE:
        tasks.append(Task("unpack", f"Carton {carton_id} was packed for an order that is {status}: "
                          "open it and put the units back.", "supervisor", {"carton_id": carton_id}))
        conflict = Conflict("carton_for_closed_order", {"status": status, "carton_id": carton_id}, "carton recorded; unpack task")
        return None, Decision(tasks=tuple(tasks), conflict=conflict)
    if over_packed:
        tasks.append(Task("check_carton", f"Carton {carton_id} holds more than was picked: check it against the order.",
                          "supervisor", {"carton_id": carton_id, "over": {str(k): v for k, v in over_packed.items()}}))
        conflict = Conflict("packed_more_than_picked", {"over": {str(k): v for k, v in over_packed.items()}}, "carton recorded; check task")
    return "packing", Decision(tasks=tuple(tasks), conflict=conflict)


def settle_shipment(status: str, order_id: str) -> tuple[str | None, Decision]:
    """(new status or None, decision). Pure."""
    if status in ("packed", "packing", "shipped"):
        return "shipped", Decision()
    task = Task("recall_shipment", f"Order {order_id} went to the carrier while {status}: ask the carrier to return it.",
                "supervisor", {"order_id": order_id})
    return None, Decision(tasks=(task,), conflict=Conflict("shipped_while_" + status, {"status": status}, "handover recorded; recall task"))


def _order(conn: Tx, ctx: Context, order_id: str):
    row = conn.execute("SELECT location, status FROM orders WHERE id = :o", {"o": order_id}).first()
    if row is None:
        return None, Outcome.refused("unknown_order", f"order {order_id} does not exist")
    if row.location != ctx.location:
        return None, Outcome.refused("out_of_scope", "this order belongs to another location")
    return row, None


def carton_closed(conn: Tx, ctx: Context, op: Op, p: CartonClosed) -> Outcome:
    order, refusal = _order(conn, ctx, p.order_id)
    if refusal:
        return refusal
    if conn.execute("SELECT 1 FROM cartons WHERE carton_id = :c", {"c": p.carton_id}).first():
        return Outcome.refused("carton_exists", f"carton {p.carton_id} was closed already")
    lines = {r.line_no: r for r in conn.execute(
        "SELECT line_no, sku, qty_picked, qty_packed FROM order_lines WHERE order_id = :o", {"o": p.order_id})}
    over: dict[int, int] = {}
    for packed in p.contents:
        line = lines.get(packed.line_no)
        if line is None or line.sku != packed.sku:
            return Outcome.refused("wrong_item", f"order {p.order_id} has no line {packed.line_no} with {packed.sku}")
        excess = line.qty_packed + packed.qty - max(line.qty_picked, line.qty_packed)
        if excess > 0:
            over[packed.line_no] = excess
    status, decision = settle_carton(order.status, over, p.carton_id)
    conn.execute(
        "INSERT INTO cartons (carton_id, order_id, location, carton_type, weight_g, contents, status, op_id) "
             "VALUES (:c, :o, :l, :t, :w, :x, 'closed', :op)",
        {"c": p.carton_id, "o": p.order_id, "l": ctx.location, "t": p.carton_type, "w": p.weight_g,
         "x": json.dumps([c.model_dump() for c in p.contents]), "op": op.op_id},
    )
    differs = record_carton(conn, op, p, ctx.here)  # carriers: the service on its label, its tracking
    for packed in p.contents:
        conn.execute("UPDATE order_lines SET qty_packed = qty_packed + :q WHERE order_id = :o AND line_no = :n",
                     {"q": packed.qty, "o": p.order_id, "n": packed.line_no})
    if status is not None:
        left = conn.execute("SELECT COALESCE(SUM(CASE WHEN qty_picked > qty_packed THEN qty_picked - qty_packed ELSE 0 END), 0) "
                                 "FROM order_lines WHERE order_id = :o",
                            {"o": p.order_id}).scalar_one()
        # A packed order's tote is empty again: the next batch may use it.
        status = "packed" if left <= 0 else "packing"
        conn.execute("UPDATE orders SET status = :s WHERE id = :o", {"s": status, "o": p.order_id})
        stamp(conn, p.order_id, status, ctx.location, op.hlc)
        if status == "packed":
            conn.execute("UPDATE orders SET tote = NULL WHERE id = :o", {"o": p.order_id})
    outcome = settled(conn, ctx, op, decision, ctx.location, p.order_id)
    emit_order(conn, p.order_id)
    if differs:
        return Outcome(outcome.refusal, f"{outcome.message} {differs}".strip(), outcome.compensations)
    return outcome


def handed_to_carrier(conn: Tx, ctx: Context, op: Op, p: HandedToCarrier) -> Outcome:
    order, refusal = _order(conn, ctx, p.order_id)
    if refusal:
        return refusal
    known = {r.carton_id for r in conn.execute("SELECT carton_id FROM cartons WHERE order_id = :o", {"o": p.order_id})}
    if missing := [c for c in p.cartons if c not in known]:
        return Outcome.refused("unknown_carton", f"carton {missing[0]} was never closed for this order")
    status, decision = settle_shipment(order.status, p.order_id)
    for carton_id in p.cartons:
        conn.execute("UPDATE cartons SET status = 'shipped' WHERE carton_id = :c", {"c": carton_id})
    record_handover(conn, op, p, ctx.here)  # carriers: what the manifest lists
    if status is not None:
        conn.execute("UPDATE orders SET status = :s, tote = NULL WHERE id = :o", {"s": status, "o": p.order_id})
        stamp(conn, p.order_id, status, ctx.location, op.hlc)
        release_order(conn, p.order_id)  # gone to the carrier
    outcome = settled(conn, ctx, op, decision, ctx.location, p.order_id)
    emit_order(conn, p.order_id)
    return outcome
