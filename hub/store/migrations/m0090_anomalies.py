"""Anomalies the hub found (hub.insight.anomalies logs `anomaly.raised` and
`anomaly.cleared`), and the anomaly policy: what the hub does when one is raised."""

from sqlalchemy import Column, Connection, Index, Integer, MetaData, String, Table, Text

meta = MetaData()

Table(
    "anomalies",
    meta,
    Column("key", String(240), primary_key=True),  # kind:location:subject, one row per thing watched
    Column("kind", String(32), nullable=False),
    Column("location", String(64)),
    Column("subject", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # open | cleared
    Column("evidence", Text, nullable=False),
    Column("numbers", Text, nullable=False),  # JSON
    Column("raised_at", String(40), nullable=False),
    Column("cleared_at", String(40)),
    Column("action", Text, nullable=False),  # what the policy did, in words ("" when nothing)
    Index("ix_anomalies_status_raised", "status", "raised_at"),
    Index("ix_anomalies_location_raised", "location", "raised_at"),
)

Table(
    "anomaly_policies",
    meta,
    Column("version", Integer, primary_key=True),
    Column("rules", Text, nullable=False),  # JSON list of hub.commands.AnomalyRule
    Column("note", Text, nullable=False),
    Column("set_by", String(64), nullable=False),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
