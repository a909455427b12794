"""Carriers: the rate table an administrator loads, choosing a carrier service for a
carton by rules, and tracking numbers. Pure, and shared: the hub chooses with it when
a carton is closed, and a device chooses with the same table (pulled through the
change feed) when it closes a carton offline, so both reach the same choice.

Rules, in order:
1. The destination's zone: the zone rows of its country whose postal prefix it starts
   with and whose distance band (if the row has one) holds its distance from the
   shipping location; the most specific row wins (longest prefix, then a banded row),
   then the first in the file.
2. Each service's rate in that zone: the lightest weight band the carton fits in.
3. The cheapest service whose transit keeps the order's promise (ship day + transit
   days, calendar days in UTC, on or before the promised day); ties go to the faster,
   then to the carrier and service codes. If none keeps it: the fastest, then cheapest.

Tracking numbers are issued offline without asking anyone: the carrier's two-letter
prefix, the carton's SSCC without its check digit (17 digits: unique by GS1's rules,
and our cartons are unique by the hub's `carton_exists` check), and a mod-11 check
digit (the weights UPU S10 uses), which catches every single wrong digit and most
swapped pairs. See docs/carriers.md."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from sync.kinds import PRINTABLE, Code

__all__ = ["Service", "Zone", "Rate", "RateTable", "Destination", "Option", "Choice", "zone_for", "choose",
           "destination", "distance_km", "tracking_number", "tracking_check_digit", "is_tracking_number",
           "TRACKING_PATTERN"]

TRACKING_PATTERN = r"^[A-Z]{2}[0-9]{18}$"
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)  # UPU S10's check-digit weights, repeated over the digits
Name = Annotated[str, Field(min_length=1, max_length=60, pattern=PRINTABLE)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Service(_Strict):
    """A carrier's service (PARCEL standard, PARCEL express …) and its tracking prefix."""

    carrier: Code
    service: Code
    name: Name
    tracking_prefix: str = Field(pattern=r"^[A-Z]{2}$")


class Zone(_Strict):
    """One zone row: a country, a postal-code prefix ("" for the whole country) and
    optionally a distance band from the shipping location, [min_km, max_km)."""

    zone: Code
    country: str = Field(pattern=r"^[A-Z]{2}$")
    postal_prefix: str = Field(default="", pattern=r"^[A-Z0-9]{0,10}$")
    min_km: float | None = Field(default=None, ge=0, le=40_000)
    max_km: float | None = Field(default=None, gt=0, le=40_000)

    @property
    def banded(self) -> bool:
        return self.min_km is not None or self.max_km is not None


class Rate(_Strict):
    """A service's price and transit in a zone for cartons up to `max_weight_g`."""

    carrier: Code
    service: Code
    zone: Code
    max_weight_g: int = Field(gt=0, le=1_000_000)
    price_cents: int = Field(ge=0, le=100_000_000)
    transit_days: int = Field(ge=0, le=60)


class RateTable(_Strict):
    """Every service, zone row and rate: loaded whole, one version at a time."""

    services: list[Service] = Field(min_length=1, max_length=200)
    zones: list[Zone] = Field(min_length=1, max_length=20_000)
    rates: list[Rate] = Field(min_length=1, max_length=100_000)
    # (carrier, service, zone) → its weight bands, lightest first: built once per table,
    # so a choice reads a few bands instead of every rate
    _bands: dict[tuple[str, str, str], list[Rate]] = PrivateAttr(default_factory=dict)
    _zone_rows: dict[tuple[str, str], list[tuple[int, Zone]]] = PrivateAttr(default_factory=dict)  # (country, prefix)

    @model_validator(mode="after")
    def _consistent(self) -> "RateTable":
        for problem in table_problems(self):
            raise ValueError(problem)
        return self

    def model_post_init(self, _context: Any) -> None:
        for rate in sorted(self.rates, key=lambda r: r.max_weight_g):
            self._bands.setdefault((rate.carrier, rate.service, rate.zone), []).append(rate)
        for i, zone in enumerate(self.zones):
            self._zone_rows.setdefault((zone.country, zone.postal_prefix), []).append((i, zone))

    def zone_rows(self, dest: "Destination") -> list[tuple[int, Zone]]:
        """(file position, row) of the zone rows whose country and postal prefix hold `dest`."""
        key = dest.postal_key
        return [row for n in range(len(key) + 1) for row in self._zone_rows.get((dest.country, key[:n]), [])]

    def bands(self, carrier: str, service: str, zone: str) -> list[Rate]:
        """The service's weight bands in the zone, lightest first (empty: it does not serve it)."""
        return self._bands.get((carrier, service, zone), [])


