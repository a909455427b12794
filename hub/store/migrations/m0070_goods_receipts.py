"""Goods received on the floor: one row per `goods.received` op beside its movement in the
ledger, with what the stock movement has no column for (the GTIN scanned, batch, expiry,
the delivery note it came with)."""

from sqlalchemy import Column, Connection, Index, Integer, MetaData, String, Table

meta = MetaData()

Table(
    "goods_receipts",
    meta,
    Column("op_id", String(64), primary_key=True),
    Column("location", String(64), nullable=False),
    Column("bin", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("gtin", String(14)),
    Column("batch", String(20)),
    Column("expiry", String(10)),
    Column("reference", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("hlc", String(64), nullable=False),
    Index("ix_goods_receipts_place", "location", "sku", "bin"),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
