"""Revocable devices and API tokens (expiry, rotation, an intake token's channel),
operators that can be disabled, who sent each logged op (device role, operator
proof), failed operator proofs per device, and the audit trail. Devices are sent
their operators again as they are to hold them now: the salt and an 8-bit PIN
check instead of the PIN's hash (sync.proofs)."""

import json

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from sync.proofs import key_of_hash, pin_check

meta = MetaData()
_BigId = BigInteger().with_variant(Integer(), "sqlite")

Table(
    "audit",
    meta,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("client", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_at", "at"),
)
Table(
    "proof_failures",
    meta,
    Column("device_id", String(64), nullable=False),
    Column("operator_id", String(64), nullable=False),
    Column("failures", Integer, nullable=False),
    PrimaryKeyConstraint("device_id", "operator_id"),
)

_COLUMNS = [
    ("devices", "revoked_at", "VARCHAR(40)"),
    ("api_tokens", "token_id", "VARCHAR(40)"),
    ("api_tokens", "channel", "VARCHAR(64)"),
    ("api_tokens", "expires_at", "VARCHAR(40)"),
    ("api_tokens", "revoked_at", "VARCHAR(40)"),
    ("operators", "active", "INTEGER NOT NULL DEFAULT 1"),
    ("op_log", "role", "VARCHAR(32)"),
    ("op_log", "proof", "VARCHAR(200)"),
]


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    for table, column, ddl in _COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    # Tokens issued before ids existed get one, so they can be listed and revoked.
    conn.execute(text("UPDATE api_tokens SET token_id = SUBSTR(token_hash, 1, 12) WHERE token_id IS NULL"))
    conn.execute(text("CREATE UNIQUE INDEX ix_api_tokens_id ON api_tokens (token_id)"))
    _resend_operators(conn)


def _resend_operators(conn: Connection) -> None:
    rows = conn.execute(text("SELECT operator_id, name, role, location, pin_hash, salt FROM operators ORDER BY operator_id"))
    for r in rows.all():
        kdf, key = key_of_hash(r.pin_hash)
        view = {"operator_id": r.operator_id, "name": r.name, "role": r.role, "salt": r.salt, "kdf": kdf,
                "pin_check": pin_check(key)}
        conn.execute(text("INSERT INTO changes (scope, entity, key, data) VALUES (:s, 'operator', :k, :d)"),
                     {"s": r.location, "k": r.operator_id, "d": json.dumps(view)})
