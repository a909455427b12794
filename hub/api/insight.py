"""Inventory risk and fulfilment analytics over HTTP, for administrators (an admin token
acts as a network admin: hub.access): covers per (location, SKU) worst first with the
transfers that would help, a suggested transfer shipped in one call (the logged
`transfer.shipped` command), and figures per location and day as JSON or CSV."""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from hub.access import Access, network_admin
from hub.api.callers import Caller, actor_of, api_of
from hub.insight.analytics import analytics_csv, date_range, read_analytics
from hub.insight.inventory import LEVELS, InventoryRisk, RiskMemo, covers_page, inventory_risk, ship_suggested
from sync.kinds import PRINTABLE, Code

__all__ = ["insight_routes", "SuggestedTransfer", "risk_for", "ship_for", "csv_response"]

_Location = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)]


class SuggestedTransfer(BaseModel):
    """Ship a suggested transfer: the SKU, from where to where, and at most the suggested quantity (none: all of it)."""

    model_config = ConfigDict(extra="forbid")
    sku: Code
    from_location: Code
    to_location: Code
    qty: int | None = Field(default=None, ge=1, le=1_000_000)


def _access(who: Any) -> Access:
    api_of(who, "admin")
    return network_admin(actor_of(who))


def risk_for(request: Request, access: Access, location: str | None, sku: str | None = None) -> InventoryRisk:
    """`inventory_risk` as this process answered it in the last half minute (hub.insight.inventory.RiskMemo)."""
    memo: RiskMemo | None = getattr(request.app.state, "inventory_memo", None)
    if memo is None:
        memo = request.app.state.inventory_memo = RiskMemo()

    def compute() -> InventoryRisk:
        with request.app.state.db.read() as conn:
            return inventory_risk(conn, access, datetime.now(timezone.utc), sku, location)

    return memo.get((access.scope(), location, sku), compute)


def ship_for(request: Request, access: Access, sku: str, from_location: str, to_location: str,
             qty: int | None) -> dict[str, Any]:
    """`ship_suggested` in a write transaction; this process's kept answers are forgotten."""
    with request.app.state.db.write() as conn:
        made = ship_suggested(conn, access, datetime.now(timezone.utc), sku, from_location, to_location, qty)
    memo: RiskMemo | None = getattr(request.app.state, "inventory_memo", None)
    if memo is not None:
        memo.forget()
    return made


@cache
def insight_routes() -> list[BaseRoute]:
    """Every route of this module (built once per process, like hub.api.events')."""
    router = APIRouter(prefix="/v1/insight", tags=["insight"])
    _inventory_routes(router)
    _analytics_routes(router)
    return list(router.routes)



def _inventory_routes(router: APIRouter) -> None:
    @router.get("/inventory")
    def inventory(request: Request, who: Caller, location: _Location = None,
                  level: Annotated[str | None, Query(pattern="^(" + "|".join(LEVELS) + ")$")] = None,
                  sku: _Location = None, after: Annotated[str | None, Query(max_length=200)] = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> dict[str, Any]:
        """Days of cover per (location, SKU) picked from in the last 14 days, worst first, paged;
        and the transfers from surplus that would help them (into `location`, if given)."""
        risk = risk_for(request, _access(who), location, sku)
        page, next_cursor = covers_page(risk.covers, None, level, after, limit)
        suggestions = [s.as_dict() for s in risk.suggestions]
        return {"items": [c.as_dict() for c in page], "next": next_cursor, "suggestions": suggestions}

    @router.post("/inventory/transfers", status_code=201)
    def ship(body: SuggestedTransfer, request: Request, who: Caller) -> dict[str, Any]:
        """Ship a suggested transfer now (in transit until the receiver books it in)."""
        return ship_for(request, _access(who), body.sku, body.from_location, body.to_location, body.qty)


def _analytics_routes(router: APIRouter) -> None:
    @router.get("/analytics")
    def analytics(request: Request, who: Caller, location: _Location = None,
                  from_: Annotated[date | None, Query(alias="from")] = None,
                  to: Annotated[date | None, Query()] = None,
                  format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Any:
        """Per location and day (UTC): stage times, on-time rate, pick rate, short rate, refusals."""
        access = _access(who)
        first, last = date_range(from_, to, datetime.now(timezone.utc).date())
        with request.app.state.db.read() as conn:
            rows = read_analytics(conn, access, first, last, location)
        if format == "csv":
            return csv_response(analytics_csv(rows), first, last)
        return {"from": first.isoformat(), "to": last.isoformat(), "rows": rows}


def csv_response(text: str, first: date, last: date) -> Response:
    """A download: text/csv with a file name that says the days."""
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="fulfilment-{first}-{last}.csv"'})
