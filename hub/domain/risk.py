"""An open order's SLA risk, as the hub last assessed it (hub.insight.risk computes it
and logs `order.risk_assessed` when it changes): stored, so the console, the API and
the devices read it without recomputing, and a replay reaches the same rows."""

from __future__ import annotations

from hub.commands import RiskAssessed
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op

__all__ = ["risk_assessed"]


def risk_assessed(conn: Tx, ctx: Context, op: Op, p: RiskAssessed) -> Outcome:
    """Record the level; `ok` clears it. An order that is gone is refused."""
    if conn.execute("SELECT 1 FROM orders WHERE id = :o", {"o": p.order_id}).first() is None:
        return Outcome.refused("unknown_order", f"no order {p.order_id}")
    if p.level == "ok":
        conn.execute("DELETE FROM order_risk WHERE order_id = :o", {"o": p.order_id})
        return Outcome()
    conn.execute(
        "INSERT INTO order_risk (order_id, location, level, reason, assessed_at) VALUES (:o, :l, :v, :r, :a) "
        "ON CONFLICT (order_id) DO UPDATE SET location = excluded.location, level = excluded.level, "
        "reason = excluded.reason, assessed_at = excluded.assessed_at",
        {"o": p.order_id, "l": p.location, "v": p.level, "r": p.reason, "a": p.at.isoformat()},
    )
    return Outcome()
