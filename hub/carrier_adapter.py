"""The carrier adapter interface: what Backroom asks of a carrier, whoever it is.

    quote(parcel)                    the carrier's services for a parcel, priced, with why each cannot
    create_shipment(parcel, service) book it: the tracking number and what the label prints
    manifest(location, day)          the parcels handed over at a location on a day

`RateTableCarrier` is the one real implementation: it answers from the rate table the
administrator loaded (sync.carriers), issues tracking numbers itself from the carton's
SSCC (unique, and possible offline: no carrier is asked), and reads the manifest from
the hub's handover records. An adapter for a carrier's own web API (booking, labels,
pick-up manifests) would implement the same Protocol; none is written because this
machine cannot reach any carrier's API (no network route to them, no accounts), and an
adapter that was never run against the real service would be a stub. Such an adapter
would run at the hub, after the carton's op is applied (the floor never waits for a
carrier), and store the carrier's tracking number beside ours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Protocol, runtime_checkable

from hub.errors import Invalid
from sync.carriers import RateTable, choose, destination, tracking_number

__all__ = ["Parcel", "Quote", "Booking", "CarrierAdapter", "RateTableCarrier"]


@dataclass(frozen=True)
class Parcel:
    """One carton to send: its SSCC, weight, where it goes from and to, and by when."""

    carton_id: str
    weight_g: int
    location: str
    ship_to: dict[str, Any]  # sync.models.Address as a dict
    ship_day: date
    promised_day: date | None = None


@dataclass(frozen=True)
class Quote:
    """A service's answer for a parcel: price and transit, or why it cannot take it."""

    carrier: str
    service: str
    name: str
    price_cents: int | None
    transit_days: int | None
    on_time: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Booking:
    """A parcel booked with a service: the tracking number and the label's carrier lines."""

    carrier: str
    service: str
    tracking: str
    label_heading: str  # "PARCEL STANDARD": what the label prints above the tracking barcode


@runtime_checkable
class CarrierAdapter(Protocol):
    """What Backroom asks of a carrier (see the module's docstring)."""

    code: str

    def quote(self, parcel: Parcel) -> list[Quote]:
        """Every service of this carrier for the parcel; those that cannot take it say why."""
        ...

    def create_shipment(self, parcel: Parcel, service: str) -> Booking:
        """Book the parcel with `service`. Raises Invalid if the service cannot take it."""
        ...

    def manifest(self, location: str, day: date) -> list[dict[str, Any]]:
        """The parcels handed to this carrier at `location` on `day` (hub.carrier_actions.MANIFEST_COLUMNS)."""
        ...


class RateTableCarrier:
    """A carrier as the loaded rate table describes it. `handed_over(location, day, carrier)`
    reads the manifest rows (hub.carrier_actions.manifest on an open transaction)."""

    def __init__(self, code: str, table: RateTable, origins: dict[str, list[float]],
                 handed_over: Callable[[str, str, str], list[dict[str, Any]]]):
        if not any(s.carrier == code for s in table.services):
            raise Invalid(f"carrier {code!r} has no service in the rate table")
        self.code, self._table, self._origins, self._handed_over = code, table, origins, handed_over

    def quote(self, parcel: Parcel) -> list[Quote]:
        dest = destination(parcel.ship_to, self._origins.get(parcel.location))
        choice = choose(self._table, parcel.weight_g, dest, parcel.ship_day, parcel.promised_day)
        return [Quote(o.carrier, o.service, o.name, o.price_cents, o.transit_days, o.on_time,
                      tuple(r for r in o.reasons if not r.startswith("chosen") and "more than" not in r))
                for o in choice.options if o.carrier == self.code]

    def create_shipment(self, parcel: Parcel, service: str) -> Booking:
        quote = next((q for q in self.quote(parcel) if q.service == service), None)
        if quote is None:
            raise Invalid(f"{self.code} has no service {service!r}")
        if quote.price_cents is None:
            raise Invalid(f"{self.code} {service} cannot take carton {parcel.carton_id}: {'; '.join(quote.reasons)}")
        prefix = next(s.tracking_prefix for s in self._table.services if s.carrier == self.code)
        try:
            tracking = tracking_number(prefix, parcel.carton_id)
        except ValueError as exc:
            raise Invalid(f"carton {parcel.carton_id}: {exc}") from exc
        return Booking(self.code, service, tracking, f"{self.code} {service}".upper())

    def manifest(self, location: str, day: date) -> list[dict[str, Any]]:
        return self._handed_over(location, day.isoformat(), self.code)
