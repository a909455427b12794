"""What the other floor ops do to hub state: pickups handed over, cycle counts,
staging places, returns and refund requests."""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from hub.feed import emit_order
from hub.followups import settled
from hub.log import Context, Outcome, register
from hub.picking import line_state, refuse_line
from hub.stock import Movement, move
from sync.kinds import CountRecorded, Disposition, PickupHandedOver, RefundRequested, ReturnReceived, StagingSet
from sync.models import Op
from sync.rules import Decision, settle_attribute, settle_count, settle_handover, settle_refund, settle_return

__all__ = ["RECOUNT_THRESHOLD"]

# A count off by more than this many units asks a supervisor for a recount.
RECOUNT_THRESHOLD = 2


@register("pickup.handed_over")
def pickup_handed_over(conn: Connection, ctx: Context, op: Op, p: PickupHandedOver) -> Outcome:
    for line in p.lines:
        if (refusal := refuse_line(line_state(conn, p.order_id, line.line_no), ctx, p.order_id, line.line_no, None)) is not None:
            return refusal
    status = conn.execute(text("SELECT status FROM orders WHERE id = :o"), {"o": p.order_id}).scalar_one()
    decision = settle_handover(status, sum(line.qty for line in p.lines))
    for line in p.lines:
        conn.execute(
            text("UPDATE order_lines SET qty_handed_over = qty_handed_over + :q WHERE order_id = :o AND line_no = :n"),
            {"q": line.qty, "o": p.order_id, "n": line.line_no},
        )
    remaining = conn.execute(
        text("SELECT COALESCE(SUM(qty_picked - qty_handed_over), 0) FROM order_lines WHERE order_id = :o"),
        {"o": p.order_id},
    ).scalar_one()
    new_status = "handed_over" if remaining <= 0 else "partly_handed_over"
    conn.execute(text("UPDATE orders SET status = :s WHERE id = :o"), {"s": new_status, "o": p.order_id})
    conn.execute(text("DELETE FROM reservations WHERE order_id = :o"), {"o": p.order_id})
    outcome = settled(conn, ctx, op, decision, ctx.location, p.order_id)
    emit_order(conn, p.order_id)
    return outcome


@register("count.recorded")
def count_recorded(conn: Connection, ctx: Context, op: Op, p: CountRecorded) -> Outcome:
    if conn.execute(text("SELECT 1 FROM bins WHERE location = :l AND code = :b"), {"l": ctx.location, "b": p.bin}).first() is None:
        return Outcome.refused("unknown_bin", f"there is no bin {p.bin} at {ctx.location}")
    # The count is a snapshot at the op's HLC time: compare with what the ledger
    # said then, so movements after it stay on top of the adjustment.
    expected = conn.execute(
        text("SELECT COALESCE(SUM(qty), 0) FROM movements WHERE location = :l AND bin = :b AND sku = :s AND hlc <= :t"),
        {"l": ctx.location, "b": p.bin, "s": p.sku, "t": op.hlc},
    ).scalar_one()
    decision = settle_count(p.counted, int(expected), RECOUNT_THRESHOLD, p.sku, p.bin)
    if decision.apply_qty:
        move(conn, Movement(ctx.location, p.bin, p.sku, decision.apply_qty, "count", None, op.op_id, op.hlc))
    return settled(conn, ctx, op, decision, ctx.location)


@register("order.staging_set")
def staging_set(conn: Connection, ctx: Context, op: Op, p: StagingSet) -> Outcome:
    row = conn.execute(text("SELECT location, staging, staging_hlc FROM orders WHERE id = :o"), {"o": p.order_id}).first()
    if row is None:
        return Outcome.refused("unknown_order", f"order {p.order_id} does not exist")
    if row.location != ctx.location:
        return Outcome.refused("out_of_scope", "this order belongs to another location")
    current = (row.staging, row.staging_hlc) if row.staging_hlc else None
    decision = settle_attribute(current, (p.staging, op.hlc))
    if decision.apply_qty:
        conn.execute(text("UPDATE orders SET staging = :s, staging_hlc = :h WHERE id = :o"), {"s": p.staging, "h": op.hlc, "o": p.order_id})
        emit_order(conn, p.order_id)
    return settled(conn, ctx, op, decision, ctx.location, p.order_id)


@register("return.received")
def return_received(conn: Connection, ctx: Context, op: Op, p: ReturnReceived) -> Outcome:
    # Returns are taken wherever the customer walks in, so any location may
    # receive one against any order; the units land at this location.
    tasks, conflict = [], None
    for i, line in enumerate(p.lines):
        if line.disposition == Disposition.RESTOCK and not line.bin:
            return Outcome.refused("malformed_payload", f"payload.lines.{i}.bin: restocked units need the bin they went to")
        if p.order_id is not None and line.line_no is not None:
            found = line_state(conn, p.order_id, line.line_no)
            if found is None or found[2] != line.sku:
                return Outcome.refused("unknown_order_line", f"order line {p.order_id}#{line.line_no} with {line.sku} does not exist")
            decision = settle_return(found[3], line.qty, line.sku)
            tasks.extend(decision.tasks)
            conflict = conflict or decision.conflict
            conn.execute(
                text("UPDATE order_lines SET qty_returned = qty_returned + :q WHERE order_id = :o AND line_no = :n"),
                {"q": line.qty, "o": p.order_id, "n": line.line_no},
            )
        if line.disposition == Disposition.RESTOCK:
            move(conn, Movement(ctx.location, line.bin, line.sku, line.qty, "return", p.order_id, op.op_id, op.hlc))
    conn.execute(
        text("INSERT INTO returns (id, order_id, location, lines, op_id) VALUES (:i, :o, :l, :ls, :op)"),
        {"i": p.return_id, "o": p.order_id, "l": ctx.location, "ls": json.dumps([l.model_dump(mode="json") for l in p.lines]), "op": op.op_id},
    )
    if p.order_id is not None:
        emit_order(conn, p.order_id)
    return settled(conn, ctx, op, Decision(tasks=tuple(tasks), conflict=conflict), ctx.location, p.order_id)


@register("refund.requested")
def refund_requested(conn: Connection, ctx: Context, op: Op, p: RefundRequested) -> Outcome:
    found = line_state(conn, p.order_id, p.line_no)
    if found is None:
        return Outcome.refused("unknown_order_line", f"order line {p.order_id}#{p.line_no} does not exist")
    decision = settle_refund(found[3], p.qty)
    if decision.refusal:
        return Outcome.refused(decision.refusal, decision.message)
    conn.execute(
        text("UPDATE order_lines SET qty_refunded = qty_refunded + :q WHERE order_id = :o AND line_no = :n"),
        {"q": p.qty, "o": p.order_id, "n": p.line_no},
    )
    emit_order(conn, p.order_id)
    return settled(conn, ctx, op, decision, ctx.location, p.order_id)
