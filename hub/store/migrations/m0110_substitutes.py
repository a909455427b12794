"""Substitution at pick: the catalogue attributes the substitute rule compares
(category, size, price), each item's substitute rule (an explicit list, the category
rule on or off, its price band), and on an order line the substitute taken for it."""

from sqlalchemy import Boolean, Column, Connection, Integer, MetaData, String, Table, Text, text

meta = MetaData()

Table(
    "substitute_rules",
    meta,
    Column("sku", String(64), primary_key=True),
    Column("substitutes", Text, nullable=False),  # JSON list of SKUs, best first
    Column("by_rule", Boolean, nullable=False),
    Column("price_band_pct", Integer, nullable=False),
)

_COLUMNS = (
    ("items", "category", "VARCHAR(64)"),
    ("items", "size_qty", "INTEGER"),
    ("items", "size_unit", "VARCHAR(8)"),
    ("items", "price_cents", "BIGINT"),
    # The substitute taken for the line and how many of its picked units are that item.
    ("order_lines", "substitute_sku", "VARCHAR(64)"),
    ("order_lines", "qty_substituted", "INTEGER NOT NULL DEFAULT 0"),
)


def upgrade(conn: Connection) -> None:
    for table, column, ddl in _COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    meta.create_all(conn)
