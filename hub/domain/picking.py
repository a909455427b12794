"""What picking ops do to hub state. Picks and shorts are facts: they always
stand; the rules in sync.rules decide what a collision turns into."""

from __future__ import annotations

from hub.domain.followups import settled
from hub.domain.pick_state import (
    held_order,
    hold_orders,
    stage_movement,
    status_after_picking,
)
from hub.domain.stages import stamp
from hub.domain.stock import Movement
from hub.feed import emit_order
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.hlc import Timestamp
from sync.kinds import PickClaimed, PickConfirmed, PickReleased, PickShorted
from sync.models import Op
from sync.rules import LineState, settle_claim, settle_pick, settle_short

__all__ = ["line_state", "refuse_line", "settle_order_status", "hold_picked_orders", "pick_confirmed", "pick_shorted", "pick_claimed",
           "pick_released"]


def line_state(conn: Tx, order_id: str, line_no: int):
    """(order location, order status, sku, LineState) or None."""
    row = conn.execute(
        "SELECT o.location, o.status, l.sku, l.qty, l.qty_picked, l.qty_short, l.qty_handed_over, "
        "l.qty_returned, l.qty_refunded FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE l.order_id = :o AND l.line_no = :n",
        {"o": order_id, "n": line_no},
    ).first()
    if row is None:
        return None
    state = LineState(row.qty, row.qty_picked, row.qty_short, row.qty_handed_over, row.qty_returned, row.qty_refunded)
    return row.location, row.status, row.sku, state


def refuse_line(found, ctx: Context, order_id: str, line_no: int, sku: str | None) -> Outcome | None:
    """The refusals any line op gets: no such line, another location's, wrong SKU."""
    if found is None:
        return Outcome.refused("unknown_order_line", f"order line {order_id}#{line_no} does not exist")
    location, _status, line_sku, _state = found
    if location != ctx.location:
        return Outcome.refused("out_of_scope", "this order belongs to another location")
    if sku is not None and line_sku != sku:
        return Outcome.refused("wrong_item", f"line {line_no} asks for {line_sku}, not {sku}")
    return None


def hold_picked_orders(conn: Tx, payloads: list[dict]) -> None:
    # Raw payloads: an id no order could have (a NUL, too long) is left to the payload's
    # validation to refuse; PostgreSQL would fail the whole group on a NUL.
    hold_orders(conn, [p["order_id"] for p in payloads if isinstance(p.get("order_id"), str)
                       and len(p["order_id"]) <= 64 and "\x00" not in p["order_id"]])


def pick_confirmed(conn: Tx, ctx: Context, op: Op, p: PickConfirmed) -> Outcome:
    order = held_order(conn, p.order_id)
    line = order.lines.get(p.line_no) if order else None
    found = None if order is None or line is None else (order.location, order.status, line.sku, None)
    if (refusal := refuse_line(found, ctx, p.order_id, p.line_no, p.sku)) is not None:
        return refusal
    assert order is not None and line is not None  # refuse_line refused an unknown line
    stage_movement(conn, Movement(ctx.here, p.bin, p.sku, -p.qty, "pick", p.order_id, op.op_id, op.hlc))
    state = LineState(line.qty, line.picked, line.short, line.handed_over, line.returned, line.refunded)
    decision = settle_pick(state, order.status, p.qty, p.sku, p.bin)
    if decision.apply_qty:
        line.picked += decision.apply_qty
        if line.reserved is not None:  # picked units no longer need holding
            line.reserved -= decision.apply_qty
        line.changed = True
        order.moved_hlc = op.hlc  # the stage time if this pick closes the order's picking
    if p.tote:  # batch picking: the packer finds the order by its tote
        order.tote, order.changed = p.tote, True
    outcome = settled(conn, ctx, op, decision, ctx.location, p.order_id)
    emit_order(conn, p.order_id)  # its status is settled when it is written back
    return outcome


