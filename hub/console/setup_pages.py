"""Set-up pages: locations (list, create, edit), bins, items (paged, searched, created
and edited) and operators (add, change role, disable, remove). Each change goes through
hub.network_actions — the API's calls, under the same access rules — so it is one
logged hub command; a bad field comes back as a message that names it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub import network_actions as actions
from hub import network_reads as reads
from hub.admins import Session
from hub.commands import ADJUST_REASONS, LOCATION_KINDS, OPERATOR_ROLES
from hub.console.web import Checked, Signed, db_of, page
from hub.errors import Invalid, NotFound

__all__ = ["PAGE", "form_of", "router"]

router = APIRouter(include_in_schema=False)
PAGE = 50
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def form_of(request: Request) -> dict[str, str]:
    """The posted form's text fields, stripped (files are read by the imports page)."""
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


def _number(form: dict[str, str], name: str, kind: type = int) -> Any:
    text = form.get(name, "")
    if text == "":
        return None
    try:
        return kind(text)
    except ValueError:
        raise Invalid(f"{name}: {text!r} is not a {'whole ' if kind is int else ''}number") from None


def _hours(form: dict[str, str]) -> dict[str, list[str]] | None:
    """Opening hours from one field a day ("08:00-12:00, 14:00-19:00"; empty: closed)."""
    hours = {day: [s.strip() for s in form.get(f"hours_{day}", "").split(",") if s.strip()] for day in DAYS}
    return {day: spans for day, spans in hours.items() if spans} or None


def _location_fields(form: dict[str, str]) -> dict[str, Any]:
    return {"name": form.get("name", ""), "kind": form.get("kind", ""), "address": form.get("address") or None,
            "lat": _number(form, "lat", float), "lon": _number(form, "lon", float),
            "time_zone": form.get("time_zone") or None, "opening_hours": _hours(form),
            "daily_capacity": _number(form, "daily_capacity")}


# -- the set-up home and locations ---------------------------------------------------------
@router.get("/console/setup", response_class=HTMLResponse)
def home(request: Request, session: Signed) -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        scope = access.scope()
        where = "" if scope is None else "WHERE location IN :s"
        params = {} if scope is None else {"s": sorted(scope) or [""]}
        counts = {
            "locations": conn.execute(f"SELECT COUNT(*) FROM locations {'' if scope is None else 'WHERE code IN :s'}",
                                      params).scalar_one(),
            "bins": conn.execute(f"SELECT COUNT(*) FROM bins {where}", params).scalar_one(),
            "items": conn.execute("SELECT COUNT(*) FROM items").scalar_one(),
            "operators": conn.execute(f"SELECT COUNT(*) FROM operators {where}", params).scalar_one(),
        }
    return page(request, "setup.html", session, counts=counts)


