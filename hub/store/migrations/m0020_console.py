"""The admin console: administrators (a hashed password, a role, the locations a store
manager runs) and their sessions; and what the console reads the op log by without
scanning it: each logged op's order and answer (indexed), filled in for the log so far."""

import json
import re

from sqlalchemy import Column, Connection, Index, MetaData, String, Table, Text, text

meta = MetaData()

Table(
    "admins",
    meta,
    Column("login", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(32), nullable=False),  # network_admin, store_manager, viewer
    Column("locations", Text, nullable=False),  # JSON list; a store manager's scope
    Column("password_hash", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("disabled_at", String(40)),
)
Table(
    "admin_sessions",
    meta,
    Column("token_hash", String(128), primary_key=True),
    Column("login", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("seen_at", String(40), nullable=False),
    Column("client", String(64), nullable=False),
    Index("ix_admin_sessions_login", "login"),
)
Table(
    "op_reviews",  # refused ops an administrator has looked at, and what they decided
    meta,
    Column("op_id", String(64), primary_key=True),
    Column("reviewed_by", String(100), nullable=False),
    Column("reviewed_at", String(40), nullable=False),
    Column("note", String(500), nullable=False),
)

_COLUMNS = [
    ("op_log", "order_id", "VARCHAR(64)"), ("op_log", "status", "VARCHAR(16)"),
    # The exceptions queue: who a task is assigned to, how a task or a conflict was closed.
    ("tasks", "assigned_to", "VARCHAR(64)"), ("tasks", "note", "VARCHAR(500)"),
    ("conflicts", "resolved_by", "VARCHAR(100)"), ("conflicts", "resolved_at", "VARCHAR(40)"),
    ("conflicts", "note", "VARCHAR(500)"),
]
_INDEXES = [
    ("ix_orders_created", "orders (created_at, id)"),
    ("ix_orders_status_promised", "orders (status, promised_by)"),
    ("ix_orders_location_created", "orders (location, created_at, id)"),
    ("ix_orders_status_created", "orders (status, created_at, id)"),
    ("ix_orders_status_location", "orders (status, location)"),  # the overview's open orders by location
    ("ix_order_lines_sku", "order_lines (sku, order_id)"),
    ("ix_conflicts_hlc", "conflicts (hlc)"),
    ("ix_tasks_order", "tasks (order_id)"),  # an order's page; tasks are few, the write is cheap
]


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    for table, column, ddl in _COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    _fill(conn)
    conn.execute(text("CREATE INDEX ix_op_log_order ON op_log (order_id, log_seq)"))
    conn.execute(text("CREATE INDEX ix_op_log_status ON op_log (status, log_seq)"))
    # The console's lists page through a million orders by these, never the whole table.
    for name, columns in _INDEXES:
        conn.execute(text(f"CREATE INDEX {name} ON {columns}"))
    # Searches are by prefix (LIKE 'W-10%'): PostgreSQL needs pattern ops for that outside the C locale.
    pattern = " text_pattern_ops" if conn.dialect.name == "postgresql" else ""
    conn.execute(text(f"CREATE INDEX ix_orders_number_prefix ON orders (number{pattern})"))
    conn.execute(text(f"CREATE INDEX ix_orders_customer ON orders (lower(customer_name){pattern})"))


def _fill(conn: Connection) -> None:
    """The order and answer of every op logged before these columns existed, in pages."""
    after = 0
    while True:
        rows = conn.execute(text("SELECT log_seq, kind, payload, result FROM op_log WHERE log_seq > :a "
                                 "ORDER BY log_seq LIMIT 5000"), {"a": after}).all()
        if not rows:
            return
        conn.execute(text("UPDATE op_log SET order_id = :o, status = :s WHERE log_seq = :q"), [
            {"q": r.log_seq, "o": order_of(r.kind, json.loads(r.payload)), "s": json.loads(r.result).get("status")}
            for r in rows])
        after = rows[-1].log_seq


def order_of(kind: str, payload: object) -> str | None:
    """The order an op is about, if any (the same rule as hub.log's at the time of writing)."""
    if not isinstance(payload, dict):
        return None
    value = payload.get("id") if kind == "order.accepted" else payload.get("order_id")
    return value if isinstance(value, str) and re.fullmatch(r"[^\x00-\x1f\x7f]{1,64}", value) else None
