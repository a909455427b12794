"""The outbox: every action's op, written in the same transaction as its local
effect, numbered gap-free per device, kept until the hub has answered it."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from edge_app.local.sessions import proof_for
from sync.hlc import HybridClock, Timestamp
from sync.kinds import SCHEMA_VERSION, parse_payload
from sync.models import Op, OpResult, OpStatus

__all__ = [
    "PendingEffect",
    "OUT_OF_STEP",
    "record_op",
    "new_op_id",
    "pending_ops",
    "depth",
    "apply_results",
    "drop_effects",
    "settle_effects",
    "observe_hub_clock",
    "rejections",
    "refusals",
    "follow_ups",
    "dismiss",
]


@dataclass(frozen=True)
class PendingEffect:
    """What an op does to the local view until pulled hub state reflects it."""

    lines: tuple[tuple[str, int, int, int], ...] = ()  # (order_id, line_no, picked, short)
    stock: tuple[tuple[str, str, int], ...] = ()  # (bin, sku, delta)
    escrow: tuple[tuple[str, int], ...] = ()  # (sku, units of this device's allotment used)
    orders: tuple[tuple[str, bool], ...] = ()  # (order_id created locally, guaranteed)


# Every overlay table, keyed by the device_seq of the op that put the row there.
# Answers that say the hub and the device disagree on op numbers, not about the op.
OUT_OF_STEP = ("sequence_gap", "sequence_reused")

_EFFECT_TABLES = ("line_effects", "stock_effects", "escrow_effects", "order_effects")


def _meta(conn: sqlite3.Connection, key: str, default: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def _tick(conn: sqlite3.Connection, device_id: str) -> str:
    last = _meta(conn, "hlc", "")
    clock = HybridClock(device_id, Timestamp.decode(last) if last else None)
    stamp = clock.now(int(time.time() * 1000)).encode()
    _set_meta(conn, "hlc", stamp)
    return stamp


def observe_hub_clock(conn: sqlite3.Connection, hub_stamp: str) -> None:
    """Move this device's clock past the hub's: what it saw sorts before what it does next."""
    device_id = _meta(conn, "device_id", "")
    last = _meta(conn, "hlc", "")
    clock = HybridClock(device_id, Timestamp.decode(last) if last else None)
    _set_meta(conn, "hlc", clock.observe(Timestamp.decode(hub_stamp), int(time.time() * 1000)).encode())


def new_op_id() -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    Ids made later sort later, so the hub's unique index on op ids grows at its
    right edge instead of taking a random page per op: that was a third of the
    pages a pushed pick wrote to the hub's log. The random bits come from uuid4,
    which the simulator seeds."""
    ms = time.time_ns() // 1_000_000 & _MS_MASK
    rand = uuid.uuid4().int
    value = ms << 80 | 0x7 << 76 | (rand >> 64 & 0xFFF) << 64 | 0b10 << 62 | rand & _RAND_B_MASK
    return str(uuid.UUID(int=value))


_MS_MASK = (1 << 48) - 1
_RAND_B_MASK = (1 << 62) - 1


def record_op(conn: sqlite3.Connection, kind: str, payload: dict[str, Any], actor: str, effect: PendingEffect) -> Op:
    """Append an op and its pending effect. Call inside the action's transaction."""
    # A malformed op would be refused by the hub after the person walked away:
    # refuse it here, before anything is written.
    parse_payload(kind, SCHEMA_VERSION, payload)
    device_id = _meta(conn, "device_id", "")
    seq = int(_meta(conn, "next_seq", "1"))
    op = Op(
        op_id=new_op_id(),
        device_id=device_id,
        device_seq=seq,
        kind=kind,
        payload=payload,
        actor=actor,
        hlc=_tick(conn, device_id),
        schema_version=SCHEMA_VERSION,
    )
    op.proof = proof_for(op.model_dump(mode="json"))  # the signed-in operator's, made now
    conn.execute(
        "INSERT INTO outbox (device_seq, op_id, kind, payload, actor, hlc, schema_version, created_at, proof) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, op.op_id, kind, json.dumps(payload), actor, op.hlc, op.schema_version, _now(), op.proof),
    )
    _set_meta(conn, "next_seq", str(seq + 1))
    conn.executemany(
        "INSERT INTO line_effects (device_seq, order_id, line_no, picked, short) VALUES (?, ?, ?, ?, ?)",
        [(seq, *line) for line in effect.lines],
    )
    conn.executemany(
        "INSERT INTO stock_effects (device_seq, bin, sku, delta) VALUES (?, ?, ?, ?)",
        [(seq, *row) for row in effect.stock],
    )
    conn.executemany("INSERT INTO escrow_effects (device_seq, sku, qty) VALUES (?, ?, ?)", [(seq, *row) for row in effect.escrow])
    conn.executemany(
        "INSERT INTO order_effects (device_seq, order_id, guaranteed) VALUES (?, ?, ?)",
        [(seq, order_id, int(guaranteed)) for order_id, guaranteed in effect.orders],
    )
    return op


