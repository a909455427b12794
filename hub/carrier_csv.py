"""Reading a carrier rate table from three CSV files, every bad row reported with its
file and line number (a dry run stops there; a file with one bad row applies nothing):

    services  carrier,service,name,tracking_prefix
    zones     zone,country,postal_prefix,min_km,max_km
    rates     carrier,service,zone,max_weight_g,price,transit_days

A zone is one or more zone rows: a country, a postal-code prefix (empty: the whole
country) and an optional distance band [min_km, max_km) from the shipping location.
A rate is a service's price (in the currency's units, `4.95`) and transit days in a
zone for cartons up to `max_weight_g` (sync.carriers says how one is chosen)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError

from sync.carriers import Rate, RateTable, Service, Zone

__all__ = ["PARTS", "COLUMNS", "Problems", "read_table"]

PARTS = ("services", "zones", "rates")
COLUMNS = {
    "services": ("carrier", "service", "name", "tracking_prefix"),
    "zones": ("zone", "country", "postal_prefix", "min_km", "max_km"),
    "rates": ("carrier", "service", "zone", "max_weight_g", "price", "transit_days"),
}
_OPTIONAL = {"postal_prefix", "min_km", "max_km"}
_MODELS: dict[str, type[BaseModel]] = {"services": Service, "zones": Zone, "rates": Rate}
MAX_SHOWN = 1000


@dataclass
class Problems:
    """Bad rows as (part, line, what is wrong), and the rows read per part."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PARTS, 0))
    bad: list[tuple[str, int, str]] = field(default_factory=list)

    def add(self, part: str, line: int, error: str) -> None:
        self.bad.append((part, line, error))

    def as_list(self) -> list[dict[str, Any]]:
        return [{"file": part, "line": line, "error": error}
                for part, line, error in sorted(self.bad, key=lambda b: (PARTS.index(b[0]), b[1]))[:MAX_SHOWN]]


def read_table(texts: dict[str, str]) -> tuple[RateTable | None, Problems]:
    """The rate table the three CSV texts describe, or None and every problem found."""
    problems = Problems()
    parts: dict[str, list[tuple[int, Any]]] = {}
    for part in PARTS:
        parts[part] = list(_rows(part, texts.get(part) or "", problems))
    _cross_check(parts, problems)
    if problems.bad:
        return None, problems
    try:
        table = RateTable(services=[m for _l, m in parts["services"]], zones=[m for _l, m in parts["zones"]],
                          rates=[m for _l, m in parts["rates"]])
    except ValidationError as exc:  # a limit on the whole table (how many rows)
        err = exc.errors()[0]
        problems.add(str(err["loc"][0]) if err["loc"] else "services", 1, err["msg"])
        return None, problems
    return table, problems


def _rows(part: str, text: str, problems: Problems):
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in COLUMNS[part] if c not in header and c not in _OPTIONAL]
    unknown = [c for c in header if c not in COLUMNS[part]]
    if not header:
        problems.add(part, 1, f"header: the file is empty (columns: {','.join(COLUMNS[part])})")
        return
    if missing or unknown:
        said = [f"missing column {', '.join(missing)}"] if missing else []
        said += [f"unknown column {', '.join(unknown)}"] if unknown else []
        problems.add(part, 1, f"header: {'; '.join(said)} (columns: {','.join(COLUMNS[part])})")
        return
    last = reader.line_num
    for record in reader:
        line, last = last + 1, reader.line_num
        problems.rows[part] += 1
        if None in record:
            problems.add(part, line, f"this row has more fields than the header's {len(header)}")
            continue
        try:
            yield line, _model(part, {k: (v or "").strip() for k, v in record.items()})
        except ValueError as exc:
            problems.add(part, line, str(exc))
    if problems.rows[part] == 0:
        problems.add(part, 1, f"no {part}: the file has a header but no rows")


def _model(part: str, record: dict[str, str]) -> Any:
    values: dict[str, Any] = {}
    for column, raw in record.items():
        if raw == "" and column in _OPTIONAL:
            continue
        values["price_cents" if column == "price" else column] = _value(column, raw)
    if part == "zones":
        values["postal_prefix"] = "".join(ch for ch in values.get("postal_prefix", "").upper() if ch.isalnum())
    try:
        return _MODELS[part].model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{where}: {err['msg']}" if where else err["msg"]) from None


def _value(column: str, raw: str) -> Any:
    if column == "price":
        try:
            cents = Decimal(raw) * 100
        except InvalidOperation:
            raise ValueError(f"price: {raw!r} is not a number (write 4.95)") from None
        if cents != cents.to_integral_value():
            raise ValueError(f"price: {raw!r} has more than two decimals")
        if cents < 0:
            raise ValueError(f"price: {raw!r} is below zero")
        return int(cents)
    if column in ("max_weight_g", "transit_days"):
        if not raw.lstrip("-").isdigit():
            raise ValueError(f"{column}: {raw!r} is not a whole number")
        return int(raw)
    if column in ("min_km", "max_km"):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{column}: {raw!r} is not a number") from None
    return raw


def _cross_check(parts: dict[str, list[tuple[int, Any]]], problems: Problems) -> None:
    """What ties the files together: each problem on the line that breaks it."""
    services: dict[tuple[str, str], int] = {}
    prefixes: dict[str, str] = {}
    owners: dict[str, str] = {}
    for line, s in parts["services"]:
        if (s.carrier, s.service) in services:
            problems.add("services", line, f"service {s.carrier} {s.service} is listed on line {services[(s.carrier, s.service)]} already")
        services.setdefault((s.carrier, s.service), line)
        if prefixes.setdefault(s.carrier, s.tracking_prefix) != s.tracking_prefix:
            problems.add("services", line, f"carrier {s.carrier} has tracking prefix {prefixes[s.carrier]} on an earlier line")
        elif owners.setdefault(s.tracking_prefix, s.carrier) != s.carrier:
            problems.add("services", line, f"tracking prefix {s.tracking_prefix} is {owners[s.tracking_prefix]}'s already")
    zones = set()
    for line, z in parts["zones"]:
        zones.add(z.zone)
        if z.min_km is not None and z.max_km is not None and z.min_km >= z.max_km:
            problems.add("zones", line, f"min_km {z.min_km:g} is not below max_km {z.max_km:g}")
    bands: dict[tuple[str, str, str, int], int] = {}
    for line, r in parts["rates"]:
        if (r.carrier, r.service) not in services:
            problems.add("rates", line, f"no service {r.carrier} {r.service} in the services file")
        if r.zone not in zones:
            problems.add("rates", line, f"no zone {r.zone} in the zones file")
        key = (r.carrier, r.service, r.zone, r.max_weight_g)
        if key in bands:
            problems.add("rates", line, f"the same band as line {bands[key]} ({r.carrier} {r.service}, {r.zone}, "
                                        f"up to {r.max_weight_g} g)")
        bands.setdefault(key, line)
