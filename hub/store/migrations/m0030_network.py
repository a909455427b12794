"""A store network's set-up: a location's address, coordinates, time zone, opening
hours and daily order capacity; a bin's zone; an item's dimensions and hazmat and
age flags; transfers of stock between locations (shipped, in transit, received);
and the indexes the set-up lists page by."""

from sqlalchemy import Column, Connection, Index, MetaData, String, Table, Text, inspect, text

meta = MetaData()

Table(
    "transfers",
    meta,
    Column("transfer_id", String(64), primary_key=True),
    Column("from_location", String(64), nullable=False),
    Column("to_location", String(64), nullable=False),
    Column("lines", Text, nullable=False),  # JSON [{bin, sku, qty}] as shipped
    Column("status", String(16), nullable=False),  # in_transit, received
    Column("shipped_hlc", String(128), nullable=False),
    Column("received_bin", String(64)),
    Column("received_hlc", String(128)),
    Index("ix_transfers_status", "status", "transfer_id"),
)

# Column names are shared with other work on locations (routing reads lat, lon, time_zone,
# opening_hours, daily_capacity): a column already there is left as it is.
_COLUMNS = [
    ("locations", "address", "VARCHAR(300)"), ("locations", "lat", "FLOAT"), ("locations", "lon", "FLOAT"),
    ("locations", "time_zone", "VARCHAR(64)"), ("locations", "opening_hours", "TEXT"),
    ("locations", "daily_capacity", "INTEGER"),
    ("bins", "zone", "VARCHAR(64)"),
    ("items", "length_mm", "INTEGER"), ("items", "width_mm", "INTEGER"), ("items", "height_mm", "INTEGER"),
    ("items", "hazmat", "INTEGER NOT NULL DEFAULT 0"), ("items", "min_age", "INTEGER"),
]
_INDEXES = [
    ("ix_bins_zone", "bins (location, zone, seq)"),
    ("ix_movements_loc_bin", "movements (location, bin, id)"),
    ("ix_operators_role", "operators (location, role, operator_id)"),
]


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    have = {table: {c["name"] for c in inspect(conn).get_columns(table)} for table in ("locations", "bins", "items")}
    for table, column, ddl in _COLUMNS:
        if column not in have[table]:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    for name, columns in _INDEXES:
        conn.execute(text(f"CREATE INDEX {name} ON {columns}"))
    # Item search is by SKU prefix or name prefix: pattern ops on PostgreSQL outside the C locale.
    pattern = " text_pattern_ops" if conn.dialect.name == "postgresql" else ""
    conn.execute(text(f"CREATE INDEX ix_items_name ON items (lower(name){pattern})"))
    conn.execute(text(f"CREATE INDEX ix_items_sku_prefix ON items (sku{pattern})"))
