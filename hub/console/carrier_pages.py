"""Carriers in the console: the handover manifest of a location's day (per carrier, as
a table and as CSV for the driver's paperwork) and the rate table in force."""

from __future__ import annotations

from datetime import date, datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.carrier_actions import manifest, manifest_csv, rates_view
from hub.console.web import Signed, db_of, page
from hub.errors import Invalid

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _day(day: str) -> str:
    if not day:
        return datetime.now(timezone.utc).date().isoformat()
    try:
        return date.fromisoformat(day[:10]).isoformat()
    except ValueError:
        raise Invalid(f"day: {day[:20]!r} is not a date (YYYY-MM-DD)") from None


@router.get("/console/carriers", response_class=HTMLResponse)
def carriers(request: Request, session: Signed, location: str = "", day: str = "", carrier: str = "") -> HTMLResponse:
    """The manifest of `location` on `day` (today, UTC), one carrier or all, and the rate table's summary."""
    access = session.admin.access()
    on, rows = _day(day), []
    with db_of(request).read() as conn:
        if location:
            access.require_read(location[:64], "location")
            rows = manifest(conn, location[:64], on, carrier[:64] or None)
        rates = rates_view(conn)
    return page(request, "carriers.html", session, rows=rows, location=location, day=on, carrier=carrier, rates=rates)


@router.get("/console/carriers/manifest.csv")
def manifest_file(request: Request, session: Signed, location: str, day: str = "", carrier: str = "") -> Response:
    access = session.admin.access()
    access.require_read(location[:64], "location")
    on = _day(day)
    with db_of(request).read() as conn:
        rows = manifest(conn, location[:64], on, carrier[:64] or None)
    name = f"manifest-{location[:64]}-{on}{'-' + carrier[:64] if carrier else ''}.csv"
    return Response(manifest_csv(rows), media_type="text/csv", headers={"content-disposition": f'attachment; filename="{name}"'})
