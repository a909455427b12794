"""Routing: what a channel says about an order beyond its lines (ship-to address,
contact, priority, substitutes, the location it asked for, the order it was split
from), where locations are and when they are open, routing policies by version,
every routing decision with its explanation, the work routed to a location per day,
what parked orders wait for, and the locations an order may no longer go to.

The extra indexes by SKU let one routing decision read every location's
availability of an order's SKUs in one query per table."""

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    Table,
)

meta = MetaData()
_BigId = BigInteger().with_variant(Integer(), "sqlite")

Table(
    "order_details",
    meta,
    Column("order_id", String(64), primary_key=True),
    Column("requested_location", String(64)),
    Column("ship_to", Text),  # JSON address, or NULL
    Column("contact", Text),  # JSON contact, or NULL
    Column("priority", Integer, nullable=False),
    Column("substitutes", Text, nullable=False),  # JSON list of line numbers that allow substitutes
    Column("parent_id", String(64)),  # the order this one was split from (split, remainder, rejected line)
    Column("link_reason", String(20)),
    Index("ix_order_details_parent", "parent_id"),
)
Table(
    "location_profiles",
    meta,
    Column("code", String(64), primary_key=True),
    Column("lat", Float),
    Column("lon", Float),
    Column("tz_offset_min", Integer, nullable=False),
    Column("hours", Text),  # JSON {"mon": "08:00-20:00", ...}; NULL: always open
    Column("daily_capacity", Integer),
    Column("rank", Integer, nullable=False),
)
Table(
    "routing_network",  # one row: the op that last added or profiled a location (a cache key)
    meta,
    Column("id", Integer, primary_key=True),
    Column("op_id", String(64), nullable=False),
)
Table(
    "routing_policies",
    meta,
    Column("version", Integer, primary_key=True),
    Column("policy", Text, nullable=False),
    Column("note", String(500), nullable=False),
    Column("set_by", String(64), nullable=False),
)
Table(
    "routing_decisions",
    meta,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("at", String(40), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("rule", String(64)),
    Column("shipments", Text, nullable=False),  # JSON [{"location", "lines"}]
    Column("candidates", Text, nullable=False),  # JSON [{"location", "chosen", "reasons"}]
    Column("op_id", String(64)),
    Index("ix_routing_decisions_order", "order_id"),
)
Table(
    "route_loads",
    meta,
    Column("location", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("orders", Integer, nullable=False),
    PrimaryKeyConstraint("location", "day"),
    Index("ix_route_loads_day", "day"),
)
Table(
    "routing_waits",
    meta,
    Column("order_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    PrimaryKeyConstraint("order_id", "sku"),
    Index("ix_routing_waits_sku", "sku"),
)
Table(
    "routing_exclusions",
    meta,
    Column("order_id", String(64), nullable=False),
    Column("location", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    PrimaryKeyConstraint("order_id", "location"),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_stock_sku_loc ON stock (sku, location)")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_reservations_sku_loc ON reservations (sku, location)")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_allotments_sku ON allotments (sku)")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_stock_policy_sku ON stock_policy (sku)")
