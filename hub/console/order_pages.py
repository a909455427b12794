"""Orders in the console: find them (number, customer, SKU; status, location, late),
page through them, and open one: its lines, reservations, picks, cartons, tasks and its
timeline from the log, and how routing decided where it goes (every candidate and why it
lost). Cancel, release and reassign are logged hub commands, as from the API."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from hub.api.reads import get_order
from hub.console.reads import find_orders, order_extras, order_timeline
from hub.console.web import Checked, Signed, db_of, decode_cursor, encode_cursor, page
from hub.errors import Invalid
from hub.log import run_hub_command
from hub.routing_actions import order_routing, reassign_order, release_order

__all__ = ["router", "STATUSES"]

router = APIRouter(include_in_schema=False)
STATUSES = ("awaiting_stock", "pickup_rejected", "released", "picking", "picked", "short", "packing", "packed", "shipped",
            "partly_handed_over", "handed_over", "refused", "expired", "cancelled")


@router.get("/console/orders", response_class=HTMLResponse)
def orders(request: Request, session: Signed, q: str = "", status: str = "", location: str = "", late: str = "",
           due: str = "", after: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows, key = find_orders(conn, access, datetime.now(timezone.utc), q=q[:64], status=status if status in STATUSES else "",
                                location=location[:64], late=bool(late), due=due[:8], after=decode_cursor(after))
        locations = [r.code for r in conn.execute("SELECT code FROM locations ORDER BY code") if access.sees(r.code)]
    filters = {"q": q, "status": status, "location": location, "late": late, "due": due}
    return page(request, "orders.html", session, rows=rows, filters=filters, statuses=STATUSES, locations=locations,
                next=encode_cursor(*key) if key else "", now=datetime.now(timezone.utc).isoformat())


@router.get("/console/orders/{order_id}", response_class=HTMLResponse)
def order(request: Request, order_id: str, session: Signed, message: str = "", ok: bool = True) -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        found = get_order(conn, order_id[:64])
        access.require_read(found["location"], "order")
        extras, timeline = order_extras(conn, found["id"]), order_timeline(conn, found["id"])
        routing = order_routing(conn, found["id"])
        locations = [r.code for r in conn.execute("SELECT code FROM locations ORDER BY code") if access.changes(r.code)]
    return page(request, "order.html", session, order=found, extras=extras, timeline=timeline, routing=routing,
                locations=locations, can_change=access.changes(found["location"]), message=message, ok=ok)


@router.post("/console/orders/{order_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, order_id: str, session: Checked, reason: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    access = session.admin.access()
    if not reason.strip():
        raise Invalid("reason: say why the order is cancelled (the channel and the customer see it)")
    with db_of(request).write() as conn:
        found = get_order(conn, order_id[:64])
        access.require_change(found["location"], "order")
        run_hub_command(conn, "order.cancelled", {"order_id": found["id"], "reason": reason.strip()}, actor=access.actor)
    return order(request, order_id, session, message=f"Order {found['number']} cancelled.")


@router.post("/console/orders/{order_id}/release", response_class=HTMLResponse)
def release(request: Request, order_id: str, session: Checked,
            forget_rejections: Annotated[str, Form(max_length=8)] = "") -> HTMLResponse:
    """A parked order (awaiting stock, rejected by its pickup store) goes back through routing."""
    access = session.admin.access()
    with db_of(request).write() as conn:
        found = get_order(conn, order_id[:64])
        access.require_change(found["location"], "order")
        said = release_order(conn, found["id"], datetime.now(timezone.utc), access.actor,
                             forget_rejections=bool(forget_rejections))
    return order(request, order_id, session, message=said or f"Order {found['number']} routed again.")


@router.post("/console/orders/{order_id}/reassign", response_class=HTMLResponse)
def reassign(request: Request, order_id: str, session: Checked, location: Annotated[str, Form(max_length=64)] = "",
             note: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    """Move an order nobody has picked from yet to a location the administrator chooses."""
    access = session.admin.access()
    if not location.strip():
        raise Invalid("location: choose where the order should go")
    with db_of(request).write() as conn:
        found = get_order(conn, order_id[:64])
        access.require_change(found["location"], "order")
        access.require_change(location.strip(), "location")
        said = reassign_order(conn, found["id"], location.strip(), datetime.now(timezone.utc), access.actor, note.strip())
    return order(request, order_id, session, message=said or f"Order {found['number']} moved to {location.strip()}.")
