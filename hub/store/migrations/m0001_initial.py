"""Catalogue, locations and bins, the stock ledger, orders and reservations,
devices and tokens, the op log and the change feed."""

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

meta = MetaData()

# BigInteger autoincrement is BIGSERIAL on PostgreSQL; SQLite only auto-increments
# a column declared INTEGER PRIMARY KEY, hence the variant.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

Table(
    "items",
    meta,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit_weight_g", Integer),
)
Table(
    "barcodes",
    meta,
    Column("code", String(64), primary_key=True),
    Column("sku", String(64), ForeignKey("items.sku"), nullable=False, index=True),
)
Table(
    "locations",
    meta,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
)
Table(
    "bins",
    meta,
    Column("location", String(64), ForeignKey("locations.code"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    PrimaryKeyConstraint("location", "code"),
)
Table(
    "movements",
    meta,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("location", String(64), nullable=False),
    Column("bin", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("order_id", String(64)),
    Column("op_id", String(64)),
    Column("hlc", String(128)),
    Index("ix_movements_loc_sku", "location", "sku"),
)
Table(
    "stock",
    meta,
    Column("location", String(64), nullable=False),
    Column("bin", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("on_hand", Integer, nullable=False),
    PrimaryKeyConstraint("location", "bin", "sku"),
    Index("ix_stock_loc_sku", "location", "sku"),
)
Table(
    "orders",
    meta,
    Column("id", String(64), primary_key=True),
    Column("number", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("fulfilment", String(16), nullable=False),
    Column("promised_by", String(40), nullable=False),
    Column("customer_name", String(200), nullable=False),
    Column("location", String(64)),
    Column("status", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("channel", "number", name="uq_orders_channel_number"),
    Index("ix_orders_location_status", "location", "status"),
)
Table(
    "order_lines",
    meta,
    Column("order_id", String(64), ForeignKey("orders.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("pick_bin", String(64)),
    Column("qty_picked", Integer, nullable=False),
    Column("qty_short", Integer, nullable=False),
    Column("short_reason", String(32)),
    PrimaryKeyConstraint("order_id", "line_no"),
)
Table(
    "reservations",
    meta,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(64), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("location", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Index("ix_reservations_loc_sku", "location", "sku"),
    UniqueConstraint("order_id", "line_no", name="uq_reservations_line"),
)
Table(
    "devices",
    meta,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("location", String(64), ForeignKey("locations.code"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("enrolled_at", String(40), nullable=False),
    Column("last_seen_at", String(40)),
    Column("last_seq", BigInteger, nullable=False),
    Column("cursor", BigInteger, nullable=False),
)
Table(
    "enrollment_codes",
    meta,
    Column("code_hash", String(128), primary_key=True),
    Column("location", String(64), ForeignKey("locations.code"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("used_by", String(64)),
)
Table(
    "api_tokens",
    meta,
    Column("token_hash", String(128), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", String(40), nullable=False),
)
Table(
    "op_log",
    meta,
    Column("log_seq", _BigId, primary_key=True, autoincrement=True),
    Column("op_id", String(64), nullable=False, unique=True),
    Column("device_id", String(64), nullable=False),
    Column("device_seq", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("hlc", String(128), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("result", Text, nullable=False),
    Column("applied_at", String(40), nullable=False),
    UniqueConstraint("device_id", "device_seq", name="uq_op_log_device_seq"),
)
Table(
    "changes",
    meta,
    Column("seq", _BigId, primary_key=True, autoincrement=True),
    Column("scope", String(64), nullable=False),
    Column("entity", String(16), nullable=False),
    Column("key", String(200), nullable=False),
    Column("data", Text),
    Index("ix_changes_scope_seq", "scope", "seq"),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
