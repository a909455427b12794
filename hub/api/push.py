"""Applying pushed ops: each op exactly once, in device order, in the same
transaction as its (device_id, device_seq) record in the log.

Pushes share write transactions (hub.store.group_commit), so one commit (one fsync)
answers them all; nothing is answered before that commit. If a group of ops
raises, it is applied again one op per transaction, so the ops before the
failing one still stand and the failure is the failing op's alone.

A transaction's log rows, the devices' last_seq and the change feed are written
once, when it flushes: a pick's effects on an order are published as the order's
state after the transaction, not once per unit picked. Until then the ops this
transaction applied live in its `PushLog`, which later pushes in the same
transaction consult before the table: a re-send racing its original into the
same group is answered `duplicate`, never applied twice.

Before a group runs, `_PushWork.prepare_group` reads in bulk what its pushes
will look up: each device's last logged seq (a device's log is gap-free, so only
ops at or below it can be re-sends) and what each op kind's handler will read
(the handler table's `prefetch`). An op id used before by another op is refused
(`op_id_reused`); in a group of several pushes the op log's unique index finds it,
not a look-up: the insert fails, the group rolls back, and each push runs again
alone, where its op ids are looked up first. New ops' ids are almost never in the
log, and looking them up was a large share of a group's work on PostgreSQL.

No poison op: an op whose handler raises when it runs alone is tried once more,
then answered `rejected` (`incident`, or `constraint_violation` for a broken unique
or check constraint) with an incident id, logged with its traceback and in the
audit trail, so the device's queue moves on. Only a database that cannot be reached
(an operational error) fails the push, which the device sends again later; a full disk
fails it as StorageFull (503, `hub_storage_full`), the group rolled back whole."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import uuid
from dataclasses import dataclass, field
from typing import Callable, Union

import psycopg
from sqlalchemy.exc import OperationalError

from hub.audit import record_audit
from hub.credentials import Device
from hub.errors import StorageFull
from hub.escrow_evidence import evidence_refusal
from hub.log import INCIDENT_CODES, apply_op, observe_hlc, prefetch, record_device_seqs, write_log
from hub.outcome import Context
from hub.return_codes import return_code_refusal
from hub.store.group_commit import WriterClosed
from hub.store.db import Database
from hub.store.tx import LOG, Tx
from sync.authority import device_may
from sync.hlc import is_hlc
from sync.models import Op, OpResult, OpStatus
from sync.op_identity import op_hash

__all__ = ["push", "PushLog", "Incident", "reused_op_id"]

log = logging.getLogger(__name__)


# Ops per piece of work: enough to amortise the commit, few enough that other
# devices' pushes don't wait long behind one big backlog.
GROUP_SIZE = 50

Answer = Union[OpResult, Callable[[], OpResult]]


async def push(db: Database, device: Device, ops: list[Op]) -> list[OpResult]:
    """Apply a batch in order; stops at the first gap or reused number (later ops would
    be out of order)."""
    results: list[OpResult] = []
    for start in range(0, len(ops), GROUP_SIZE):
        group = ops[start:start + GROUP_SIZE]
        try:
            answered = await db.group_commit.run_async(_PushWork(device, group))
        except StorageFull:
            raise  # nothing of the group was written; one op alone would only fill the disk again
        except Exception:
            answered = await _apply_singly(db, device, group)
        results.extend(_settled(answered))
        if results[-1].reason_code in OUT_OF_STEP:
            break
    return results


async def _apply_singly(db: Database, device: Device, ops: list[Op]) -> list[Answer]:
    answered: list[Answer] = []
    for op in ops:
        answered.extend(await _apply_alone(db, device, op))
        if _is_gap(answered[-1]):
            break
    return answered


_TRANSIENT = (OperationalError, sqlite3.OperationalError, psycopg.OperationalError, WriterClosed, StorageFull)


async def _apply_alone(db: Database, device: Device, op: Op) -> list[Answer]:
    """One op in a transaction of its own; a second failure makes it an incident."""
    for attempt in (1, 2):
        try:
            return await db.group_commit.run_async(_PushWork(device, [op]))
        except _TRANSIENT:
            raise  # the database is away: the device sends the push again later
        except Exception as exc:  # noqa: BLE001 - one bad op must not stop the queue behind it
            if attempt == 2:
                incident = Incident.of(exc)
                log.error("op %s #%s (%s) from device %s failed: incident %s", op.op_id, op.device_seq, op.kind,
                          device.id, incident.id, exc_info=exc)
                return await db.group_commit.run_async(_PushWork(device, [op], incident))
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Incident:
    """An unexpected failure while applying one op: answered, logged and audited."""

    id: str
    code: str  # one of hub.log.INCIDENT_CODES
    what: str

    @classmethod
    def of(cls, exc: Exception) -> "Incident":
        integrity = type(exc).__name__ in ("IntegrityError", "UniqueViolation", "CheckViolation", "NotNullViolation",
                                           "ForeignKeyViolation") or isinstance(exc, (sqlite3.IntegrityError, psycopg.IntegrityError))
        return cls(uuid.uuid4().hex[:12], INCIDENT_CODES[0] if integrity else INCIDENT_CODES[1],
                   f"{type(exc).__name__}: {str(exc)[:300]}")


def _settled(answered: list[Answer]) -> list[OpResult]:
    # A re-send inside the same transaction is answered after the commit, once the
    # first answer carries its feed position.
    return [a() if callable(a) else a for a in answered]


# The device and the hub disagree on its op numbers: a gap, or another op at this number
# (its replica was reset or restored). Later ops of the batch would only be out of order.
OUT_OF_STEP = ("sequence_gap", "sequence_reused")


def _is_gap(answer: Answer) -> bool:
    return not callable(answer) and answer.reason_code in OUT_OF_STEP


class _PushWork:
    """One device's ops, as a piece of group-commit work."""

    __slots__ = ("device", "ops", "incident")

    def __init__(self, device: Device, ops: list[Op], incident: Incident | None = None):
        self.device, self.ops, self.incident = device, ops, incident

    def __call__(self, tx: Tx) -> list[Answer]:
        return _Group(tx, self.device, self.incident).apply(self.ops)

    @staticmethod
    def prepare_group(tx: Tx, works: list["_PushWork"]) -> None:
        log = PushLog.of(tx)
        log.read_committed_seqs(tx, [w.device.id for w in works])
        log.look_up_op_ids = len(works) == 1  # alone: also every push run again after a failed group
        if log.look_up_op_ids:
            log.read_logged_ids(tx, [op.op_id for w in works for op in w.ops])
        prefetch(tx, [op for w in works for op in w.ops])


