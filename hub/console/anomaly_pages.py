"""Anomalies in the console: what the hub found on the floor (bins whose counts are off,
books caught wrong, short-rate spikes, orders stuck, devices in trouble), with the
evidence and what the anomaly policy did; open ones by default, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.commands import ANOMALY_KINDS
from hub.console.web import Signed, db_of, page
from hub.insight.anomalies import anomaly_rows, policy_view

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
STATUSES = ("open", "cleared", "all")


@router.get("/console/anomalies", response_class=HTMLResponse)
def anomalies(request: Request, session: Signed, status: str = "open", kind: str = "", location: str = "",
              after: str = "") -> HTMLResponse:
    """A store manager sees their locations' anomalies; the network's own (a SKU's spike
    across locations) only network admins and viewers see."""
    access = session.admin.access()
    status = status if status in STATUSES else "open"
    kind = kind if kind in ANOMALY_KINDS else ""
    with db_of(request).read() as conn:
        rows, nxt = anomaly_rows(conn, access.scope(), status=None if status == "all" else status, kind=kind,
                                 location=location[:64], after=after[:400] or None, limit=50)
        policy = policy_view(conn)
    return page(request, "anomalies.html", session, rows=rows, next=nxt or "", kinds=ANOMALY_KINDS, policy=policy,
                statuses=STATUSES, filters={"status": status, "kind": kind, "location": location})
