"""Returns and refunds: units a customer brings back land at the location that took
them (restocked to a bin, or set aside); refund requests are checked against what
was sold and returned."""

from __future__ import annotations

import json

from hub.domain.followups import settled
from hub.domain.picking import line_state
from hub.domain.stock import Movement, move
from hub.feed import emit_order
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import Disposition, RefundRequested, ReturnReceived
from sync.models import Op
from sync.rules import Conflict, Decision, LineState, Task, settle_refund, settle_return, settle_return_elsewhere, units_out

__all__ = ["return_received", "refund_requested"]


def return_received(conn: Tx, ctx: Context, op: Op, p: ReturnReceived) -> Outcome:
    # Returns are taken wherever the customer walks in, so any location may
    # receive one against any order; the units land at this location.
    if conn.execute("SELECT 1 FROM returns WHERE id = :i", {"i": p.return_id}).first() is not None:
        return Outcome.refused("return_exists", f"return {p.return_id} was recorded already")
    if (refusal := _elsewhere_refusal(conn, ctx, p)) is not None:
        return refusal
    tasks: list[Task] = []
    conflict: Conflict | None = None
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
                "UPDATE order_lines SET qty_returned = qty_returned + :q WHERE order_id = :o AND line_no = :n",
                {"q": line.qty, "o": p.order_id, "n": line.line_no},
            )
        if line.disposition == Disposition.RESTOCK:
            move(conn, Movement(ctx.here, line.bin or "", line.sku, line.qty, "return", p.order_id, op.op_id, op.hlc))
    conn.execute(
        "INSERT INTO returns (id, order_id, location, lines, op_id) VALUES (:i, :o, :l, :ls, :op)",
        {"i": p.return_id, "o": p.order_id, "l": ctx.location, "ls": json.dumps([l.model_dump(mode="json") for l in p.lines]), "op": op.op_id},
    )
    if p.order_id is not None:
        emit_order(conn, p.order_id)
    return settled(conn, ctx, op, Decision(tasks=tuple(tasks), conflict=conflict), ctx.location, p.order_id)


def refund_requested(conn: Tx, ctx: Context, op: Op, p: RefundRequested) -> Outcome:
    if p.return_id is not None and conn.execute("SELECT 1 FROM returns WHERE id = :i", {"i": p.return_id}).first() is None:
        return Outcome.refused("return_not_recorded", f"return {p.return_id} was not recorded (it was refused): nothing to refund")
    found = line_state(conn, p.order_id, p.line_no)
    if found is None:
        return Outcome.refused("unknown_order_line", f"order line {p.order_id}#{p.line_no} does not exist")
    decision = settle_refund(found[3], p.qty)
    if decision.refusal:
        return Outcome.refused(decision.refusal, decision.message)
    conn.execute(
        "UPDATE order_lines SET qty_refunded = qty_refunded + :q WHERE order_id = :o AND line_no = :n",
        {"q": p.qty, "o": p.order_id, "n": p.line_no},
    )
    emit_order(conn, p.order_id)
    return settled(conn, ctx, op, decision, ctx.location, p.order_id)


# -- returns from any channel ------------------------------------------------------------


def _elsewhere_refusal(conn: Tx, ctx: Context, p: ReturnReceived) -> Outcome | None:
    """For an order of another location (shipped from a warehouse, returned at a store),
    the whole return is refused when any line brings back more than reached its customer
    (sync.rules.settle_return_elsewhere); the same store's own orders keep the fact
    path below. None: go on."""
    if p.order_id is None:
        return None
    order = conn.execute("SELECT location, fulfilment, status FROM orders WHERE id = :o", {"o": p.order_id}).first()
    if order is None or order.location == ctx.location:
        return None
    lines = {r.line_no: r for r in conn.execute(
        "SELECT line_no, sku, qty, qty_packed, qty_handed_over, qty_returned, qty_refunded FROM order_lines "
        "WHERE order_id = :o", {"o": p.order_id})}
    coming: dict[int, int] = {}
    for line in p.lines:
        row = lines.get(line.line_no) if line.line_no is not None else None
        if row is None or row.sku != line.sku:
            continue  # no such line: refused as an unknown order line by the handler
        coming[row.line_no] = coming.get(row.line_no, 0) + line.qty
        sold = units_out(order.fulfilment, order.status, row.qty_packed, row.qty_handed_over)
        state = LineState(row.qty, handed_over=row.qty_handed_over, returned=row.qty_returned, refunded=row.qty_refunded)
        decision = settle_return_elsewhere(state, sold, coming[row.line_no], line.sku)
        if decision.refusal:
            return Outcome.refused(decision.refusal, f"order line {row.line_no}: {decision.message}")
    return None