Logged = tuple[str, int, str, str, str | None]  # device_id, device_seq, op_id, result JSON, op_hash: a row of op_log


@dataclass
class PushLog:
    """The device ops a transaction has applied, written to op_log at its flush,
    and what it has read of the log already."""

    entries: list[tuple[Context, Op, OpResult]] = field(default_factory=list)
    by_seq: dict[tuple[str, int], tuple[str, OpResult, Op]] = field(default_factory=dict)
    by_op_id: dict[str, OpResult] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    committed_seq: dict[str, int] = field(default_factory=dict)  # devices.last_seq as the transaction began
    logged_ids: dict[str, Logged] = field(default_factory=dict)  # of the op ids checked: those in op_log
    checked_ids: set[str] = field(default_factory=set)
    look_up_op_ids: bool = True  # False: the op log's unique index finds a reused op id (see above)

    @classmethod
    def of(cls, conn: Tx) -> "PushLog":
        log = conn.staged.get("push_log")
        if log is None:
            log = conn.staged["push_log"] = cls()
            conn.on_flush("push_log", log.write, stage=LOG)
        return log

    def read_committed_seqs(self, conn: Tx, device_ids: list[str]) -> None:
        wanted = sorted({d for d in device_ids if d not in self.committed_seq})
        if wanted:
            rows = conn.execute("SELECT id, last_seq FROM devices WHERE id IN :ids", {"ids": wanted}).all()
            self.committed_seq.update((r.id, r.last_seq) for r in rows)

    def read_logged_ids(self, conn: Tx, op_ids: list[str]) -> None:
        wanted = sorted({o for o in op_ids if o not in self.checked_ids})
        if wanted:
            rows = conn.execute(
                "SELECT device_id, device_seq, op_id, result, op_hash FROM op_log WHERE op_id IN :ids", {"ids": wanted}
            ).all()
            self.logged_ids.update((r.op_id, tuple(r)) for r in rows)
            self.checked_ids.update(wanted)

    def next_seq(self, device_id: str) -> int:
        return self.last_seq.get(device_id, self.committed_seq[device_id]) + 1

    def add(self, ctx: Context, op: Op, result: OpResult) -> None:
        self.entries.append((ctx, op, result))
        self.by_seq[(ctx.device_id, op.device_seq)] = (op.op_id, result, op)
        self.by_op_id.setdefault(op.op_id, result)
        self.last_seq[ctx.device_id] = op.device_seq

    def write(self, conn: Tx) -> None:
        conn.staged.pop("push_log", None)
        write_log(conn, self.entries)
        record_device_seqs(conn, self.last_seq)


