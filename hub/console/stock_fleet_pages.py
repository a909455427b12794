"""Stock in the console (on hand per bin, the location's reserved, allotted and
available, the movement ledger behind a figure, one SKU across locations) and the
fleet (devices with what their last health report said; enrol one, revoke one)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from hub.api.reads import movement_rows
from hub.admins import Session
from hub.console.reads import PAGE, fleet, stock_table
from hub.console.web import Checked, Signed, client, db_of, decode_cursor, encode_cursor, page
from hub.actions import revoke_device
from hub.api.callers import forget_callers
from hub.credentials import ROLES, create_enrollment_code
from hub.errors import NotFound
from sync.enrolment import enrolment_qr

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/console/stock", response_class=HTMLResponse)
def stock(request: Request, session: Signed, location: str = "", sku: str = "", bin: str = "", after: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows, key = stock_table(conn, access, location=location[:64], sku=sku.strip().upper()[:64], bin_code=bin[:64],
                                after=decode_cursor(after))
    return page(request, "stock.html", session, rows=rows, filters={"location": location, "sku": sku, "bin": bin},
                next=encode_cursor(*key) if key else "")


@router.get("/console/stock/ledger", response_class=HTMLResponse)
def ledger(request: Request, session: Signed, location: str, sku: str, bin: str = "") -> HTMLResponse:
    """The movements behind a figure: every receipt, pick, count and move, oldest first."""
    access = session.admin.access()
    access.require_read(location, "location")
    with db_of(request).read() as conn:
        rows = [m for m in movement_rows(conn, location[:64], sku[:64], None, 5000) if not bin or m["bin"] == bin]
    return page(request, "ledger.html", session, rows=rows, location=location, sku=sku, bin=bin)


@router.get("/console/fleet", response_class=HTMLResponse)
def fleet_page(request: Request, session: Signed, location: str = "", state: str = "", code: str = "",
               code_for: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        devices = fleet(conn, access, datetime.now(timezone.utc), location[:64])
        locations = [r.code for r in conn.execute("SELECT code FROM locations ORDER BY code") if access.changes(r.code)]
    if state in ("offline", "ageing"):
        devices = [d for d in devices if d[state]]
    return page(request, "fleet.html", session, devices=devices[:PAGE * 10], location=location, state=state,
                roles=ROLES, locations=locations, code=code, code_for=code_for, qr=_qr(request, code) if code else "")


def _qr(request: Request, code: str) -> str:
    """The enrolment code and the hub's address as a QR a handheld's camera can read."""
    return str(segno.make(enrolment_qr(code, str(request.base_url)), error="m").svg_inline(scale=5))


@router.post("/console/fleet/enrol", response_class=HTMLResponse)
def enrol(request: Request, session: Checked, location: Annotated[str, Form(max_length=64)],
          role: Annotated[str, Form(max_length=32)]) -> HTMLResponse:
    access = session.admin.access()
    access.require_change(location, "location")
    with db_of(request).write() as conn:
        code = create_enrollment_code(conn, location, role, by=access.actor)
    return fleet_page(request, session, location=location, code=code, code_for=f"a {role} device at {location}")


@router.post("/console/fleet/{device_id}/revoke", response_class=HTMLResponse)
def revoke(request: Request, device_id: str, session: Checked) -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).write() as conn:
        row = conn.execute("SELECT location FROM devices WHERE id = :d", {"d": device_id[:64]}).first()
        if row is None:
            raise NotFound("no such device")
        access.require_change(row.location, "device")
        device = revoke_device(conn, device_id[:64], by=access.actor, client=client(request))
    forget_callers(request.app)  # every worker refuses its token within seconds
    return page(request, "fleet.html", session, **_fleet_context(request, session), message=f"Device {device.name} revoked.",
                ok=True)


def _fleet_context(request: Request, session: Session) -> dict[str, object]:
    access = session.admin.access()
    with db_of(request).read() as conn:
        devices = fleet(conn, access, datetime.now(timezone.utc))
        locations = [r.code for r in conn.execute("SELECT code FROM locations ORDER BY code") if access.changes(r.code)]
    return {"devices": devices, "location": "", "state": "", "roles": ROLES, "locations": locations, "code": "",
            "code_for": "", "qr": ""}
