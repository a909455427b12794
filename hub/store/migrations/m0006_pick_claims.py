"""Which device is picking an order: the claim a handheld makes when it opens the
order to pick (device, operator, and the HLC time of the claim)."""

from sqlalchemy import Connection, text

_COLUMNS = [
    ("orders", "claimed_by", "VARCHAR(64)"),
    ("orders", "claimed_actor", "VARCHAR(64)"),
    ("orders", "claimed_hlc", "VARCHAR(64)"),
]


def upgrade(conn: Connection) -> None:
    for table, column, ddl in _COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
