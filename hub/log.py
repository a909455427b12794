"""The hub's log: every state change, from a device or from the hub itself, is an
op appended here and applied by the same handlers. Hub state is a fold over it,
which is what `backroom hub verify` replays.

Device ops keep their own (device_id, device_seq); hub commands use device_id
`hub` and the hub's own gap-free sequence. This module is the only writer of
`op_log` and of the devices' sequence records (`devices.last_seq`)."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic_core import to_json

from hub.audit import record_audit
from hub.authority import scope_refusal, sender_refusal
from hub.errors import Conflict, Invalid
from hub.events.outbox import write_events
from hub.feed import forget_known, head, publishing
from hub.handlers import HANDLERS
from hub.outcome import HUB_DEVICE, HUB_ROLE, Context
from hub.store.tx import FEED, TABLES, Tx
from sync.errors import SyncError
from sync.hlc import HybridClock, Timestamp
from sync.kinds import SCHEMA_VERSION, parse_payload
from sync.models import Compensation, Op, OpResult, OpStatus
from sync.op_identity import op_hash

__all__ = ["INCIDENT_CODES", "DOOR_CODES", "order_of", "apply_op", "prefetch", "log_ops", "write_log", "record_device_seqs", "run_hub_command", "hub_hlc",
           "observe_hlc"]


# Reason codes of ops the hub answered without applying because applying them failed
# (hub.api.push): a replay gives them the same answer, without running them again.
INCIDENT_CODES = ("constraint_violation", "incident")
# Reason codes of ops refused at the door (hub.api.push) before any handler ran: logged,
# so they consume their sequence number, and replayed with the same answer unrun.
DOOR_CODES = ("op_id_reused", "invalid_hlc") + (
    # returns from any channel: a return code the hub did not sign, or that does not cover the return
    "return_code_forged", "return_code_mismatch",
) + (
    # escrow through a restore: allotment evidence the hub did not sign, or signed for another device, place or SKU
    "allotment_evidence_forged", "allotment_evidence_mismatch",
)


def apply_op(conn: Tx, ctx: Context, op: Op) -> OpResult:
    """Authorise, validate and apply one op; a refusal writes nothing but the answer
    (and, for a failed operator proof, its count: hub.authority)."""
    handler = HANDLERS.get(op.kind)
    if handler is None:
        return _rejected(op, "unknown_kind", f"unknown op kind {op.kind!r}")
    if (refusal := sender_refusal(conn, ctx, op)) is not None:
        return _rejected(op, refusal.refusal or "", refusal.message)
    try:
        payload = handler.parse(op.payload) if handler.parse else parse_payload(op.kind, op.schema_version, op.payload)
    except SyncError as exc:
        return _rejected(op, exc.code, str(exc))
    if not handler.held:
        conn.flush(through=TABLES)  # held state back in its tables; the feed may stay staged
        forget_known(conn)  # this handler reads and writes the tables themselves
    if (refusal := scope_refusal(conn, ctx, op, payload, handler.held)) is not None:
        return _rejected(op, refusal.refusal or "", refusal.message)
    outcome = handler.apply(conn, ctx, op, payload)
    if outcome.refusal:
        return _rejected(op, outcome.refusal, outcome.message)
    return OpResult(
        op_id=op.op_id,
        device_seq=op.device_seq,
        status=OpStatus.APPLIED,
        message=outcome.message or None,
        compensations=[Compensation.model_validate(c) for c in outcome.compensations or ()],
    )


def prefetch(conn: Tx, ops: list[Op]) -> None:
    """Load in bulk what the handlers of these ops will read (a group commit's ops)."""
    payloads: dict[str, list[dict[str, Any]]] = {}
    for op in ops:
        handler = HANDLERS.get(op.kind)
        if handler is not None and handler.prefetch is not None:
            payloads.setdefault(op.kind, []).append(op.payload)
    for kind, same in payloads.items():
        HANDLERS[kind].prefetch(conn, same)  # type: ignore[misc]


def log_ops(conn: Tx, entries: list[tuple[Context, Op, OpResult]]) -> None:
    """Log ops applied in this transaction, in order. The change feed they staged
    is written first: each applied answer carries the feed position that reflects it."""
    conn.flush(through=FEED)
    write_log(conn, entries)


def write_log(conn: Tx, entries: list[tuple[Context, Op, OpResult]]) -> None:
    """`log_ops` once the feed is written (the op log's own flush stage)."""
    top = head(conn)
    applied_at = datetime.now(timezone.utc).isoformat()
    rows = []
    for ctx, op, result in entries:
        if result.status == OpStatus.APPLIED:
            result.change_seq = top
        rows.append((op.op_id, ctx.device_id, op.device_seq, op.kind, to_json(op.payload).decode(), op.actor, op.hlc,
                     op.schema_version, result.model_dump_json(), applied_at, ctx.location, ctx.role, op.proof,
                     order_of(op.kind, op.payload), result.status.value, op_hash(op, result.op_id)))
    conn.executemany(
        "INSERT INTO op_log (op_id, device_id, device_seq, kind, payload, actor, hlc, schema_version, "
        "result, applied_at, location, role, proof, order_id, status, op_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    if publishing():
        write_events(conn, applied_at, entries)  # the outbox: events commit with their ops (hub.events)


_ORDER_ID = re.compile(r"[^\x00-\x1f\x7f]{1,64}")  # sync.kinds.Code's characters and length


def order_of(kind: str, payload: Any) -> str | None:
    """The order an op is about, if any: the console reads an order's timeline by it."""
    if not isinstance(payload, dict):
        return None
    value = payload.get("id") if kind == "order.accepted" else payload.get("order_id")
    # A refused op may name anything; only an id an order could have is indexed (no NUL reaches SQL).
    return value if isinstance(value, str) and _ORDER_ID.fullmatch(value) else None


def record_device_seqs(conn: Tx, last_seq: dict[str, int]) -> None:
    """Each device's last applied sequence number, written with its ops' log rows."""
    conn.executemany("UPDATE devices SET last_seq = ? WHERE id = ?",
                     [(seq, device_id) for device_id, seq in last_seq.items()])


_clock = HybridClock(HUB_DEVICE)
_clock_lock = threading.Lock()


def hub_hlc() -> str:
    with _clock_lock:
        return _clock.now(int(time.time() * 1000)).encode()


def observe_hlc(*stamps: str) -> None:
    """Move the hub clock past devices' ops, so later hub commands sort after them."""
    latest = None
    for stamp in stamps:
        try:
            remote = Timestamp.decode(stamp)
        except ValueError:
            continue  # a malformed stamp is the op's problem, not the clock's
        if latest is None or remote > latest:
            latest = remote
    if latest is not None:
        with _clock_lock:
            _clock.observe(latest, int(time.time() * 1000))


def run_hub_command(conn: Tx, kind: str, payload: dict[str, Any], actor: str = "hub") -> OpResult:
    """Apply a hub-originated command and log it. A refusal raises (Conflict, or
    Invalid for bad input) so the caller's transaction writes nothing."""
    seq = conn.execute(
        "SELECT COALESCE(MAX(device_seq), 0) + 1 FROM op_log WHERE device_id = :h", {"h": HUB_DEVICE}
    ).scalar_one()
    op = Op(op_id=str(uuid.uuid4()), device_id=HUB_DEVICE, device_seq=seq, kind=kind, payload=payload,
            actor=actor[:64], hlc=hub_hlc(), schema_version=SCHEMA_VERSION)
    ctx = Context(HUB_DEVICE, None, HUB_ROLE)
    result = apply_op(conn, ctx, op)
    if result.status == OpStatus.REJECTED:
        error = Invalid if result.reason_code in ("invalid", "malformed_payload") else Conflict
        raise error(result.message or result.reason_code)
    log_ops(conn, [(ctx, op, result)])
    if kind in AUDITED_COMMANDS:
        record_audit(conn, actor, kind, _target(payload), "applied", "", {"op_id": op.op_id})
    return result


# Hub commands that are an administrator's act, written to the audit trail as well.
AUDITED_COMMANDS = frozenset({"operator.upserted", "operator.disabled", "operator.removed", "stock.policy_set",
                              "location.added", "bin.added", "catalogue.item_upserted", "stock.received",
                              "order.cancelled",
                              # set-up
                              "location.updated", "catalogue.items_imported", "bins.imported", "stock.adjusted",
                              "stock.snapshot_imported", "transfer.shipped", "transfer.received"})


def _target(payload: dict[str, Any]) -> str:
    for key in ("operator_id", "order_id", "sku", "code", "transfer_id"):
        if key in payload:
            return f"{payload.get('location', '')}/{payload[key]}" if "location" in payload else str(payload[key])
    return ""


def _rejected(op: Op, code: str, message: str) -> OpResult:
    return OpResult(op_id=op.op_id, device_seq=op.device_seq, status=OpStatus.REJECTED, reason_code=code, message=message)
