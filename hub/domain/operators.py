"""Operators: the people who sign in on shared floor devices. The hub keeps them
per location with their operator key (scrypt of the PIN, salted) and sends that
location's devices only the salt and an 8-bit PIN check (sync.proofs): the PIN
never reaches the log, the feed or a device, and neither does anything that would
let a lost device find it."""

from __future__ import annotations

from hub.commands import OperatorDisabled, OperatorRemoved, OperatorUpserted
from hub.feed import emit
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op
from sync.proofs import key_of_hash, pin_check

__all__ = ["operator_upserted", "operator_disabled", "operator_removed", "device_view"]


def device_view(p: OperatorUpserted) -> dict[str, str]:
    """What a device holds of an operator: enough to tell a typo, not to find the PIN."""
    kdf, key = key_of_hash(p.pin_hash)
    return {"operator_id": p.operator_id, "name": p.name, "role": p.role, "salt": p.salt, "kdf": kdf,
            "pin_check": pin_check(key)}


def _changed(conn: Tx) -> None:
    conn.staged.pop("operators_here", None)  # hub.authority's look-ups of this transaction


def operator_upserted(conn: Tx, _ctx: Context, _op: Op, p: OperatorUpserted) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.location}).first() is None:
        return Outcome.refused("invalid", f"location: unknown location {p.location!r}")
    moved_from = conn.execute("SELECT location FROM operators WHERE operator_id = :i", {"i": p.operator_id}).scalar()
    conn.execute("DELETE FROM operators WHERE operator_id = :i", {"i": p.operator_id})
    conn.execute(
        "INSERT INTO operators (operator_id, name, role, location, pin_hash, salt, active) "
        "VALUES (:operator_id, :name, :role, :location, :pin_hash, :salt, 1)",
        p.model_dump(),
    )
    # Added again: a new PIN, so the failed proofs that locked them out count no more.
    conn.execute("DELETE FROM proof_failures WHERE operator_id = :i", {"i": p.operator_id})
    _changed(conn)
    if moved_from not in (None, p.location):
        emit(conn, moved_from, "operator", p.operator_id, None)
    emit(conn, p.location, "operator", p.operator_id, device_view(p))
    return Outcome(message=f"operator {p.operator_id} ({p.role}) at {p.location}")


def operator_disabled(conn: Tx, _ctx: Context, _op: Op, p: OperatorDisabled) -> Outcome:
    location = conn.execute("SELECT location FROM operators WHERE operator_id = :i", {"i": p.operator_id}).scalar()
    if location is None:
        return Outcome.refused("invalid", f"operator_id: no operator {p.operator_id!r}")
    conn.execute("UPDATE operators SET active = 0 WHERE operator_id = :i", {"i": p.operator_id})
    _changed(conn)
    emit(conn, location, "operator", p.operator_id, None)  # devices forget them: no more sign-ins
    return Outcome(message=f"operator {p.operator_id} disabled")


def operator_removed(conn: Tx, _ctx: Context, _op: Op, p: OperatorRemoved) -> Outcome:
    location = conn.execute("SELECT location FROM operators WHERE operator_id = :i", {"i": p.operator_id}).scalar()
    if location is None:
        return Outcome.refused("invalid", f"operator_id: no operator {p.operator_id!r}")
    conn.execute("DELETE FROM operators WHERE operator_id = :i", {"i": p.operator_id})
    conn.execute("DELETE FROM proof_failures WHERE operator_id = :i", {"i": p.operator_id})
    _changed(conn)
    emit(conn, location, "operator", p.operator_id, None)
    return Outcome(message=f"operator {p.operator_id} removed")
