"""Events out: the outbox of CloudEvents written with each change (hub.events), the
status of each order as last announced, the relay's cursors, webhook subscriptions
with their cursor and retry state, their dead letters; the SLA risk of open orders
(written by `order.risk_assessed`) and the index events read conflicts by."""

from sqlalchemy import BigInteger, Column, Connection, Index, Integer, MetaData, String, Table, Text

meta = MetaData()

# BigInteger autoincrement is BIGSERIAL on PostgreSQL; SQLite auto-increments INTEGER PRIMARY KEY.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

Table(
    "events",
    meta,
    Column("position", _BigId, primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False),  # <op_id>:<n>, stable: a consumer de-duplicates by it
    Column("type", String(64), nullable=False),
    Column("subject", String(200)),
    Column("location", String(64)),
    Column("time", String(40), nullable=False),
    Column("data", Text, nullable=False),
)
Table(
    "event_order_status",  # the status each order was last announced in
    meta,
    Column("order_id", String(64), primary_key=True),
    Column("status", String(32), nullable=False),
)
Table(
    "relay_cursors",
    meta,
    Column("name", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", String(40), nullable=False),
)
Table(
    "webhooks",
    meta,
    Column("id", String(32), primary_key=True),
    Column("url", String(500), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("types", Text, nullable=False),  # JSON list of type patterns ("backroom.order.*"); [] = all
    Column("locations", Text, nullable=False),  # JSON list; [] = all
    Column("cursor", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),  # failed tries of the event after the cursor
    Column("next_attempt_at", String(40)),
    Column("last_error", String(500)),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("disabled_at", String(40)),
)
Table(
    "webhook_dead_letters",
    meta,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("webhook_id", String(32), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("event_id", String(80), nullable=False),
    Column("type", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500), nullable=False),
    Column("dead_at", String(40), nullable=False),
    Index("ix_webhook_dead_letters_hook", "webhook_id", "id"),
)
Table(
    "order_risk",  # the SLA risk last assessed for an open order (hub.insight.risk)
    meta,
    Column("order_id", String(64), primary_key=True),
    Column("location", String(64)),
    Column("level", String(16), nullable=False),  # ok | at_risk | late
    Column("reason", String(500), nullable=False),
    Column("assessed_at", String(40), nullable=False),
    Index("ix_order_risk_level", "level", "location"),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