@router.get("/console/setup/locations", response_class=HTMLResponse)
def locations(request: Request, session: Signed, q: str = "", after: str = "", message: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows, nxt = reads.locations(conn, access.scope(), q=q[:64] or None, after=after[:400] or None, limit=PAGE)
    return page(request, "setup_locations.html", session, rows=rows, next=nxt, q=q, kinds=LOCATION_KINDS, days=DAYS,
                message=message, ok=True)


@router.post("/console/setup/locations", response_class=HTMLResponse)
async def create_location(request: Request, session: Checked) -> HTMLResponse:
    form = await form_of(request)
    payload = {"code": form.get("code", ""), **_location_fields(form)}
    with db_of(request).write() as conn:
        actions.add_location(conn, session.admin.access(), {k: v for k, v in payload.items() if v is not None})
    return location(request, session, payload["code"], message=f"Location {payload['code']} created.")


@router.get("/console/setup/locations/{code}", response_class=HTMLResponse)
def location(request: Request, session: Signed, code: str, message: str = "") -> HTMLResponse:
    access = session.admin.access()
    access.require_read(code[:64], "location")
    with db_of(request).read() as conn:
        found = reads.location_of(conn, code[:64])
        bins, nxt = reads.bins(conn, access.scope(), location=code[:64], limit=PAGE)
    if found is None:
        raise NotFound(f"no location {code[:64]!r}")
    return page(request, "setup_location.html", session, loc=found, bins=bins, more_bins=nxt, kinds=LOCATION_KINDS,
                days=DAYS, message=message, ok=True)


@router.post("/console/setup/locations/{code}", response_class=HTMLResponse)
async def edit_location(request: Request, session: Checked, code: str) -> HTMLResponse:
    form = await form_of(request)
    access = session.admin.access()
    with db_of(request).read() as conn:
        found = reads.location_of(conn, code[:64])
    if found is None or not access.sees(code[:64]):
        raise NotFound(f"no location {code[:64]!r}")
    changes = {k: v for k, v in _location_fields(form).items() if v != found.get(k)}
    with db_of(request).write() as conn:
        result = actions.update_location(conn, access, code[:64], changes)
    said = result.message or "saved"
    return location(request, session, code, message=said[:1].upper() + said[1:] + ".")


# -- bins ---------------------------------------------------------------------------------
def _changeable(request: Request, session: Session) -> list[str]:
    access = session.admin.access()
    with db_of(request).read() as conn:
        return [r.code for r in conn.execute("SELECT code FROM locations ORDER BY code") if access.changes(r.code)]


@router.get("/console/setup/bins", response_class=HTMLResponse)
def bins(request: Request, session: Signed, location: str = "", zone: str = "", after: str = "",
         message: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows, nxt = reads.bins(conn, access.scope(), location=location[:64] or None, zone=zone[:64] or None,
                               after=after[:400] or None, limit=PAGE)
    return page(request, "setup_bins.html", session, rows=rows, next=nxt, location=location, zone=zone,
                locations=_changeable(request, session), reasons=ADJUST_REASONS, message=message, ok=True)


@router.post("/console/setup/bins", response_class=HTMLResponse)
async def add_bin(request: Request, session: Checked) -> HTMLResponse:
    form = await form_of(request)
    payload = {"location": form.get("location", ""), "code": form.get("code", ""), "seq": _number(form, "seq"),
               "zone": form.get("zone") or None}
    with db_of(request).write() as conn:
        actions.add_bin(conn, session.admin.access(), payload)
    return bins(request, session, location=payload["location"],
                message=f"Bin {payload['code']} at {payload['location']} saved (pick path {payload['seq']}).")


# -- items --------------------------------------------------------------------------------
@router.get("/console/setup/items", response_class=HTMLResponse)
def items(request: Request, session: Signed, q: str = "", after: str = "", message: str = "") -> HTMLResponse:
    with db_of(request).read() as conn:
        rows, nxt = reads.items(conn, q=q.strip()[:64] or None, after=after[:400] or None, limit=PAGE)
    return page(request, "setup_items.html", session, rows=rows, next=nxt, q=q, item=None, message=message, ok=True)


@router.get("/console/setup/items/{sku}", response_class=HTMLResponse)
def item(request: Request, session: Signed, sku: str, message: str = "") -> HTMLResponse:
    with db_of(request).read() as conn:
        rows, _ = reads.items(conn, q=sku[:64], limit=1)
    if not rows or rows[0]["sku"] != sku[:64]:
        raise NotFound(f"no item {sku[:64]!r}")
    return page(request, "setup_item.html", session, item=rows[0], message=message, ok=True)


@router.post("/console/setup/items", response_class=HTMLResponse)
async def save_item(request: Request, session: Checked) -> HTMLResponse:
    form = await form_of(request)
    payload = {"sku": form.get("sku", ""), "name": form.get("name", ""),
               "barcodes": [c.strip() for c in form.get("gtins", "").replace(",", " ").split() if c.strip()],
               "unit_weight_g": _number(form, "unit_weight_g"), "length_mm": _number(form, "length_mm"),
               "width_mm": _number(form, "width_mm"), "height_mm": _number(form, "height_mm"),
               "hazmat": form.get("hazmat") == "yes", "min_age": _number(form, "min_age")}
    with db_of(request).write() as conn:
        actions.upsert_item(conn, session.admin.access(), payload)
    return item(request, session, payload["sku"], message=f"Item {payload['sku']} saved.")


# -- operators ----------------------------------------------------------------------------
@router.get("/console/setup/operators", response_class=HTMLResponse)
def operators(request: Request, session: Signed, location: str = "", after: str = "", message: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows, nxt = reads.operators(conn, access.scope(), location=location[:64] or None, after=after[:400] or None,
                                    limit=PAGE)
    return page(request, "setup_operators.html", session, rows=rows, next=nxt, location=location, roles=OPERATOR_ROLES,
                locations=_changeable(request, session), message=message, ok=True)


@router.post("/console/setup/operators", response_class=HTMLResponse)
async def add_operator(request: Request, session: Checked) -> HTMLResponse:
    f = await form_of(request)
    with db_of(request).write() as conn:
        actions.add_operator(conn, session.admin.access(), f.get("operator_id", ""), f.get("name", ""), f.get("role", ""),
                             f.get("location", ""), f.get("pin", ""))
    return operators(request, session, message=f"Operator {f.get('operator_id')} added: devices learn them on their next sync.")


@router.post("/console/setup/operators/{operator_id}/{act}", response_class=HTMLResponse)
async def change_operator(request: Request, session: Checked, operator_id: str, act: str) -> HTMLResponse:
    f = await form_of(request)
    access, who = session.admin.access(), operator_id[:64]
    with db_of(request).write() as conn:
        if act == "role":
            actions.change_operator_role(conn, access, who, f.get("role", ""), f.get("pin", ""))
            said = f"Operator {who} is now a {f.get('role')}."
        elif act == "disable":
            actions.disable_operator(conn, access, who, f.get("reason", ""))
            said = f"Operator {who} disabled: they can no longer sign in."
        elif act == "remove":
            actions.remove_operator(conn, access, who)
            said = f"Operator {who} removed."
        else:
            raise NotFound(f"no action {act[:20]!r}")
    return operators(request, session, message=said)


# -- stock adjustments (from the stock pages' figures) -------------------------------------
@router.post("/console/setup/adjust", response_class=HTMLResponse)
async def adjust(request: Request, session: Checked) -> HTMLResponse:
    f = await form_of(request)
    payload = {"location": f.get("location", ""), "bin": f.get("bin", ""), "sku": f.get("sku", ""),
               "qty": _number(f, "qty"), "reason": f.get("reason", ""), "note": f.get("note", "")}
    with db_of(request).write() as conn:
        result = actions.adjust_stock(conn, session.admin.access(), payload)
    return bins(request, session, location=payload["location"], message=f"Adjusted: {result.message}.")





# -- transfers between locations -----------------------------------------------------------
@router.get("/console/setup/transfers", response_class=HTMLResponse)
def transfers(request: Request, session: Signed, status: str = "in_transit", after: str = "",
              message: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows, nxt = reads.transfers(conn, access.scope(), status=status[:16] or None, after=after[:400] or None, limit=PAGE)
        everywhere = [r.code for r in conn.execute("SELECT code FROM locations ORDER BY code")]
    return page(request, "setup_transfers.html", session, rows=rows, next=nxt, status=status,
                locations=_changeable(request, session), everywhere=everywhere, message=message, ok=True)


def _lines(text: str) -> list[dict[str, Any]]:
    """Transfer lines typed one a line as `BIN SKU QTY`."""
    lines = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[2].isdigit():
            raise Invalid(f"lines: line {n} ({line.strip()[:40]!r}) is not BIN SKU QTY")
        lines.append({"bin": parts[0], "sku": parts[1], "qty": int(parts[2])})
    return lines


@router.post("/console/setup/transfers", response_class=HTMLResponse)
async def ship(request: Request, session: Checked) -> HTMLResponse:
    f = await form_of(request)
    payload = {"from_location": f.get("from_location", ""), "to_location": f.get("to_location", ""),
               "lines": _lines(f.get("lines", ""))}
    with db_of(request).write() as conn:
        transfer_id = actions.ship_transfer(conn, session.admin.access(), payload)
    return transfers(request, session, message=f"Transfer {transfer_id} is on its way to {payload['to_location']}.")


@router.post("/console/setup/transfers/{transfer_id}/receive", response_class=HTMLResponse)
async def receive(request: Request, session: Checked, transfer_id: str) -> HTMLResponse:
    f = await form_of(request)
    with db_of(request).write() as conn:
        result = actions.receive_transfer(conn, session.admin.access(), transfer_id[:64], f.get("bin", ""))
    said = result.message or f"transfer {transfer_id[:64]} received"
    return transfers(request, session, message=said[:1].upper() + said[1:] + ".")