def pick_shorted(conn: Tx, ctx: Context, op: Op, p: PickShorted) -> Outcome:
    found = line_state(conn, p.order_id, p.line_no)
    if (refusal := refuse_line(found, ctx, p.order_id, p.line_no, p.sku)) is not None:
        return refusal
    _location, status, _sku, line = found
    bin_on_hand = 0
    if p.bin:
        bin_on_hand = conn.execute(
            "SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE location = :l AND bin = :b AND sku = :s",
            {"l": ctx.location, "b": p.bin, "s": p.sku},
        ).scalar_one()
    decision = settle_short(line, status, p.qty, p.reason.value, int(bin_on_hand), p.sku, p.bin)
    _add_to_line(conn, p.order_id, p.line_no, short=decision.apply_qty, reason=p.reason.value)
    _release(conn, p.order_id, p.line_no, decision.apply_qty)
    outcome = settled(conn, ctx, op, decision, ctx.location, p.order_id)
    settle_order_status(conn, p.order_id, op.hlc)
    return outcome


def _add_to_line(conn: Tx, order_id: str, line_no: int, picked: int = 0, short: int = 0, reason: str | None = None) -> None:
    conn.execute(
        "UPDATE order_lines SET qty_picked = qty_picked + :p, qty_short = qty_short + :s, "
        "short_reason = CASE WHEN :s > 0 THEN :r ELSE short_reason END WHERE order_id = :o AND line_no = :n",
        {"p": picked, "s": short, "r": reason, "o": order_id, "n": line_no},
    )


def _release(conn: Tx, order_id: str, line_no: int, qty: int) -> None:
    """Picked or shorted units no longer need holding."""
    if qty <= 0:
        return
    conn.execute(  # down to 0, not deleted: see hub.domain.stock.release_order
        "UPDATE reservations SET qty = CASE WHEN qty > :q THEN qty - :q ELSE 0 END WHERE order_id = :o AND line_no = :n",
        {"q": qty, "o": order_id, "n": line_no},
    )


def settle_order_status(conn: Tx, order_id: str, hlc: str | None = None) -> None:
    """picking while lines are open; then picked, or short if any unit was short.
    Statuses past picking (packed, handed over, cancelled…) are left alone. A change
    is stamped at `hlc` (hub.domain.stages)."""
    rows = conn.execute(
        "SELECT o.status, o.location, l.qty, l.qty_picked, l.qty_short FROM orders o JOIN order_lines l ON l.order_id = o.id "
        "WHERE o.id = :o",
        {"o": order_id},
    ).all()
    if rows:
        status = status_after_picking(rows[0].status, [(r.qty, r.qty_picked, r.qty_short) for r in rows])
        if status != rows[0].status:
            conn.execute("UPDATE orders SET status = :s WHERE id = :o", {"s": status, "o": order_id})
            stamp(conn, order_id, status, rows[0].location, hlc)
    emit_order(conn, order_id)


def pick_claimed(conn: Tx, ctx: Context, op: Op, p: PickClaimed) -> Outcome:
    """A handheld asks to be the one picking this order (rule `pick_claim`)."""
    row = conn.execute("SELECT number, location, status, claimed_by, claimed_actor, claimed_hlc FROM orders WHERE id = :o",
                       {"o": p.order_id}).first()
    if row is None or row.location != ctx.location:
        return Outcome.refused("unknown_order", f"there is no order {p.order_id} at {ctx.location}")
    try:
        at_ms = Timestamp.decode(op.hlc).wall_ms
    except ValueError:
        return Outcome.refused("malformed_clock", f"hlc: {op.hlc[:40]!r} is not a hybrid logical clock time")
    held = None
    if row.claimed_by:
        held = (row.claimed_by, row.claimed_actor or "", Timestamp.decode(row.claimed_hlc).wall_ms)
    decision = settle_claim(row.status, row.number, held, ctx.device_id, at_ms)
    if decision.refusal:
        return Outcome.refused(decision.refusal, decision.message)
    conn.execute("UPDATE orders SET claimed_by = :d, claimed_actor = :a, claimed_hlc = :h WHERE id = :o",
                 {"d": ctx.device_id, "a": op.actor, "h": op.hlc, "o": p.order_id})
    emit_order(conn, p.order_id)
    return settled(conn, ctx, op, decision, ctx.location, p.order_id)


def pick_released(conn: Tx, ctx: Context, op: Op, p: PickReleased) -> Outcome:
    """The handheld lets go of an order it claimed; another's claim is left alone."""
    updated = conn.execute("UPDATE orders SET claimed_by = NULL, claimed_actor = NULL, claimed_hlc = NULL "
                           "WHERE id = :o AND claimed_by = :d", {"o": p.order_id, "d": ctx.device_id}).rowcount
    if updated:
        emit_order(conn, p.order_id)
    return Outcome(message="released" if updated else "this handheld held no claim on it")
