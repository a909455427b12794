"""Operators: the people who sign in on shared floor devices. The hub keeps them
per location and sends them to that location's devices, PIN hashed and salted:
the PIN itself never reaches the log, the feed or a device."""

from __future__ import annotations

from hub.commands import OperatorUpserted
from hub.feed import emit
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op

__all__ = ["operator_upserted"]


def operator_upserted(conn: Tx, _ctx: Context, _op: Op, p: OperatorUpserted) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.location}).first() is None:
        return Outcome.refused("invalid", f"location: unknown location {p.location!r}")
    moved_from = conn.execute("SELECT location FROM operators WHERE operator_id = :i", {"i": p.operator_id}).scalar()
    conn.execute("DELETE FROM operators WHERE operator_id = :i", {"i": p.operator_id})
    conn.execute(
        "INSERT INTO operators (operator_id, name, role, location, pin_hash, salt) VALUES (:operator_id, :name, :role, :location, :pin_hash, :salt)",
        p.model_dump(),
    )
    if moved_from not in (None, p.location):
        emit(conn, moved_from, "operator", p.operator_id, None)
    emit(conn, p.location, "operator", p.operator_id, p.model_dump(exclude={"location"}))
    return Outcome(message=f"operator {p.operator_id} ({p.role}) at {p.location}")