class _Group:
    """One device's ops in a shared transaction."""

    def __init__(self, conn: Tx, device: Device, incident: Incident | None = None):
        self.conn = conn
        self.device = device
        self.incident = incident
        self.ctx = Context(device.id, device.location, device.role)
        self.log = PushLog.of(conn)
        self.resent: dict[int, Logged] = {}  # logged ops at this push's seqs
        self.applied_hlcs: list[str] = []

    def apply(self, ops: list[Op]) -> list[Answer]:
        self._look_up_earlier(ops)
        answers: list[Answer] = []
        for op in ops:
            answers.append(self._one(op))
            if _is_gap(answers[-1]):
                break
        observe_hlc(*self.applied_hlcs)  # once per push: the clock only has to pass the latest
        return answers

    def _look_up_earlier(self, ops: list[Op]) -> None:
        """What op_log holds at these seqs (only those up to the device's last can
        be there) and under these op ids (unless the group read them already, or leaves
        them to the op log's unique index)."""
        self.log.read_committed_seqs(self.conn, [self.device.id])
        if self.log.look_up_op_ids:
            self.log.read_logged_ids(self.conn, [op.op_id for op in ops])
        committed = self.log.committed_seq[self.device.id]
        seqs = [op.device_seq for op in ops if op.device_seq <= committed]
        if seqs:
            rows = self.conn.execute(
                "SELECT device_id, device_seq, op_id, result, op_hash FROM op_log WHERE device_id = :d AND device_seq IN :seqs",
                {"d": self.device.id, "seqs": seqs},
            ).all()
            self.resent.update((r.device_seq, tuple(r)) for r in rows)

    def _one(self, op: Op) -> Answer:
        log = self.log
        if (staged := log.by_seq.get((self.device.id, op.device_seq))) is not None:
            staged_id, first, staged_op = staged  # its hash only now: re-sends in one transaction are rare
            return self._resend(op, staged_id, first, op_hash(staged_op, first.op_id))
        if (logged := self.resent.get(op.device_seq)) is not None:
            return self._resend(op, logged[2], logged[3], logged[4])
        expected = log.next_seq(self.device.id)
        if op.device_seq != expected:
            return _rejected(op, "sequence_gap", f"expected op #{expected} from this device, got #{op.device_seq}")
        # A refusal still consumes the sequence number and is logged, so a re-send
        # gets the same answer and the ops queued behind it can move on.
        if (door := self._at_the_door(op)) is not None:
            logged_as, result = door
            log.add(self.ctx, logged_as, result)
            return result
        result = apply_op(self.conn, self.ctx, op) if self.incident is None else self._incident(op, self.incident)
        log.add(self.ctx, op, result)
        self.applied_hlcs.append(op.hlc)
        return result

    def _at_the_door(self, op: Op) -> tuple[Op, OpResult] | None:
        """Refusals decided before any handler runs (hub.log.DOOR_CODES), with the op
        as logged: a reused id is logged under an id of its own (the log's op ids are
        unique), its answer naming the op's id."""
        if op.op_id in self.log.by_op_id or op.op_id in self.log.logged_ids:
            result = _rejected(op, "op_id_reused", f"op id {op.op_id} was already used by another op; "
                                                   f"op #{op.device_seq} is refused and its number used")
            return op.model_copy(update={"op_id": reused_op_id(self.device.id, op.device_seq)}), result
        if not is_hlc(op.hlc):
            return op, _rejected(op, "invalid_hlc", f"hlc {op.hlc[:40]!r} is not a hybrid logical clock value "
                                                    "(wall ms:counter:node, 15 and 6 digits)")
        # returns from any channel: the signature is checked here, with keys outside the fold
        # (only for a sender that may send returns at all: the others hear so from the handler's authority check)
        if op.kind == "return.received" and device_may(op.kind, self.device.role) \
                and (forged := return_code_refusal(self.conn, op.payload)) is not None:
            return op, _rejected(op, *forged)
        # escrow through a restore: allotment evidence is checked here too, with keys outside the fold
        if op.kind == "reservation.requested" and device_may(op.kind, self.device.role) \
                and (bad := evidence_refusal(self.conn, self.ctx, op.payload)) is not None:
            return op, _rejected(op, *bad)
        return None

    def _resend(self, op: Op, logged_id: str, first: OpResult | str, logged_hash: str | None) -> Answer:
        answer = _answer_resend(op, logged_id, first, logged_hash)
        if not callable(answer) and answer.reason_code == "op_payload_mismatch":
            record_audit(self.conn, f"device:{self.device.id}", "op.payload_mismatch", f"{op.kind} #{op.device_seq}",
                         "rejected", "", {"op_id": op.op_id, "device_seq": op.device_seq})
        return answer

    def _incident(self, op: Op, incident: Incident) -> OpResult:
        record_audit(self.conn, f"device:{self.device.id}", "op.incident", f"{op.kind} #{op.device_seq}", "rejected",
                     "", {"incident": incident.id, "op_id": op.op_id, "error": incident.what})
        return _rejected(op, incident.code, f"the hub could not apply this op (incident {incident.id}); "
                                            "it is logged for the hub's administrators")


