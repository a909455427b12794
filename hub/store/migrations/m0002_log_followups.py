"""The log records each op's scope; tasks and conflict records; per-line handover,
return and refund counts; an order's staging place (an HLC-stamped attribute)."""

from sqlalchemy import (
    BigInteger,
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
_BigId = BigInteger().with_variant(Integer(), "sqlite")

Table(
    "tasks",
    meta,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("location", String(64), nullable=False),
    Column("for_role", String(32), nullable=False),
    Column("sentence", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("order_id", String(64)),
    Column("op_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_tasks_location_status", "location", "status"),
)
Table(
    "conflicts",
    meta,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("rule", String(64), nullable=False),
    Column("op_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("location", String(64)),
    Column("inputs", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("hlc", String(128), nullable=False),
    Index("ix_conflicts_device", "device_id"),
)
Table(
    "returns",
    meta,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64)),
    Column("location", String(64), nullable=False),
    Column("lines", Text, nullable=False),
    Column("op_id", String(64), nullable=False),
)

_COLUMNS = [
    ("op_log", "location", "VARCHAR(64)"),
    ("order_lines", "qty_handed_over", "INTEGER NOT NULL DEFAULT 0"),
    ("order_lines", "qty_returned", "INTEGER NOT NULL DEFAULT 0"),
    ("order_lines", "qty_refunded", "INTEGER NOT NULL DEFAULT 0"),
    ("orders", "staging", "VARCHAR(64)"),
    ("orders", "staging_hlc", "VARCHAR(128)"),
]


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    for table, column, ddl in _COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
