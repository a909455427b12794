"""The hub's scheduled jobs (hub.jobs): when each last ran, what it did, and a lease so
that of several `hub serve` instances on one PostgreSQL database one runs a job at a time."""

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text

meta = MetaData()

Table(
    "job_runs",
    meta,
    Column("job", String(64), primary_key=True),
    Column("lease_holder", String(128)),
    Column("lease_until", String(40)),  # ISO 8601 UTC; a holder that died frees it at this time
    Column("last_started_at", String(40)),
    Column("last_finished_at", String(40)),
    Column("last_result", Text),
    Column("last_error", Text),
    Column("runs", Integer, nullable=False, server_default="0"),
    Column("failures", Integer, nullable=False, server_default="0"),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
