"""What the hub's foresight recorded: an open order's SLA risk (hub.insight.risk logs
`order.risk_assessed` when it changes) and whether a device is online
(hub.insight.devices logs `device.status_set`). Stored, so the console, the API and the
devices read them without recomputing, and a replay reaches the same rows."""

from __future__ import annotations

from hub.commands import DeviceStatusSet, RiskAssessed
from hub.feed import emit_order
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op

__all__ = ["risk_assessed", "device_status_set"]


def risk_assessed(conn: Tx, ctx: Context, op: Op, p: RiskAssessed) -> Outcome:
    """Record the level; `ok` clears it. An order that is gone is refused."""
    if conn.execute("SELECT 1 FROM orders WHERE id = :o", {"o": p.order_id}).first() is None:
        return Outcome.refused("unknown_order", f"no order {p.order_id}")
    emit_order(conn, p.order_id)  # the store's devices put at-risk orders first on their lists
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


def device_status_set(conn: Tx, ctx: Context, op: Op, p: DeviceStatusSet) -> Outcome:
    """Record the device's state as the sweep saw it."""
    conn.execute(
        "INSERT INTO device_status (device_id, location, online, unsent_ops, last_seen_at, changed_at) "
        "VALUES (:d, :l, :o, :u, :s, :a) ON CONFLICT (device_id) DO UPDATE SET location = excluded.location, "
        "online = excluded.online, unsent_ops = excluded.unsent_ops, last_seen_at = excluded.last_seen_at, "
        "changed_at = excluded.changed_at",
        {"d": p.device_id, "l": p.location, "o": p.online, "u": p.unsent_ops, "s": p.last_seen_at, "a": p.at.isoformat()},
    )
    return Outcome()