def pending_ops(conn: sqlite3.Connection, limit: int) -> list[Op]:
    """The oldest unanswered ops, in device order."""
    device_id = _meta(conn, "device_id", "")
    rows = conn.execute(
        "SELECT * FROM outbox WHERE state = 'pending' ORDER BY device_seq LIMIT ?", (limit,)
    ).fetchall()
    return [
        Op(
            op_id=r["op_id"],
            device_id=device_id,
            device_seq=r["device_seq"],
            kind=r["kind"],
            payload=json.loads(r["payload"]),
            actor=r["actor"],
            hlc=r["hlc"],
            schema_version=r["schema_version"],
            proof=r["proof"],
        )
        for r in rows
    ]


def depth(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]


def apply_results(conn: sqlite3.Connection, results: list[OpResult]) -> None:
    """Record the hub's answers. A refused op's effect leaves the local view now;
    an applied op's effect stays until a pull reaches its change_seq."""
    # Out of step with the hub (a gap, or its op at this number is another: this replica
    # was reset or restored): not an answer about the op, which stays pending
    # (edge_app.local.recovery numbers it anew).
    results = [r for r in results if r.reason_code not in OUT_OF_STEP]
    answered = [r.device_seq for r in results]
    if answered:  # the last op the hub has answered, which a pull tells the hub (edge_app.local.recovery)
        conn.execute("UPDATE meta SET value = CAST(MAX(CAST(value AS INTEGER), ?) AS TEXT) WHERE key = 'acked_seq'",
                     (max(answered),))
    for r in results:
        # A re-sent op comes back `duplicate` with its first result, a refusal's reason code included.
        refused = r.status == OpStatus.REJECTED or (r.status == OpStatus.DUPLICATE and r.reason_code is not None)
        state = "rejected" if refused else "applied"
        conn.execute(
            "UPDATE outbox SET state = ?, reason_code = ?, message = ?, result = ?, change_seq = ?, acked_at = ? "
            "WHERE device_seq = ? AND op_id = ? AND state = 'pending'",
            (state, r.reason_code, r.message, r.model_dump_json(), r.change_seq, _now(), r.device_seq, r.op_id),
        )
        if state == "rejected":
            drop_effects(conn, [r.device_seq])


def drop_effects(conn: sqlite3.Connection, seqs: list[int]) -> None:
    """A refused op's effects leave the local view, orders it created included."""
    params = [(s,) for s in seqs]
    conn.executemany(
        "DELETE FROM order_lines WHERE order_id IN (SELECT order_id FROM order_effects WHERE device_seq = ?)", params
    )
    conn.executemany("DELETE FROM orders WHERE id IN (SELECT order_id FROM order_effects WHERE device_seq = ?)", params)
    for table in _EFFECT_TABLES:
        conn.executemany(f"DELETE FROM {table} WHERE device_seq = ?", params)


def settle_effects(conn: sqlite3.Connection, cursor: int) -> None:
    """Drop the effects of answered ops that the pulled hub state now includes."""
    for table in _EFFECT_TABLES:
        conn.execute(
            f"DELETE FROM {table} WHERE device_seq IN "
            "(SELECT device_seq FROM outbox WHERE state = 'applied' AND change_seq <= ?)",
            (cursor,),
        )


def rejections(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Refused ops and ops that came back with compensations, newest first (all of them)."""
    return _answered(conn, "(state = 'rejected' OR " + _WITH_FOLLOW_UP + ")", None, limit, include_dismissed=True)


def refusals(conn: sqlite3.Connection, actor: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Ops the hub refused, not yet dismissed, newest first: only `actor`'s, unless None."""
    return _answered(conn, "state = 'rejected'", actor, limit)


def follow_ups(conn: sqlite3.Connection, actor: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Ops that stood and created work for someone (a short's task, a count difference):
    routine outcomes to read, not errors. Not yet dismissed; only `actor`'s unless None."""
    return _answered(conn, "state = 'applied' AND " + _WITH_FOLLOW_UP, actor, limit)


def dismiss(conn: sqlite3.Connection, device_seq: int) -> None:
    """The operator has read this answer: it leaves their list (and the badge)."""
    conn.execute("UPDATE outbox SET dismissed_at = ? WHERE device_seq = ? AND state <> 'pending'", (_now(), device_seq))


_WITH_FOLLOW_UP = "(result IS NOT NULL AND result LIKE '%\"compensations\":[{%')"


def _answered(conn: sqlite3.Connection, where: str, actor: str | None, limit: int,
              include_dismissed: bool = False) -> list[dict[str, Any]]:
    clauses, params = [where], []
    if not include_dismissed:
        clauses.append("dismissed_at IS NULL")
    if actor is not None:
        clauses.append("actor = ?")
        params.append(actor)
    rows = conn.execute(
        "SELECT device_seq, kind, payload, actor, reason_code, message, result, acked_at FROM outbox "
        f"WHERE {' AND '.join(clauses)} ORDER BY device_seq DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [dict(r) for r in rows]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
