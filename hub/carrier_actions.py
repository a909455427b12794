"""What the API, the CLI and the console ask of carriers: load a rate table from CSV
(a logged hub command; a dry run reports every bad row and changes nothing), read the
table in force, quote an order's carton, read the carrier service of each carton of an
order, and the handover manifest of a location's day per carrier (as rows or CSV).
They never import hub.domain's tables themselves but through here."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from hub.carrier_csv import read_table
from hub.domain.carriers import current_rates, hub_choice
from hub.errors import Invalid, NotFound
from hub.log import run_hub_command
from hub.store.tx import Tx

__all__ = ["load_rates", "rates_view", "rate_versions", "quote", "shipments_for", "manifest", "manifest_csv",
           "MANIFEST_COLUMNS"]

MANIFEST_COLUMNS = ("carrier", "service", "tracking", "sscc", "order_number", "weight_g", "recipient", "address_lines",
                    "postal_code", "country", "phone", "handed_at")


def load_rates(conn: Tx, texts: dict[str, str], note: str, actor: str, dry_run: bool) -> dict[str, Any]:
    """Check the services, zones and rates CSV texts; unless `dry_run` or a row is bad,
    set them as the next rate table version (one `carriers.rates_set`). Returns the report."""
    table, problems = read_table(texts)
    report: dict[str, Any] = {"dry_run": dry_run, "ok": table is not None, "rows": problems.rows,
                              "bad_rows": len(problems.bad), "errors": problems.as_list(), "version": None}
    if table is not None and not dry_run:
        run_hub_command(conn, "carriers.rates_set", {"table": table.model_dump(mode="json"), "note": note}, actor=actor)
        report["version"] = conn.execute("SELECT MAX(version) FROM carrier_rate_tables").scalar_one()
    return report


def rates_view(conn: Tx) -> dict[str, Any]:
    """The rate table in force (version 0 and no table before one is loaded)."""
    rates = current_rates(conn)
    if rates is None:
        return {"version": 0, "table": None, "origins": {}}
    version, table, origins = rates
    return {"version": version, "table": table.model_dump(mode="json"), "origins": origins}


def rate_versions(conn: Tx) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT version, note, set_by FROM carrier_rate_tables ORDER BY version").all()
    return [{"version": r.version, "note": r.note, "set_by": r.set_by} for r in rows]


def quote(conn: Tx, order_id: str, weight_g: int, ship_day: date) -> dict[str, Any]:
    """The service a carton of `weight_g` of the order would go with if closed on
    `ship_day`, with every option and why it lost. Raises NotFound or Invalid."""
    order = conn.execute("SELECT location, fulfilment FROM orders WHERE id = :o", {"o": order_id}).first()
    if order is None:
        raise NotFound(f"no order {order_id!r}")
    if order.location is None:
        raise Invalid(f"order {order_id} is not routed to a location yet: it ships from nowhere so far")
    decided = hub_choice(conn, order_id, order.location, weight_g, ship_day)
    if decided is None:
        raise Invalid(f"order {order_id} has no ship-to address, or no rate table is loaded")
    version, choice = decided
    chosen = choice.chosen.as_dict() if choice.chosen else None
    return {"order_id": order_id, "rates_version": version, "weight_g": weight_g, "ship_day": ship_day.isoformat(),
            "chosen": chosen, **choice.as_dict()}


def shipments_for(conn: Tx, order_id: str) -> list[dict[str, Any]]:
    """Each carton of the order with its carrier, service, tracking number and why."""
    rows = conn.execute("SELECT * FROM carton_shipments WHERE order_id = :o ORDER BY carton_id", {"o": order_id}).mappings()
    return [{**r, "choice": json.loads(r["choice"])} for r in rows]


def manifest(conn: Tx, location: str, day: str, carrier: str | None = None) -> list[dict[str, Any]]:
    """The cartons a location handed to carriers on `day` (UTC, YYYY-MM-DD), by carrier,
    service and tracking number: what the driver signs for."""
    try:
        date.fromisoformat(day)
    except ValueError:
        raise Invalid(f"day: {day!r} is not a date (YYYY-MM-DD)") from None
    sql = ("SELECT s.carrier, s.service, s.tracking, s.carton_id, s.handed_at, c.weight_g, o.number, o.customer_name, "
           "d.ship_to, d.contact FROM carton_shipments s JOIN cartons c ON c.carton_id = s.carton_id "
           "JOIN orders o ON o.id = s.order_id LEFT JOIN order_details d ON d.order_id = s.order_id "
           "WHERE s.location = :l AND s.handed_day = :d")
    params: dict[str, Any] = {"l": location, "d": day}
    if carrier:
        sql += " AND s.carrier = :c"
        params["c"] = carrier
    rows = conn.execute(sql + " ORDER BY s.carrier, s.service, s.carton_id", params).mappings()
    return [_manifest_row(r) for r in rows]


def _manifest_row(r: Any) -> dict[str, Any]:
    ship_to = json.loads(r["ship_to"]) if r["ship_to"] else {}
    contact = json.loads(r["contact"]) if r["contact"] else {}
    return {"carrier": r["carrier"], "service": r["service"], "tracking": r["tracking"], "sscc": r["carton_id"],
            "order_number": r["number"], "weight_g": r["weight_g"], "recipient": r["customer_name"],
            "address_lines": " / ".join(ship_to.get("lines", [])), "postal_code": ship_to.get("postal_code"),
            "country": ship_to.get("country"), "phone": contact.get("phone"), "handed_at": r["handed_at"]}


def manifest_csv(rows: list[dict[str, Any]]) -> str:
    """The manifest as CSV, one carton a row, in MANIFEST_COLUMNS."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()