def table_problems(table: RateTable) -> list[str]:
    """What does not hold together across the table's parts (each part read fine)."""
    problems = []
    prefixes: dict[str, str] = {}
    owners: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for s in table.services:
        if (s.carrier, s.service) in seen:
            problems.append(f"service {s.carrier} {s.service} is listed twice")
        seen.add((s.carrier, s.service))
        if prefixes.setdefault(s.carrier, s.tracking_prefix) != s.tracking_prefix:
            problems.append(f"carrier {s.carrier} has two tracking prefixes ({prefixes[s.carrier]}, {s.tracking_prefix})")
        if owners.setdefault(s.tracking_prefix, s.carrier) != s.carrier:
            problems.append(f"tracking prefix {s.tracking_prefix} belongs to {owners[s.tracking_prefix]} and {s.carrier}")
    zones = {z.zone for z in table.zones}
    for z in table.zones:
        if z.min_km is not None and z.max_km is not None and z.min_km >= z.max_km:
            problems.append(f"zone {z.zone}: min_km {z.min_km:g} is not below max_km {z.max_km:g}")
    bands: set[tuple[str, str, str, int]] = set()
    for r in table.rates:
        if (r.carrier, r.service) not in seen:
            problems.append(f"rate for {r.carrier} {r.service}: no such service")
        if r.zone not in zones:
            problems.append(f"rate for {r.carrier} {r.service}: no zone {r.zone}")
        key = (r.carrier, r.service, r.zone, r.max_weight_g)
        if key in bands:
            problems.append(f"rate for {r.carrier} {r.service} in {r.zone} up to {r.max_weight_g} g is listed twice")
        bands.add(key)
    return problems


@dataclass(frozen=True)
class Destination:
    """Where a carton goes: country, postal code (as written) and its distance from the
    shipping location in km, when both ends have coordinates."""

    country: str
    postal_code: str
    km: float | None = None

    @property
    def postal_key(self) -> str:
        return "".join(ch for ch in self.postal_code.upper() if ch.isalnum())


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(min(1.0, a)))


def destination(ship_to: dict[str, Any], origin: tuple[float, float] | list[float] | None) -> Destination:
    """The destination of a ship-to address (`sync.models.Address` as a dict), its
    distance measured from `origin` (lat, lon) when both have coordinates."""
    km = None
    if origin is not None and ship_to.get("lat") is not None and ship_to.get("lon") is not None:
        km = round(distance_km(origin[0], origin[1], ship_to["lat"], ship_to["lon"]), 3)
    return Destination(ship_to["country"], ship_to["postal_code"], km)


def zone_for(zones: list[Zone] | RateTable, dest: Destination) -> tuple[Zone | None, str]:
    """The destination's zone row (most specific first, then file order) and why, in words."""
    rows = zones.zone_rows(dest) if isinstance(zones, RateTable) else list(enumerate(zones))
    matching = []
    for i, z in rows:
        if z.country != dest.country or not dest.postal_key.startswith(z.postal_prefix):
            continue
        if z.banded:
            if dest.km is None:
                continue
            if (z.min_km is not None and dest.km < z.min_km) or (z.max_km is not None and dest.km >= z.max_km):
                continue
        matching.append((-len(z.postal_prefix), not z.banded, i, z))
    where = f"{dest.country} {dest.postal_code}" + (f", {dest.km:.0f} km away" if dest.km is not None else "")
    if not matching:
        return None, f"no zone covers {where}"
    zone = min(matching, key=lambda m: m[:3])[3]
    how = [f"postal prefix {zone.postal_prefix}" if zone.postal_prefix else "the whole country"]
    if zone.banded:
        how.append(f"{zone.min_km or 0:g}-{zone.max_km:g} km" if zone.max_km is not None else f"over {zone.min_km:g} km")
    return zone, f"{where} is in zone {zone.zone} ({', '.join(how)})"


@dataclass
class Option:
    """A service considered for a carton: its rate (None: it has none) and why it lost."""

    carrier: str
    service: str
    name: str
    price_cents: int | None = None
    transit_days: int | None = None
    arrives: date | None = None
    on_time: bool = False
    chosen: bool = False
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"carrier": self.carrier, "service": self.service, "name": self.name, "price_cents": self.price_cents,
                "transit_days": self.transit_days, "arrives": self.arrives.isoformat() if self.arrives else None,
                "on_time": self.on_time, "chosen": self.chosen, "reasons": list(self.reasons)}


@dataclass
class Choice:
    """The service chosen for a carton (None: no service can take it), the rule that
    chose it, the zone, and every option with why it lost."""

    chosen: Option | None
    rule: str  # "cheapest_on_time", "fastest_late" or "none"
    zone: str | None
    why_zone: str
    options: list[Option]

    def explain(self) -> list[str]:
        """One sentence for the zone, then one per option: chosen and why, or why it lost."""
        lines = [self.why_zone[0].upper() + self.why_zone[1:] + "."]
        for o in self.options:
            lines.append(f"{o.carrier} {o.service}: {'; '.join(o.reasons)}.")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "zone": self.zone, "why_zone": self.why_zone,
                "options": [o.as_dict() for o in self.options], "explanation": self.explain()}


