"""A store says it cannot fill an order, or one line of it (`order.rejected`, a
request): the hub routes it elsewhere by its policy, or, for a pickup order, holds it
for an administrator. Only associates and supervisors may; never once units are picked."""

from __future__ import annotations

from edge_app.errors import Refused
from edge_app.local.floor_effects import record
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.scans import role_of

__all__ = ["REJECTING_ROLES", "reject_order"]

REJECTING_ROLES = ("associate", "supervisor")


def reject_order(replica: Replica, order_id: str, reason: str, actor: str, role: str | None = None,
                 line_no: int | None = None) -> Feedback:
    """Record the rejection (answered by the hub on the next sync). Refused, nothing
    recorded: the wrong role, no reason, an order or line not here, units picked."""
    try:
        if role_of(replica, role) not in REJECTING_ROLES:
            raise Refused("Only an associate or a supervisor may turn an order away.")
        reason = reason.strip()
        if not reason:
            raise Refused("Say why the order cannot be filled here.")
        order = replica.query_one("SELECT number FROM orders WHERE id = ?", (order_id,))
        if order is None:
            raise Refused("That order is not at this location.")
        lines = replica.query("SELECT line_no, qty_picked FROM order_lines_now WHERE order_id = ?", (order_id,))
        concerned = [r for r in lines if line_no in (None, r["line_no"])]
        if not concerned:
            raise Refused(f"Order {order['number']} has no line {line_no}.")
        if any(r["qty_picked"] for r in concerned):
            raise Refused("Units are picked already: put them back or short the line instead.")
    except Refused as exc:
        return Feedback(False, str(exc), "done")
    with replica.transaction() as conn:
        record(conn, "order.rejected", {"order_id": order_id, "line_no": line_no, "reason": reason[:200]}, actor)
    what = f"line {line_no} of order {order['number']}" if line_no else f"order {order['number']}"
    return Feedback(True, f"Turned away {what}: the hub will route it elsewhere.", "done")
