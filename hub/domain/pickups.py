"""Pickups (BOPIS, curbside): the code a customer shows, the date an order waits
until, extensions a supervisor asks for, and no-shows the hub expires.

The code and the date are set when the order is accepted, from what the log holds:
the hub draws a random code for a channel's order and logs it in `order.accepted`;
a terminal's order gets one derived from its op id, which only that device knows;
orders accepted before codes were drawn keep the one derived from their id. So a
replay reaches the same values.
Expiry is a hub command carrying the sweep's time; handlers never read a clock."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from hub.commands import PickupExpired
from hub.domain.followups import settled
from hub.domain.picking import line_state, refuse_line
from hub.domain.stages import stamp
from hub.domain.stock import release_order
from hub.domain.tasks import close_task
from hub.feed import emit_order
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import PickupExtended, PickupHandedOver, RefusalReason, StagingSet
from sync.models import Op
from sync.rules import Conflict, Decision, Task, settle_attribute, settle_handover

__all__ = [
    "PICKUP_WINDOW",
    "READY_STATUSES",
    "pickup_code",
    "assign_pickup",
    "settle_expiry",
    "pickup_expired",
    "pickup_extended",
    "utc",
    "pickup_handed_over",
    "staging_set",
]

# How long a ready pickup order waits past its promised time before it expires.
PICKUP_WINDOW = timedelta(days=3)
# Statuses in which a pickup order waits at the counter for its customer.
READY_STATUSES = ("picked", "short", "packed", "partly_handed_over")
_CLOSED = ("cancelled", "handed_over", "expired", "refused")
# Letters and digits a person can't confuse when reading a code aloud (no 0/O, 1/I/L).
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def pickup_code(secret: str) -> str:
    """Six characters derived from `secret` (an op id; an order id for old orders)."""
    digest = hashlib.sha256(f"backroom-pickup:{secret}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(6):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "".join(chars)


def assign_pickup(conn: Tx, order_id: str, promised_by: datetime, code: str | None) -> None:
    """Give a new pickup order its code (the one given, or one derived from its id)
    and pickup-by time (promised + PICKUP_WINDOW)."""
    pickup_by = utc(promised_by) + PICKUP_WINDOW
    conn.execute(
        "UPDATE orders SET pickup_code = :c, pickup_by = :b WHERE id = :o",
        {"c": code or pickup_code(order_id), "b": pickup_by.isoformat(), "o": order_id},
    )


def settle_expiry(status: str, pickup_by: str | None, at: datetime, held: list[tuple[str, str | None, int]], number: str) -> Decision:
    """Rule `pickup_no_show`: a ready order past its pickup-by time expires and every
    unit still held at the counter goes back to its bin (a put-back task each).
    `held` is (sku, bin, units) per line. Refused when the order is not due."""
    if status not in READY_STATUSES:
        return Decision(refusal="not_ready", message=f"order {number} is {status.replace('_', ' ')}, not waiting for pickup")
    if pickup_by is None or datetime.fromisoformat(pickup_by) > utc(at):
        return Decision(refusal="not_due", message=f"order {number} may be collected until {pickup_by}")
    tasks = tuple(
        Task("put_back", f"Put {qty} × {sku} back in {f'bin {bin_code}' if bin_code else 'its bin'}: pickup {number} was not collected.",
             "associate", {"sku": sku, "bin": bin_code, "qty": qty})
        for sku, bin_code, qty in held if qty > 0
    )
    units = sum(qty for _s, _b, qty in held)
    return Decision(tasks=tasks, conflict=Conflict("pickup_no_show", {"pickup_by": pickup_by, "held": units}, f"expired; {units} to put back"))


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
    new = utc(p.pickup_by)
    if order.pickup_by and new <= datetime.fromisoformat(order.pickup_by):
        return Outcome.refused("not_later", f"order {order.number} already waits until {order.pickup_by}")
    conn.execute("UPDATE orders SET pickup_by = :b WHERE id = :o", {"b": new.isoformat(), "o": p.order_id})
    emit_order(conn, p.order_id)
    return settled(conn, ctx, op, Decision(message=f"order {order.number} waits until {new.isoformat()}"), ctx.location, p.order_id)


def utc(when: datetime) -> datetime:
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def pickup_handed_over(conn: Tx, ctx: Context, op: Op, p: PickupHandedOver) -> Outcome:
    for line_no in [line.line_no for line in p.lines] + [line.line_no for line in p.refused]:
        if (refusal := refuse_line(line_state(conn, p.order_id, line_no), ctx, p.order_id, line_no, None)) is not None:
            return refusal
    status = conn.execute("SELECT status FROM orders WHERE id = :o", {"o": p.order_id}).scalar_one()
    decision = settle_handover(status, sum(line.qty for line in p.lines))
    for line in p.lines:
        conn.execute(
            "UPDATE order_lines SET qty_handed_over = qty_handed_over + :q WHERE order_id = :o AND line_no = :n",
            {"q": line.qty, "o": p.order_id, "n": line.line_no},
        )
    refused = _refuse_at_counter(conn, p)
    if status == "expired" and p.lines:
        decision = _handover_after_expiry(conn, p)
    decision = Decision(decision.apply_qty, decision.tasks + refused, decision.conflict, decision.refusal, decision.message)
    totals = conn.execute(
        "SELECT COALESCE(SUM(qty_picked - qty_handed_over - qty_refused), 0) AS held, "
             "COALESCE(SUM(qty_handed_over), 0) AS handed FROM order_lines WHERE order_id = :o",
        {"o": p.order_id},
    ).one()
    new_status = "partly_handed_over" if totals.held > 0 else "handed_over" if totals.handed > 0 else "refused"
    conn.execute("UPDATE orders SET status = :s WHERE id = :o", {"s": new_status, "o": p.order_id})
    stamp(conn, p.order_id, new_status, ctx.location, op.hlc)
    release_order(conn, p.order_id)
    outcome = settled(conn, ctx, op, decision, ctx.location, p.order_id)
    emit_order(conn, p.order_id)
    return outcome


def _refuse_at_counter(conn: Tx, p: PickupHandedOver) -> tuple[Task, ...]:
    """Units the customer refused: counted on the line, and a put-back task each."""
    tasks = []
    for line in p.refused:
        conn.execute(
            "UPDATE order_lines SET qty_refused = qty_refused + :q WHERE order_id = :o AND line_no = :n",
            {"q": line.qty, "o": p.order_id, "n": line.line_no},
        )
        sku, bin_code = conn.execute(
            "SELECT sku, pick_bin FROM order_lines WHERE order_id = :o AND line_no = :n", {"o": p.order_id, "n": line.line_no}
        ).one()
        reason = line.reason.value.replace("_", " ")
        if line.reason == RefusalReason.DAMAGED:
            # A damaged unit is not stock to sell again: it goes to damage/quarantine, and
            # its task moves nothing back into the ledger.
            tasks.append(Task("quarantine", f"Take {line.qty} × {sku} to damage/quarantine, not back to the shelf: "
                                            f"refused at pickup ({reason}).", "associate", {"sku": sku, "qty": line.qty}))
            continue
        where = f"bin {bin_code}" if bin_code else "its bin"
        tasks.append(Task("put_back", f"Put {line.qty} × {sku} back in {where}: refused at pickup ({reason}).", "associate",
                          {"sku": sku, "bin": bin_code, "qty": line.qty}))
    return tuple(tasks)


def _handover_after_expiry(conn: Tx, p: PickupHandedOver) -> Decision:
    """Rule `handover_vs_expiry`: the customer came after all and has the goods; the
    put-back tasks the expiry raised for those SKUs are no longer work to do."""
    skus = {row.sku for row in conn.execute(
        "SELECT sku FROM order_lines WHERE order_id = :o AND line_no IN :n",
        {"o": p.order_id, "n": [line.line_no for line in p.lines]},
    )}
    for row in conn.execute(
        "SELECT id, details FROM tasks WHERE order_id = :o AND kind = 'put_back' AND status = 'open' ORDER BY id",
        {"o": p.order_id},
    ).all():
        if json.loads(row.details).get("sku") in skus:
            close_task(conn, row.id, "cancelled")
    units = sum(line.qty for line in p.lines)
    return Decision(apply_qty=units, conflict=Conflict("handover_vs_expiry", {"handed_over": units}, "handover stands; put-back tasks withdrawn"))


def staging_set(conn: Tx, ctx: Context, op: Op, p: StagingSet) -> Outcome:
    row = conn.execute("SELECT location, staging, staging_hlc FROM orders WHERE id = :o", {"o": p.order_id}).first()
    if row is None:
        return Outcome.refused("unknown_order", f"order {p.order_id} does not exist")
    if row.location != ctx.location:
        return Outcome.refused("out_of_scope", "this order belongs to another location")
    current = (row.staging, row.staging_hlc) if row.staging_hlc else None
    decision = settle_attribute(current, (p.place, op.hlc))
    if decision.apply_qty:
        conn.execute("UPDATE orders SET staging = :s, staging_hlc = :h WHERE id = :o", {"s": p.place, "h": op.hlc, "o": p.order_id})
        emit_order(conn, p.order_id)
    return settled(conn, ctx, op, decision, ctx.location, p.order_id)
