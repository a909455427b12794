"""Operators who sign in on shared devices (PINs hashed, never
plain), closed cartons, units packed per order line, and the tote an order was
batch-picked into."""

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

meta = MetaData()

Table(
    "operators",
    meta,
    Column("operator_id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("location", String(64), nullable=False),
    Column("pin_hash", String(200), nullable=False),
    Column("salt", String(64), nullable=False),
    Index("ix_operators_location", "location"),
)
Table(
    "cartons",
    meta,
    Column("carton_id", String(40), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("location", String(64), nullable=False),
    Column("carton_type", String(40), nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("contents", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("op_id", String(64), nullable=False),
    Index("ix_cartons_order", "order_id"),
)

_COLUMNS = [
    ("order_lines", "qty_packed", "INTEGER NOT NULL DEFAULT 0"),
    ("orders", "tote", "VARCHAR(40)"),
]


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    for table, column, ddl in _COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
