"""The carrier service for a carton, chosen on the device from the rate table the hub
published (sync.carriers, the same rules the hub runs), so a carton closed offline gets
the carrier, service and tracking number the hub would give it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from edge_app.local.replica import Replica
from sync.carriers import Choice, RateTable, Service, choose, destination, tracking_number

__all__ = ["CarrierPick", "rate_table", "ship_to_of", "carton_carrier"]


@dataclass(frozen=True)
class CarrierPick:
    """The service chosen for a carton, its tracking number and why (one sentence per option)."""

    version: int
    service: Service
    tracking: str
    choice: Choice

    def payload(self) -> dict[str, Any]:
        """The fields `pack.carton_closed` carries for it."""
        return {"carrier": self.service.carrier, "service": self.service.service, "tracking": self.tracking,
                "rates_version": self.version}


def rate_table(replica: Replica) -> tuple[int, RateTable, dict[str, Any]] | None:
    """(version, table, origins) as last pulled, or None if the hub has published none."""
    row = replica.query_one("SELECT version, digest FROM carrier_rates WHERE key = 'current'")
    if row is None:
        return None
    known = _KNOWN_TABLES.get(row["digest"])
    if known is None:  # parsed once per version: a large table is megabytes of JSON
        body = json.loads(replica.query_row("SELECT data FROM carrier_rates WHERE key = 'current'")["data"])
        known = (RateTable.model_validate(body["table"]), body.get("origins") or {})
        if len(_KNOWN_TABLES) >= 4:
            _KNOWN_TABLES.clear()
        _KNOWN_TABLES[row["digest"]] = known
    return row["version"], known[0], known[1]


_KNOWN_TABLES: dict[str, tuple[RateTable, dict[str, Any]]] = {}


def ship_to_of(replica: Replica, order_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(ship-to address, contact) of the order as dicts; None where the order has none."""
    row = replica.query_one("SELECT ship_to, contact FROM orders WHERE id = ?", (order_id,))
    if row is None:
        return None, None
    return (json.loads(row["ship_to"]) if row["ship_to"] else None,
            json.loads(row["contact"]) if row["contact"] else None)


def carton_carrier(replica: Replica, order_id: str, carton_id: str, weight_g: int, today: date) -> CarrierPick | None:
    """The service for a carton of the order, or None: no address (a pickup), no rate
    table pulled yet, or no service takes it (the hub then records none either)."""
    table = rate_table(replica)
    ship_to, _contact = ship_to_of(replica, order_id)
    order = replica.query_one("SELECT promised_by FROM orders WHERE id = ?", (order_id,))
    if table is None or ship_to is None or order is None:
        return None
    version, rates, origins = table
    dest = destination(ship_to, origins.get(replica.get_meta("location") or ""))
    choice = choose(rates, weight_g, dest, today, _day(order["promised_by"]))
    if choice.chosen is None:
        return None
    service = next(s for s in rates.services if (s.carrier, s.service) == (choice.chosen.carrier, choice.chosen.service))
    try:
        tracking = tracking_number(service.tracking_prefix, carton_id)
    except ValueError:
        return None
    return CarrierPick(version, service, tracking, choice)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    return datetime.fromisoformat(value).date()  # the day as written, as the hub reads it (hub.domain.carriers)
