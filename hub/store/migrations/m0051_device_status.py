"""Whether each device is online, as the hub's sweep last logged it (`device.status_set`)."""

from sqlalchemy import Boolean, Column, Connection, Integer, MetaData, String, Table

meta = MetaData()

Table(
    "device_status",
    meta,
    Column("device_id", String(64), primary_key=True),
    Column("location", String(64), nullable=False),
    Column("online", Boolean, nullable=False),
    Column("unsent_ops", Integer, nullable=False),
    Column("last_seen_at", String(40)),
    Column("changed_at", String(40), nullable=False),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