def _days(n: int | None) -> str:
    return "same day" if n == 0 else f"{n} day{'' if n == 1 else 's'}"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def choose(table: RateTable, weight_g: int, dest: Destination, ship_day: date, promised_day: date | None) -> Choice:
    """The service for a carton of `weight_g` to `dest` shipped on `ship_day` (see the
    module's rules); `promised_day` None: no promise, the cheapest wins."""
    zone, why_zone = zone_for(table, dest)
    options = [Option(s.carrier, s.service, s.name) for s in table.services]
    if zone is None:
        for o in options:
            o.reasons.append("no zone for the address")
        return Choice(None, "none", None, why_zone, options)
    for o in options:
        _price(table, o, zone.zone, weight_g, ship_day, promised_day)
    priced = [o for o in options if o.price_cents is not None]
    on_time = [o for o in priced if o.on_time]
    if on_time:
        best = min(on_time, key=lambda o: (o.price_cents, o.transit_days, o.carrier, o.service))
        rule = "cheapest_on_time"
    elif priced:
        best = min(priced, key=lambda o: (o.transit_days, o.price_cents, o.carrier, o.service))
        rule = "fastest_late"
    else:
        return Choice(None, "none", zone.zone, why_zone, options)
    best.chosen = True
    _say_why(best, priced, rule)
    return Choice(best, rule, zone.zone, why_zone, options)


def _price(table: RateTable, o: Option, zone: str, weight_g: int, ship_day: date, promised_day: date | None) -> None:
    bands = table.bands(o.carrier, o.service, zone)
    if not bands:
        o.reasons.append(f"does not serve zone {zone}")
        return
    rate = next((r for r in bands if weight_g <= r.max_weight_g), None)
    if rate is None:
        o.reasons.append(f"takes at most {bands[-1].max_weight_g / 1000:g} kg to zone {zone}; "
                         f"the carton weighs {weight_g / 1000:g} kg")
        return
    o.price_cents, o.transit_days = rate.price_cents, rate.transit_days
    o.arrives = ship_day + timedelta(days=rate.transit_days)
    o.on_time = promised_day is None or o.arrives <= promised_day
    if promised_day is not None and not o.on_time:
        o.reasons.append(f"arrives {o.arrives.isoformat()}, after the promised {promised_day.isoformat()}")


def _say_why(best: Option, priced: list[Option], rule: str) -> None:
    price = _money(best.price_cents or 0)
    if rule == "cheapest_on_time":
        best.reasons.insert(0, f"chosen: the cheapest on time ({price}, {_days(best.transit_days)}, arrives {best.arrives})")
    else:
        best.reasons.insert(0, f"chosen: no service keeps the promise, this one is the fastest "
                               f"({_days(best.transit_days)}, {price})")
    for o in priced:
        if o is best or (rule == "cheapest_on_time" and not o.on_time):
            continue
        if rule == "fastest_late" and (o.transit_days or 0) > (best.transit_days or 0):
            o.reasons.append(f"slower ({_days(o.transit_days)} against {best.transit_days})")
        elif (o.price_cents or 0) > (best.price_cents or 0):
            o.reasons.append(f"costs {_money(o.price_cents or 0)}, more than {best.carrier} {best.service}'s {price}")
        else:
            o.reasons.append(f"as cheap, but {best.carrier} {best.service} is faster or first by code")


def tracking_check_digit(digits: str) -> str:
    """The mod-11 check digit of a string of digits (weights 8,6,4,2,3,5,9,7 repeated)."""
    if not digits.isdigit():
        raise ValueError(f"a tracking number's body is digits, not {digits!r}")
    total = sum(int(d) * _WEIGHTS[i % len(_WEIGHTS)] for i, d in enumerate(digits))
    check = 11 - total % 11
    return {10: "0", 11: "5"}.get(check, str(check))


def tracking_number(prefix: str, sscc: str) -> str:
    """The tracking number of the carton `sscc` (18 digits) with a carrier's two-letter
    prefix: prefix + the SSCC's 17 data digits + a mod-11 check digit. Raises ValueError."""
    if len(prefix) != 2 or not prefix.isalpha() or not prefix.isupper():
        raise ValueError(f"a tracking prefix is two capital letters, not {prefix!r}")
    if len(sscc) != 18 or not sscc.isdigit():
        raise ValueError(f"an SSCC is 18 digits, not {sscc!r}")
    body = sscc[:17]
    return prefix + body + tracking_check_digit(body)


def is_tracking_number(text: str) -> bool:
    """Whether `text` reads as one of our tracking numbers, check digit right."""
    return (len(text) == 20 and text[:2].isalpha() and text[:2].isupper() and text[2:].isdigit()
            and tracking_check_digit(text[2:19]) == text[19])
