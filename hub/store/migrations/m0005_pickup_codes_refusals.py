"""A pickup order's code and the date it waits until, and units
a customer refused at the pickup counter."""

from sqlalchemy import Connection, text

_COLUMNS = [
    ("orders", "pickup_code", "VARCHAR(16)"),
    ("orders", "pickup_by", "VARCHAR(40)"),
    ("order_lines", "qty_refused", "INTEGER NOT NULL DEFAULT 0"),
]


def upgrade(conn: Connection) -> None:
    for table, column, ddl in _COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
