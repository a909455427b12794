"""Pickups (BOPIS, curbside): the code a customer shows, the date an order waits
until, extensions a supervisor asks for, and no-shows the hub expires.

The code and the date are set when the order is accepted, derived from what the
log holds (the order id, the promised time), so a replay reaches the same values.
Expiry is a hub command carrying the sweep's time; handlers never read a clock."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, ConfigDict

from hub.feed import emit_order
from hub.followups import settled
from hub.log import Context, Outcome, hub_payload, register, run_hub_command
from hub.stock import release_order
from hub.tx import Tx
from sync.kinds import PickupExtended
from sync.models import Op
from sync.rules import Conflict, Decision, Task

__all__ = [
    "PICKUP_WINDOW",
    "READY_STATUSES",
    "PickupExpired",
    "pickup_code",
    "assign_pickup",
    "settle_expiry",
    "sweep",
]

# How long a ready pickup order waits past its promised time before it expires.
PICKUP_WINDOW = timedelta(days=3)
# Statuses in which a pickup order waits at the counter for its customer.
READY_STATUSES = ("picked", "short", "packed", "partly_handed_over")
_CLOSED = ("cancelled", "handed_over", "expired", "refused")
# Letters and digits a person can't confuse when reading a code aloud (no 0/O, 1/I/L).
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class PickupExpired(BaseModel):
    """Hub command: a ready pickup order nobody collected by its pickup-by time."""

    model_config = ConfigDict(extra="forbid")
    order_id: str
    at: datetime


def pickup_code(order_id: str) -> str:
    """Six characters derived from the order id: the same id always gives the same code."""
    digest = hashlib.sha256(f"backroom-pickup:{order_id}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(6):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "".join(chars)


def assign_pickup(conn: Tx, order_id: str, promised_by: datetime) -> None:
    """Give a new pickup order its code and pickup-by time (promised + PICKUP_WINDOW)."""
    pickup_by = _utc(promised_by) + PICKUP_WINDOW
    conn.execute(
        "UPDATE orders SET pickup_code = :c, pickup_by = :b WHERE id = :o",
        {"c": pickup_code(order_id), "b": pickup_by.isoformat(), "o": order_id},
    )


def settle_expiry(status: str, pickup_by: str | None, at: datetime, held: list[tuple[str, str | None, int]], number: str) -> Decision:
    """Rule `pickup_no_show`: a ready order past its pickup-by time expires and every
    unit still held at the counter goes back to its bin (a put-back task each).
    `held` is (sku, bin, units) per line. Refused when the order is not due."""
    if status not in READY_STATUSES:
        return Decision(refusal="not_ready", message=f"order {number} is {status.replace('_', ' ')}, not waiting for pickup")
    if pickup_by is None or datetime.fromisoformat(pickup_by) > _utc(at):
        return Decision(refusal="not_due", message=f"order {number} may be collected until {pickup_by}")
    tasks = tuple(
        Task("put_back", f"Put {qty} × {sku} back in {f'bin {bin_code}' if bin_code else 'its bin'}: pickup {number} was not collected.",
             "associate", {"sku": sku, "bin": bin_code, "qty": qty})
        for sku, bin_code, qty in held if qty > 0
    )
    units = sum(qty for _s, _b, qty in held)
    return Decision(tasks=tasks, conflict=Conflict("pickup_no_show", {"pickup_by": pickup_by, "held": units}, f"expired; {units} to put back"))


@register("pickup.expired", hub_payload(PickupExpired))
def pickup_expired(conn: Tx, ctx: Context, op: Op, p: PickupExpired) -> Outcome:
    order = conn.execute("SELECT number, status, pickup_by, location FROM orders WHERE id = :o", {"o": p.order_id}).first()
    if order is None:
        return Outcome.refused("invalid", f"order_id: no order {p.order_id!r}")
    held = conn.execute(
        "SELECT sku, pick_bin, qty_picked - qty_handed_over - qty_refused AS held FROM order_lines "
             "WHERE order_id = :o ORDER BY line_no",
        {"o": p.order_id},
    ).all()
    decision = settle_expiry(order.status, order.pickup_by, p.at, [(r.sku, r.pick_bin, int(r.held)) for r in held], order.number)
    if decision.refusal:
        return Outcome.refused(decision.refusal, decision.message)
    conn.execute("UPDATE orders SET status = 'expired' WHERE id = :o", {"o": p.order_id})
    release_order(conn, p.order_id)
    outcome = settled(conn, ctx, op, decision, order.location, p.order_id)
    emit_order(conn, p.order_id)
    return outcome


@register("pickup.extended")
def pickup_extended(conn: Tx, ctx: Context, op: Op, p: PickupExtended) -> Outcome:
    order = conn.execute("SELECT number, status, pickup_by, location, fulfilment FROM orders WHERE id = :o", {"o": p.order_id}).first()
    if order is None or order.fulfilment != "pickup":
        return Outcome.refused("unknown_order", f"there is no pickup order {p.order_id}")
    if order.location != ctx.location:
        return Outcome.refused("out_of_scope", "this order belongs to another location")
    if order.status in _CLOSED:
        return Outcome.refused("closed", f"order {order.number} is {order.status.replace('_', ' ')}; it can't wait any longer")
    if p.pickup_by.tzinfo is None:
        return Outcome.refused("malformed_payload", "payload.pickup_by: give a time zone")
    new = _utc(p.pickup_by)
    if order.pickup_by and new <= datetime.fromisoformat(order.pickup_by):
        return Outcome.refused("not_later", f"order {order.number} already waits until {order.pickup_by}")
    conn.execute("UPDATE orders SET pickup_by = :b WHERE id = :o", {"b": new.isoformat(), "o": p.order_id})
    emit_order(conn, p.order_id)
    return settled(conn, ctx, op, Decision(message=f"order {order.number} waits until {new.isoformat()}"), ctx.location, p.order_id)


def sweep(conn: Tx, now: datetime) -> list[str]:
    """Expire every ready pickup order past its pickup-by time; returns their numbers.
    Each expiry is its own logged hub command carrying `now`."""
    now = _utc(now)
    rows = conn.execute(
        f"SELECT id, number, pickup_by FROM orders WHERE fulfilment = 'pickup' AND pickup_by IS NOT NULL "
             f"AND status IN ({', '.join(repr(s) for s in READY_STATUSES)}) ORDER BY pickup_by, number",
    ).all()
    expired = []
    for row in rows:
        if datetime.fromisoformat(row.pickup_by) <= now:
            run_hub_command(conn, "pickup.expired", {"order_id": row.id, "at": now.isoformat()}, actor="sweep")
            expired.append(row.number)
    return expired


def _utc(when: datetime) -> datetime:
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
