"""Carriers against the hub's tables: rate tables by version (shipped to every device
through the change feed, so a device closing a carton offline chooses as the hub
would), the carrier service and tracking number of each carton of a shipped order,
and its handover to the carrier (what the manifest lists).

The choice itself is sync.carriers.choose, pure; it runs here inside the handler of a
logged op, at the time the op's clock carries, so a replay reaches the same choice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from hub.commands import CarrierRatesSet
from hub.domain.routing import op_time, parse_time
from hub.feed import ALL_LOCATIONS, emit
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.carriers import Choice, RateTable, choose, destination, tracking_number
from sync.kinds import CartonClosed, HandedToCarrier
from sync.models import Op

__all__ = ["RATES_ENTITY", "rates_set", "current_rates", "order_rates", "OrderRates", "hub_choice", "record_carton",
           "record_handover"]

RATES_ENTITY = "carrier_rates"  # the change feed's entity (one key, "current", to every location)


def rates_set(conn: Tx, _ctx: Context, op: Op, p: CarrierRatesSet) -> Outcome:
    """Store the next version with where each location ships from now, and publish it."""
    version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM carrier_rate_tables").scalar_one()
    origins = _origins(conn)
    rates, where = p.table.model_dump_json(), json.dumps(origins, sort_keys=True)
    digest = hashlib.sha256(f"{rates}\n{where}".encode()).hexdigest()
    conn.execute("INSERT INTO carrier_rate_tables (version, rates, origins, digest, note, set_by) "
                 "VALUES (:v, :r, :o, :d, :n, :b)",
                 {"v": version, "r": rates, "o": where, "d": digest, "n": p.note, "b": op.actor})
    emit(conn, ALL_LOCATIONS, RATES_ENTITY, "current",
         {"version": version, "digest": digest, "table": json.loads(rates), "origins": origins})
    services, zones, bands = len(p.table.services), len(p.table.zones), len(p.table.rates)
    return Outcome(message=f"carrier rate table version {version}: {services} services, {zones} zone rows, {bands} rates")


def _origins(conn: Tx) -> dict[str, list[float]]:
    """Each location's coordinates (its routing profile's, else its set-up's), for
    distance bands: kept with the table, so hub and devices measure from the same place."""
    rows = conn.execute("SELECT l.code, COALESCE(p.lat, l.lat) AS lat, COALESCE(p.lon, l.lon) AS lon "
                        "FROM locations l LEFT JOIN location_profiles p ON p.code = l.code").all()
    return {r.code: [r.lat, r.lon] for r in rows if r.lat is not None and r.lon is not None}


def current_rates(conn: Tx) -> tuple[int, RateTable, dict[str, list[float]]] | None:
    """(version, table, origins) in force, or None before any table is loaded. Parsed
    once per process under the table's digest (a large table is megabytes of JSON)."""
    row = conn.execute("SELECT version, digest FROM carrier_rate_tables ORDER BY version DESC LIMIT 1").first()
    if row is None:
        return None
    known = _KNOWN_TABLES.get(row.digest)
    if known is None:
        text = conn.execute("SELECT rates, origins FROM carrier_rate_tables WHERE version = :v", {"v": row.version}).one()
        known = (RateTable.model_validate_json(text.rates), json.loads(text.origins))
        if len(_KNOWN_TABLES) >= 4:
            _KNOWN_TABLES.clear()
        _KNOWN_TABLES[row.digest] = known
    return row.version, known[0], known[1]


_KNOWN_TABLES: dict[str, tuple[RateTable, dict[str, list[float]]]] = {}


def hub_choice(conn: Tx, order_id: str, location: str, weight_g: int, ship_day: date) -> tuple[int, Choice] | None:
    """(rate table version, choice) for a carton of the order, or None: no ship-to
    address (a pickup) or no rate table loaded."""
    decided = _decide(conn, order_id, location, weight_g, ship_day)
    return (decided[0], decided[2]) if decided else None


class OrderRates(NamedTuple):
    """The rate table in force and what an order needs priced: where it goes, by when."""

    version: int
    table: RateTable
    origins: dict[str, list[float]]
    ship_to: dict[str, Any]
    promised_by: str


