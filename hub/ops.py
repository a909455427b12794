"""Applying pushed ops: each op exactly once, in device order, in the same
transaction as its (device_id, device_seq) record in the log.

The ops of one push share a transaction, so one commit (one fsync) answers them
all; nothing is answered before that commit. If any op of the group raises, the
group rolls back and is applied again one op per transaction, so the ops before
the failing one still stand and the failure is the failing op's alone."""

from __future__ import annotations

from hub import handlers  # noqa: F401  (registers every op handler)
from hub.db import Database, Tx
from hub.devices import Device
from hub.log import Context, append, apply_op, observe_hlc
from sync.models import Op, OpResult, OpStatus

__all__ = ["push"]


# Ops per transaction: enough to amortise the commit, few enough that other
# devices' pushes don't wait long behind one big backlog.
GROUP_SIZE = 50


def push(db: Database, device: Device, ops: list[Op]) -> list[OpResult]:
    """Apply a batch in order; stops at the first gap (later ops would be gaps too)."""
    results: list[OpResult] = []
    for start in range(0, len(ops), GROUP_SIZE):
        group = ops[start:start + GROUP_SIZE]
        try:
            answered = _apply_group(db, device, group)
        except Exception:
            answered = _apply_singly(db, device, group)
        results.extend(answered)
        if answered[-1].reason_code == "sequence_gap":
            break
    return results


def _apply_group(db: Database, device: Device, ops: list[Op]) -> list[OpResult]:
    results = []
    with db.write() as conn:
        seen: dict[str, int] = {}  # the device's last_seq, once its row is locked
        for op in ops:
            results.append(_apply_one(conn, device, op, seen))
            if results[-1].reason_code == "sequence_gap":
                break
    return results


def _apply_singly(db: Database, device: Device, ops: list[Op]) -> list[OpResult]:
    results = []
    for op in ops:
        with db.write() as conn:
            results.append(_apply_one(conn, device, op))
        if results[-1].reason_code == "sequence_gap":
            break
    return results


def _apply_one(conn: Tx, device: Device, op: Op, seen: dict[str, int] | None = None) -> OpResult:
    seen = {} if seen is None else seen
    earlier = _earlier(conn, device.id, op)
    if earlier is not None and (earlier.device_id, earlier.device_seq) == (device.id, op.device_seq):
        return _answer_resend(op, earlier)
    if earlier is not None:
        return _rejected(op, "op_id_reused", f"op id {op.op_id} was already used by another op")
    if "last_seq" not in seen:
        seen["last_seq"] = _lock_last_seq(conn, device.id)
    last_seq = seen["last_seq"]
    if op.device_seq != last_seq + 1:
        return _rejected(op, "sequence_gap", f"expected op #{last_seq + 1} from this device, got #{op.device_seq}")
    observe_hlc(op.hlc)
    ctx = Context(device.id, device.location)
    # A refusal still consumes the sequence number and is logged, so a re-send
    # gets the same answer and the ops queued behind it can move on.
    result = apply_op(conn, ctx, op)
    append(conn, ctx, op, result)
    conn.execute("UPDATE devices SET last_seq = :s WHERE id = :d", {"s": op.device_seq, "d": device.id})
    seen["last_seq"] = op.device_seq
    return result


def _earlier(conn: Tx, device_id: str, op: Op):
    """The logged op at this (device, seq), else one logged under this op id, else None."""
    rows = conn.execute(
        "SELECT device_id, device_seq, op_id, result FROM op_log "
        "WHERE (device_id = :d AND device_seq = :s) OR op_id = :o",
        {"d": device_id, "s": op.device_seq, "o": op.op_id},
    ).all()
    same_seq = [r for r in rows if (r.device_id, r.device_seq) == (device_id, op.device_seq)]
    return (same_seq or rows or [None])[0]


def _answer_resend(op: Op, earlier) -> OpResult:
    if earlier.op_id != op.op_id:
        return _rejected(op, "sequence_reused", f"op #{op.device_seq} was already used by another op")
    first = OpResult.model_validate_json(earlier.result)
    return first.model_copy(update={"status": OpStatus.DUPLICATE})


def _lock_last_seq(conn: Tx, device_id: str) -> int:
    # FOR UPDATE is a no-op on SQLite, where the write transaction is exclusive already.
    suffix = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
    return conn.execute("SELECT last_seq FROM devices WHERE id = :d" + suffix, {"d": device_id}).scalar_one()


def _rejected(op: Op, code: str, message: str) -> OpResult:
    return OpResult(op_id=op.op_id, device_seq=op.device_seq, status=OpStatus.REJECTED, reason_code=code, message=message)
