"""Applying pushed ops: each op exactly once, in device order, in the same
transaction as its (device_id, device_seq) record in the log.

The ops of one push share a transaction, and pushes that wait for the writer
share it too (hub.group_commit), so one commit (one fsync) answers them all;
nothing is answered before that commit. If any op of the group raises, the
group rolls back and is applied again one op per transaction, so the ops before
the failing one still stand and the failure is the failing op's alone.

Within a group the log rows, the device's last_seq and the change feed are
written once, after the last op: a pick's effects on an order are published as
the order's state after the group, not once per unit picked."""

from __future__ import annotations

from hub import handlers  # noqa: F401  (registers every op handler)
from hub.db import Database, Tx
from hub.devices import Device
from hub.log import Context, apply_op, log_ops, observe_hlc
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
            answered = db.group_commit.run(lambda tx, group=group: _Group(tx, device).apply(group))
        except Exception:
            answered = _apply_singly(db, device, group)
        results.extend(answered)
        if answered[-1].reason_code == "sequence_gap":
            break
    return results


def _apply_singly(db: Database, device: Device, ops: list[Op]) -> list[OpResult]:
    results: list[OpResult] = []
    for op in ops:
        with db.write() as conn:
            results.extend(_Group(conn, device).apply([op]))
        if results[-1].reason_code == "sequence_gap":
            break
    return results


class _Group:
    """One device's ops in one transaction."""

    def __init__(self, conn: Tx, device: Device):
        self.conn = conn
        self.device = device
        self.ctx = Context(device.id, device.location)
        self.last_seq: int | None = None  # read (and locked) at the first new op
        self.logged: list[tuple[Context, Op, OpResult]] = []
        self.earlier: dict[tuple[str, int] | str, tuple[str, int, str, OpResult | str]] = {}

    def apply(self, ops: list[Op]) -> list[OpResult]:
        self._look_up_earlier(ops)
        results = []
        for op in ops:
            results.append(self._one(op))
            if not callable(results[-1]) and results[-1].reason_code == "sequence_gap":
                break
        if self.logged:
            log_ops(self.conn, self.logged)
            self.conn.execute("UPDATE devices SET last_seq = :s WHERE id = :d", {"s": self.last_seq, "d": self.device.id})
        # A re-send inside the same push is answered after the log has the first answer's feed position.
        return [r() if callable(r) else r for r in results]

    def _look_up_earlier(self, ops: list[Op]) -> None:
        """Logged ops at these (device, seq)s or under these op ids, in one query."""
        # Two index look-ups; with OR between them PostgreSQL scanned the whole log.
        rows = self.conn.execute(
            "SELECT device_id, device_seq, op_id, result FROM op_log WHERE device_id = :d AND device_seq IN :seqs "
            "UNION ALL SELECT device_id, device_seq, op_id, result FROM op_log WHERE op_id IN :ids",
            {"d": self.device.id, "seqs": [op.device_seq for op in ops], "ids": [op.op_id for op in ops]},
        ).all()
        for row in rows:
            self._remember(row.device_id, row.device_seq, row.op_id, row.result)

    def _remember(self, device_id: str, device_seq: int, op_id: str, result: OpResult | str) -> None:
        entry = (device_id, device_seq, op_id, result)
        self.earlier[(device_id, device_seq)] = entry
        self.earlier.setdefault(op_id, entry)

    def _one(self, op: Op):
        same_seq = self.earlier.get((self.device.id, op.device_seq))
        if same_seq is not None:
            return _answer_resend(op, same_seq)
        if op.op_id in self.earlier:
            return _rejected(op, "op_id_reused", f"op id {op.op_id} was already used by another op")
        if self.last_seq is None:
            self.last_seq = _lock_last_seq(self.conn, self.device.id)
        if op.device_seq != self.last_seq + 1:
            return _rejected(op, "sequence_gap", f"expected op #{self.last_seq + 1} from this device, got #{op.device_seq}")
        observe_hlc(op.hlc)
        # A refusal still consumes the sequence number and is logged, so a re-send
        # gets the same answer and the ops queued behind it can move on.
        result = apply_op(self.conn, self.ctx, op)
        self.logged.append((self.ctx, op, result))
        self._remember(self.device.id, op.device_seq, op.op_id, result)
        self.last_seq = op.device_seq
        return result


def _answer_resend(op: Op, earlier: tuple[str, int, str, OpResult | str]):
    _device_id, _seq, op_id, first = earlier
    if op_id != op.op_id:
        return _rejected(op, "sequence_reused", f"op #{op.device_seq} was already used by another op")
    if isinstance(first, OpResult):  # applied earlier in this group: answer once it is logged
        return lambda: first.model_copy(update={"status": OpStatus.DUPLICATE})
    return OpResult.model_validate_json(first).model_copy(update={"status": OpStatus.DUPLICATE})


def _lock_last_seq(conn: Tx, device_id: str) -> int:
    # FOR UPDATE is a no-op on SQLite, where the write transaction is exclusive already.
    suffix = "" if conn.is_sqlite else " FOR UPDATE"
    return conn.execute("SELECT last_seq FROM devices WHERE id = :d" + suffix, {"d": device_id}).scalar_one()


def _rejected(op: Op, code: str, message: str) -> OpResult:
    return OpResult(op_id=op.op_id, device_seq=op.device_seq, status=OpStatus.REJECTED, reason_code=code, message=message)
