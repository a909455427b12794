"""Inventory risk and fulfilment analytics in the console: days of cover per location
and SKU with the transfers that would help (shipped in one click, through the same
logged command as the API), and figures per location and day as inline SVG charts, a
table and a CSV download of the same table. A store manager sees its locations only."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from hub.api.insight import csv_response, risk_for, ship_for
from hub.console.charts import bar_chart
from hub.console.web import Checked, Signed, db_of, page
from hub.errors import Invalid
from hub.insight.analytics import analytics_csv, date_range, read_analytics
from hub.insight.inventory import LEVELS, covers_page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/console/inventory", response_class=HTMLResponse)
def inventory(request: Request, session: Signed, location: str = "", level: str = "", after: str = "",
              message: str = "") -> HTMLResponse:
    access = session.admin.access()
    level = level if level in LEVELS else ""
    risk = risk_for(request, access, location[:64] or None)
    rows, nxt = covers_page(risk.covers, None, level or None, after[:400] or None, 50)
    suggestions = risk.suggestions
    return page(request, "inventory.html", session, rows=rows, next=nxt or "", suggestions=suggestions,
                location=location, level=level, levels=LEVELS, message=message, ok=True)


@router.post("/console/inventory/transfers", response_class=HTMLResponse)
def ship(request: Request, session: Checked, sku: Annotated[str, Form(max_length=64)],
         from_location: Annotated[str, Form(max_length=64)], to_location: Annotated[str, Form(max_length=64)],
         qty: Annotated[int, Form(ge=1, le=1_000_000)]) -> HTMLResponse:
    made = ship_for(request, session.admin.access(), sku, from_location, to_location, qty)
    return inventory(request, session, message=f"Transfer {made['transfer_id']}: {qty} {sku} on the way from "
                                               f"{from_location} to {to_location}.")


def _days(first: str, last: str) -> tuple[date, date]:
    try:
        asked = (date.fromisoformat(first) if first else None, date.fromisoformat(last) if last else None)
    except ValueError as exc:
        raise Invalid("from/to: a day reads YYYY-MM-DD") from exc
    return date_range(*asked, datetime.now(timezone.utc).date())


def _rows(request: Request, session: Any, first: date, last: date, location: str) -> list[dict[str, Any]]:
    with db_of(request).read() as conn:
        return read_analytics(conn, session.admin.access(), first, last, location[:64] or None)


@router.get("/console/analytics", response_class=HTMLResponse)
def analytics(request: Request, session: Signed, location: str = "", to: str = "") -> HTMLResponse:
    """`from` (a Python word) is read from the query itself."""
    first, last = _days(request.query_params.get("from", ""), to)
    rows = _rows(request, session, first, last, location)
    with db_of(request).read() as conn:
        locations = [r[0] for r in conn.execute("SELECT code FROM locations ORDER BY code").tuples()
                     if session.admin.access().sees(r[0])]
    return page(request, "analytics.html", session, rows=rows, charts=_charts(rows, first, last), locations=locations,
                location=location, first=first.isoformat(), last=last.isoformat())


@router.get("/console/analytics.csv")
def analytics_download(request: Request, session: Signed, location: str = "", to: str = "") -> Response:
    first, last = _days(request.query_params.get("from", ""), to)
    return csv_response(analytics_csv(_rows(request, session, first, last, location)), first, last)


def _charts(rows: list[dict[str, Any]], first: date, last: date) -> list[Any]:
    """Per day over the locations shown: on-time %, units picked per hour, short %, refusals."""
    days = [date.fromordinal(n).isoformat() for n in range(first.toordinal(), last.toordinal() + 1)]
    sums: dict[str, dict[str, float]] = {d: {} for d in days}
    for r in rows:
        s = sums[r["day"]]
        for key in ("orders_finished", "orders_on_time", "units_picked", "picking_hours", "units_ordered",
                    "units_short", "refusals"):
            s[key] = s.get(key, 0) + r[key]

    def ratio(d: str, part: str, whole: str, scale: float = 1) -> float | None:
        s = sums[d]
        return round(scale * s[part] / s[whole], 1) if s.get(whole) else None

    return [bar_chart("On time (% of orders finished)",
                      [(d, ratio(d, "orders_on_time", "orders_finished", 100)) for d in days], "%"),
            bar_chart("Pick rate (units per picking hour)",
                      [(d, ratio(d, "units_picked", "picking_hours")) for d in days]),
            bar_chart("Short (% of units ordered, orders picked that day)",
                      [(d, ratio(d, "units_short", "units_ordered", 100)) for d in days], "%"),
            bar_chart("Ops refused", [(d, sums[d].get("refusals")) for d in days])]
