"""Escrow: per-device allotments (leases) of units per (location, SKU), and the
stock policy that says what safety stock to keep and which SKUs terminals may
sell offline."""

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)

meta = MetaData()

Table(
    "allotments",
    meta,
    Column("device_id", String(64), nullable=False),
    Column("location", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("granted", Integer, nullable=False),
    Column("used", Integer, nullable=False),
    Column("released", Integer, nullable=False),
    Column("target", Integer, nullable=False),
    Column("expires_at", String(40), nullable=False),
    PrimaryKeyConstraint("device_id", "sku"),
)
Table(
    "stock_policy",
    meta,
    Column("location", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("escrow_floor", Integer, nullable=False),
    PrimaryKeyConstraint("location", "sku"),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    conn.execute(text("CREATE INDEX ix_allotments_loc_sku ON allotments (location, sku)"))
    conn.execute(text("ALTER TABLE devices ADD COLUMN health TEXT"))
