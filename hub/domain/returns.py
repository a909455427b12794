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
from sync.rules import Conflict, Decision, Task, settle_refund, settle_return

__all__ = ["return_received", "refund_requested"]


def return_received(conn: Tx, ctx: Context, op: Op, p: ReturnReceived) -> Outcome:
    # Returns are taken wherever the customer walks in, so any location may
    # receive one against any order; the units land at this location.
    if conn.execute("SELECT 1 FROM returns WHERE id = :i", {"i": p.return_id}).first() is not None:
        return Outcome.refused("return_exists", f"return {p.return_id} was recorded already")
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
