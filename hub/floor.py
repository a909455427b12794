"""What the other floor ops do to hub state: pickups handed over (and refused at
the counter), cycle counts, stock moved between bins, staging places, returns,
refund requests, and tasks people finished."""

from __future__ import annotations

import json

from hub.feed import emit, emit_order
from hub.followups import settled
from hub.log import Context, Outcome, register
from hub.picking import line_state, refuse_line
from hub.stock import Movement, move, release_order
from hub.tx import Tx
from sync.kinds import (
    CountRecorded,
    Disposition,
    PickupHandedOver,
    RefundRequested,
    ReturnReceived,
    StagingSet,
    StockMoved,
    TaskDone,
)
from sync.models import Op
from sync.rules import (
    Conflict,
    Decision,
    Task,
    settle_attribute,
    settle_count,
    settle_handover,
    settle_refund,
    settle_return,
)

__all__ = ["RECOUNT_THRESHOLD", "close_task"]

# A count off by more than this many units asks a supervisor for a recount.
RECOUNT_THRESHOLD = 2


@register("pickup.handed_over")
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
        where = f"bin {bin_code}" if bin_code else "its bin"
        reason = line.reason.value.replace("_", " ")
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


@register("count.recorded")
def count_recorded(conn: Tx, ctx: Context, op: Op, p: CountRecorded) -> Outcome:
    if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": ctx.location, "b": p.bin}).first() is None:
        return Outcome.refused("unknown_bin", f"there is no bin {p.bin} at {ctx.location}")
    # The count is a snapshot at the op's HLC time: compare with what the ledger
    # said then, so movements after it stay on top of the adjustment.
    expected = conn.execute(
        "SELECT COALESCE(SUM(qty), 0) FROM movements WHERE location = :l AND bin = :b AND sku = :s AND hlc <= :t",
        {"l": ctx.location, "b": p.bin, "s": p.sku, "t": op.hlc},
    ).scalar_one()
    decision = settle_count(p.counted, int(expected), RECOUNT_THRESHOLD, p.sku, p.bin)
    if decision.apply_qty:
        reason = f"count:{p.reason.value}" if p.reason else "count"
        move(conn, Movement(ctx.location, p.bin, p.sku, decision.apply_qty, reason, None, op.op_id, op.hlc))
    return settled(conn, ctx, op, decision, ctx.location)


@register("order.staging_set")
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


@register("return.received")
def return_received(conn: Tx, ctx: Context, op: Op, p: ReturnReceived) -> Outcome:
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
                "UPDATE order_lines SET qty_returned = qty_returned + :q WHERE order_id = :o AND line_no = :n",
                {"q": line.qty, "o": p.order_id, "n": line.line_no},
            )
        if line.disposition == Disposition.RESTOCK:
            move(conn, Movement(ctx.location, line.bin, line.sku, line.qty, "return", p.order_id, op.op_id, op.hlc))
    conn.execute(
        "INSERT INTO returns (id, order_id, location, lines, op_id) VALUES (:i, :o, :l, :ls, :op)",
        {"i": p.return_id, "o": p.order_id, "l": ctx.location, "ls": json.dumps([l.model_dump(mode="json") for l in p.lines]), "op": op.op_id},
    )
    if p.order_id is not None:
        emit_order(conn, p.order_id)
    return settled(conn, ctx, op, Decision(tasks=tuple(tasks), conflict=conflict), ctx.location, p.order_id)


@register("refund.requested")
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


@register("stock.moved")
def stock_moved(conn: Tx, ctx: Context, op: Op, p: StockMoved) -> Outcome:
    for code in (p.from_bin, p.to_bin):
        if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": ctx.location, "b": code}).first() is None:
            return Outcome.refused("unknown_bin", f"there is no bin {code} at {ctx.location}")
    if p.from_bin == p.to_bin:
        return Outcome.refused("same_bin", "a move needs two different bins")
    move(conn, Movement(ctx.location, p.from_bin, p.sku, -p.qty, "move", None, op.op_id, op.hlc))
    move(conn, Movement(ctx.location, p.to_bin, p.sku, p.qty, "move", None, op.op_id, op.hlc))
    left = conn.execute(
        "SELECT on_hand FROM stock WHERE location = :l AND bin = :b AND sku = :s", {"l": ctx.location, "b": p.from_bin, "s": p.sku}
    ).scalar_one()
    decision = Decision(apply_qty=p.qty)
    if left < 0:
        # Rule `move_beyond_on_hand`: the units moved (a fact); the ledger was wrong about the source bin.
        decision = Decision(
            apply_qty=p.qty,
            tasks=(Task("recount", f"Recount bin {p.from_bin}: {p.qty} × {p.sku} were moved out but the ledger held {left + p.qty}.",
                        "supervisor", {"sku": p.sku, "bin": p.from_bin, "expected": left}),),
            conflict=Conflict("move_beyond_on_hand", {"on_hand": left + p.qty, "moved": p.qty}, "move stands; source bin recount"),
        )
    return settled(conn, ctx, op, decision, ctx.location)


@register("task.done")
def task_done(conn: Tx, ctx: Context, op: Op, p: TaskDone) -> Outcome:
    row = _find_task(conn, ctx.location, p)
    if row is None:
        return Outcome.refused("unknown_task", f"there is no task {p.task_id} at {ctx.location}")
    if row.status != "open":
        return Outcome(message=f"task {p.task_id} was already {row.status}")
    details = json.loads(row.details)
    bin_code = p.bin or details.get("bin")
    if row.kind == "put_back" and details.get("sku") and details.get("qty") and bin_code:
        # Units put back on a shelf are on hand again: the ledger follows the shelf.
        move(conn, Movement(ctx.location, bin_code, details["sku"], int(details["qty"]), "put_back", row.order_id, op.op_id, op.hlc))
    close_task(conn, row.id, "done")
    return Outcome(message=f"task {p.task_id} done")


def _find_task(conn: Tx, location: str | None, p: TaskDone):
    """The task by id when it still reads as the device saw it; else the oldest open
    task with the same kind and sentence (a replay may number tasks differently)."""
    row = conn.execute("SELECT * FROM tasks WHERE id = :i AND location = :l", {"i": p.task_id, "l": location}).first()
    if row is not None and row.kind == p.kind and row.sentence == p.sentence:
        return row
    return conn.execute(
        "SELECT * FROM tasks WHERE location = :l AND kind = :k AND sentence = :s ORDER BY status <> 'open', id",
        {"l": location, "k": p.kind, "s": p.sentence},
    ).first()


def close_task(conn: Tx, task_id: int, status: str) -> None:
    """Set a task's status and tell its location's devices."""
    conn.execute("UPDATE tasks SET status = :s WHERE id = :i", {"s": status, "i": task_id})
    row = conn.execute("SELECT * FROM tasks WHERE id = :i", {"i": task_id}).one()
    emit(conn, row.location, "task", str(row.id), {
        "id": row.id, "kind": row.kind, "for_role": row.for_role, "sentence": row.sentence,
        "details": json.loads(row.details), "order_id": row.order_id, "status": status,
    })
