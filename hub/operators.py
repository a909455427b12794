"""Operators: the people who sign in on shared floor devices. The hub keeps them
per location and sends them to that location's devices, PIN hashed and salted:
the PIN itself never reaches the log, the feed or a device."""

from __future__ import annotations

import hashlib
import secrets

from pydantic import BaseModel, ConfigDict, Field

from hub.feed import emit
from hub.log import Context, Outcome, hub_payload, register
from hub.tx import Tx
from sync.models import Op

__all__ = ["ROLES", "OperatorUpserted", "hash_pin", "operator_payload"]

ROLES = ("picker", "packer", "associate", "supervisor")
# scrypt cost: ~50 ms on a handheld, 16 MiB; the parameters travel in the hash.
_N, _R, _P = 2**14, 8, 1


class OperatorUpserted(BaseModel):
    """Hub command: add an operator, or change one's name, role or PIN."""

    model_config = ConfigDict(extra="forbid")
    operator_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(pattern="^(picker|packer|associate|supervisor)$")
    location: str = Field(min_length=1, max_length=64)
    pin_hash: str = Field(pattern=r"^scrypt\$\d+\$\d+\$\d+\$[0-9a-f]{64}$")
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")


def hash_pin(pin: str, salt: str) -> str:
    """`scrypt$N$r$p$hex`: the PIN hashed with a per-operator salt (hex)."""
    digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${digest.hex()}"


def operator_payload(operator_id: str, name: str, role: str, location: str, pin: str) -> dict[str, str]:
    """The `operator.upserted` payload for a typed PIN: a fresh salt, the PIN hashed.
    Raises ValueError for a PIN that is not 4-8 digits."""
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits")
    salt = secrets.token_hex(16)
    return {"operator_id": operator_id, "name": name, "role": role, "location": location,
            "pin_hash": hash_pin(pin, salt), "salt": salt}


@register("operator.upserted", hub_payload(OperatorUpserted))
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