def order_rates(conn: Tx, order_id: str) -> OrderRates | None:
    """None without a rate table in force or a ship-to address on the order."""
    rates = current_rates(conn)
    row = conn.execute("SELECT o.promised_by, d.ship_to FROM orders o LEFT JOIN order_details d ON d.order_id = o.id "
                       "WHERE o.id = :o", {"o": order_id}).first()
    if rates is None or row is None or not row.ship_to:
        return None
    return OrderRates(*rates, json.loads(row.ship_to), row.promised_by)


def _decide(conn: Tx, order_id: str, location: str, weight_g: int,
            ship_day: date) -> tuple[int, RateTable, Choice] | None:
    rates = order_rates(conn, order_id)
    if rates is None:
        return None
    dest = destination(rates.ship_to, rates.origins.get(location))
    return rates.version, rates.table, choose(rates.table, weight_g, dest, ship_day, _day(rates.promised_by))


def _day(value: str | datetime | None) -> date | None:
    return parse_time(value).date() if value else None


def record_carton(conn: Tx, op: Op, p: CartonClosed, location: str) -> str | None:
    """Record the carton's carrier service: the device's, as printed on its label (a fact),
    else the hub's own choice (an app without the table). Returns a sentence when the
    device chose otherwise than the hub would now (it held an older table), else None."""
    at = op_time(op.hlc)
    decided = _decide(conn, p.order_id, location, p.weight_g, at.date()) if at else None
    hub = decided[2] if decided else None
    if p.carrier is not None:
        shipment = _Shipment(p.carrier, p.service, p.tracking, p.rates_version, "device")
    elif decided is not None and (pick := decided[2].chosen) is not None:
        version, table, _choice = decided
        prefix = next(s.tracking_prefix for s in table.services if (s.carrier, s.service) == (pick.carrier, pick.service))
        shipment = _Shipment(pick.carrier, pick.service, _tracking(prefix, p.carton_id), version, "hub")
    else:
        return None  # no address, no table, or no service takes it: the handover records the carrier named
    option = next((o for o in hub.options if (o.carrier, o.service) == (shipment.carrier, shipment.service)), None) if hub else None
    agrees = option is not None and option.chosen
    choice_json = {"rule": hub.rule if hub else None, "zone": hub.zone if hub else None, "agrees": agrees,
                   "hub": hub.as_dict() if hub else None}
    conn.execute(
        "INSERT INTO carton_shipments (carton_id, order_id, location, carrier, service, tracking, zone, price_cents, "
        "rates_version, chosen_by, choice) VALUES (:c, :o, :l, :carrier, :service, :tracking, :z, :price, :v, :by, :choice)",
        {"c": p.carton_id, "o": p.order_id, "l": location, "carrier": shipment.carrier, "service": shipment.service,
         "tracking": shipment.tracking, "z": hub.zone if hub else None, "price": option.price_cents if option else None,
         "v": shipment.rates_version, "by": shipment.chosen_by, "choice": json.dumps(choice_json, sort_keys=True)})
    if agrees or hub is None or hub.chosen is None:
        return None
    return (f"carton {p.carton_id} went with {p.carrier} {p.service} (rate table version {p.rates_version}); "
            f"the hub's table (version {decided[0] if decided else '?'}) would choose {hub.chosen.carrier} {hub.chosen.service}")


@dataclass(frozen=True)
class _Shipment:
    carrier: str
    service: str | None
    tracking: str | None
    rates_version: int | None
    chosen_by: str


def _tracking(prefix: str, carton_id: str) -> str | None:
    try:
        return tracking_number(prefix, carton_id)
    except ValueError:
        return None  # not an SSCC (a carton id typed by hand): no number to derive


def record_handover(conn: Tx, op: Op, p: HandedToCarrier, location: str) -> None:
    """Stamp the cartons with the day and time they went to the carrier; a carton with no
    carrier service recorded (no address, no table) goes with the carrier the device named."""
    at = op_time(op.hlc)
    day, when = (at.date().isoformat(), at.isoformat()) if at else (None, None)
    for carton_id in p.cartons:
        updated = conn.execute("UPDATE carton_shipments SET handed_day = :d, handed_at = :t WHERE carton_id = :c",
                               {"d": day, "t": when, "c": carton_id}).rowcount
        if not updated:
            conn.execute(
                "INSERT INTO carton_shipments (carton_id, order_id, location, carrier, chosen_by, choice, handed_day, "
                "handed_at) VALUES (:c, :o, :l, :carrier, 'handover', '{}', :d, :t)",
                {"c": carton_id, "o": p.order_id, "l": location, "carrier": p.carrier[:64], "d": day, "t": when})
