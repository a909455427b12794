"""Foresight and events in the console: the open orders at risk of missing their promise
(with the reason in words, from hub.insight.risk), and the event stream's webhook
subscribers with how far behind each is and the events given up on (dead letters)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.console.web import Signed, db_of, page
from hub.events.webhooks import dead_letters, webhook_rows
from hub.insight.risk import risk_rows

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/console/risk", response_class=HTMLResponse)
def at_risk(request: Request, session: Signed, location: str = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows = [r for r in risk_rows(conn, location[:64] or None) if access.sees(r["location"])]
    return page(request, "risk.html", session, rows=rows, location=location)


@router.get("/console/events", response_class=HTMLResponse)
def events(request: Request, session: Signed) -> HTMLResponse:
    """Subscribers and dead letters are the network's: network admins and viewers see them."""
    access = session.admin.access()
    access.require_read(None, "event subscription")
    with db_of(request).read() as conn:
        hooks, dead = webhook_rows(conn), dead_letters(conn, limit=200)
    return page(request, "events.html", session, hooks=hooks, dead=dead)
