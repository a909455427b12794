"""The hub's log: every state change, from a device or from the hub itself, is an
op appended here and applied by the same handlers. Hub state is a fold over it,
which is what `backroom hub verify` replays.

Device ops keep their own (device_id, device_seq); hub commands use device_id
`hub` and the hub's own gap-free sequence."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from hub.errors import Conflict, Invalid
from hub.feed import forget_known, head
from hub.tx import FEED, TABLES, Tx
from sync.errors import MalformedPayload, SyncError
from sync.hlc import HybridClock, Timestamp
from sync.kinds import SCHEMA_VERSION, parse_payload
from sync.models import Op, OpResult, OpStatus

__all__ = ["HUB_DEVICE", "Context", "Outcome", "register", "apply_op", "log_ops", "write_log", "PREFETCH", "run_hub_command", "hub_payload", "hub_hlc", "observe_hlc", "HANDLERS"]

HUB_DEVICE = "hub"


@dataclass(frozen=True)
class Context:
    """Who an op came from: a device at a location, or the hub (location None)."""

    device_id: str
    location: str | None


@dataclass(frozen=True)
class Outcome:
    """A handler's verdict: `refusal` set means refused; otherwise applied."""

    refusal: str | None = None
    message: str = ""
    compensations: list[dict[str, Any]] | None = None

    @classmethod
    def refused(cls, code: str, message: str) -> "Outcome":
        return cls(refusal=code, message=message)


Handler = Callable[[Tx, Context, Op, Any], Outcome]
HANDLERS: dict[str, tuple[Handler, Callable[[dict[str, Any]], Any]]] = {}


# Kinds whose handlers work on state held in the transaction (hub.pick_state);
# every other handler reads the tables, so what is held is written back first.
HELD_KINDS: set[str] = set()


# What a kind's handler will read, loaded in bulk for a whole group commit:
# `prefetch(conn, payloads)` gets the raw (not yet validated) payloads of the group.
PREFETCH: dict[str, Callable[[Tx, list[dict[str, Any]]], None]] = {}


def register(kind: str, parse: Callable[[dict[str, Any]], Any] | None = None, held: bool = False,
             prefetch: Callable[[Tx, list[dict[str, Any]]], None] | None = None):
    """Register a handler for an op kind. Device kinds parse through sync.kinds;
    hub command kinds pass their own payload parser. `held`: see HELD_KINDS;
    `prefetch`: see PREFETCH."""

    def wrap(handler: Handler) -> Handler:
        HANDLERS[kind] = (handler, parse)
        if held:
            HELD_KINDS.add(kind)
        if prefetch is not None:
            PREFETCH[kind] = prefetch
        return handler

    return wrap


def apply_op(conn: Tx, ctx: Context, op: Op) -> OpResult:
    """Validate and apply one op; a refusal writes nothing but the answer."""
    try:
        handler, parse = HANDLERS[op.kind]
    except KeyError:
        return _rejected(op, "unknown_kind", f"unknown op kind {op.kind!r}")
    try:
        payload = parse(op.payload) if parse else parse_payload(op.kind, op.schema_version, op.payload)
    except SyncError as exc:
        return _rejected(op, exc.code, str(exc))
    if op.kind not in HELD_KINDS:
        conn.flush(through=TABLES)  # held state back in its tables; the feed may stay staged
        forget_known(conn)  # this handler reads and writes the tables themselves
    outcome = handler(conn, ctx, op, payload)
    if outcome.refusal:
        return _rejected(op, outcome.refusal, outcome.message)
    return OpResult(
        op_id=op.op_id,
        device_seq=op.device_seq,
        status=OpStatus.APPLIED,
        message=outcome.message or None,
        compensations=outcome.compensations or [],
    )


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
                     op.schema_version, result.model_dump_json(), applied_at, ctx.location))
    conn.executemany(
        "INSERT INTO op_log (op_id, device_id, device_seq, kind, payload, actor, hlc, schema_version, "
        "result, applied_at, location) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


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
            actor=actor, hlc=hub_hlc(), schema_version=SCHEMA_VERSION)
    ctx = Context(HUB_DEVICE, None)
    result = apply_op(conn, ctx, op)
    if result.status == OpStatus.REJECTED:
        error = Invalid if result.reason_code in ("invalid", "malformed_payload") else Conflict
        raise error(result.message or result.reason_code)
    log_ops(conn, [(ctx, op, result)])
    return result


def _rejected(op: Op, code: str, message: str) -> OpResult:
    return OpResult(op_id=op.op_id, device_seq=op.device_seq, status=OpStatus.REJECTED, reason_code=code, message=message)


def hub_payload(model: type[BaseModel]) -> Callable[[dict[str, Any]], Any]:
    """A payload parser for a hub command; bad payloads raise MalformedPayload."""

    def parse(payload: dict[str, Any]) -> Any:
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise MalformedPayload(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from exc

    return parse
