"""Carriers: rate tables by version (services, zones, rates, and where each location
ships from, as JSON: hub.domain.carriers) and, for each carton, the carrier service it
goes with, its tracking number, why that service, and when it was handed over."""

from sqlalchemy import Column, Connection, Index, Integer, MetaData, String, Table, Text

meta = MetaData()

Table(
    "carrier_rate_tables",
    meta,
    Column("version", Integer, primary_key=True),
    Column("rates", Text, nullable=False),  # JSON sync.carriers.RateTable
    Column("origins", Text, nullable=False),  # JSON {location: [lat, lon]} as the table was loaded
    Column("digest", String(64), nullable=False),  # SHA-256 of both: processes keep a parsed table under it
    Column("note", String(500), nullable=False),
    Column("set_by", String(64), nullable=False),
)
Table(
    "carton_shipments",
    meta,
    Column("carton_id", String(40), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("location", String(64), nullable=False),
    Column("carrier", String(64), nullable=False),
    Column("service", String(64)),  # NULL: handed to a carrier typed on the device, no rate applied
    Column("tracking", String(20)),
    Column("zone", String(64)),
    Column("price_cents", Integer),
    Column("rates_version", Integer),
    Column("chosen_by", String(10), nullable=False),  # device (printed on its label), hub, or handover
    Column("choice", Text, nullable=False),  # JSON: rule, every option and why it lost, and the hub's own choice
    Column("handed_day", String(10)),  # UTC day of the handover, NULL until then
    Column("handed_at", String(40)),
    Index("ix_carton_shipments_manifest", "location", "handed_day", "carrier"),
    Index("ix_carton_shipments_order", "order_id"),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