def reused_op_id(device_id: str, device_seq: int) -> str:
    """The op log's id for an op refused `op_id_reused` (its own id is another op's)."""
    return "reused:" + hashlib.sha256(f"{device_id}#{device_seq}".encode()).hexdigest()[:48]


def _answer_resend(op: Op, logged_id: str, first: OpResult | str, logged_hash: str | None) -> Answer:
    """The answer to an op at a sequence number the log holds: a true re-send is
    `duplicate` with the first answer; another op there is refused."""
    staged = isinstance(first, OpResult)
    logged = first if isinstance(first, OpResult) else OpResult.model_validate_json(first)
    if logged.op_id != op.op_id:  # the answer names the op as sent, even one logged under another id
        return _rejected(op, "sequence_reused", f"op #{op.device_seq} was already used by another op")
    if logged_hash is not None and logged_hash != op_hash(op):
        return _rejected(op, "op_payload_mismatch", f"op {op.op_id} (#{op.device_seq}) was sent before with "
                                                    "other content; the first one stands and this one is refused")
    if staged:  # applied earlier in this transaction: answer once it is logged
        return lambda: logged.model_copy(update={"status": OpStatus.DUPLICATE})
    return logged.model_copy(update={"status": OpStatus.DUPLICATE})


def _rejected(op: Op, code: str, message: str) -> OpResult:
    return OpResult(op_id=op.op_id, device_seq=op.device_seq, status=OpStatus.REJECTED, reason_code=code, message=message)
