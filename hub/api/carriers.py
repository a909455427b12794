"""Carriers for administrators: load the rate table from CSV (a dry run reports every
bad row with its file and line), read it, quote an order's carton, an order's cartons
with their carrier service and tracking number, and the handover manifest of a
location's day per carrier (JSON or CSV). Every change is a logged hub command
(hub.carrier_actions)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from hub.api.callers import Caller, actor_of, api_of
from hub.api.reads import get_order
from hub.carrier_actions import load_rates, manifest, manifest_csv, quote, rate_versions, rates_view, shipments_for
from sync.kinds import PRINTABLE, Code, Text

__all__ = ["carrier_routes", "RatesUpload"]

Id = Annotated[str, Path(max_length=64, pattern=PRINTABLE)]
Csv = Annotated[str, Field(max_length=20_000_000)]


class RatesUpload(BaseModel):
    """The three CSV files of a rate table, as text (columns in docs/carriers.md)."""

    model_config = ConfigDict(extra="forbid")
    services: Csv
    zones: Csv
    rates: Csv
    note: Text = ""


@cache
def carrier_routes() -> list[BaseRoute]:
    """The carrier routes, under /v1 (admin tokens only); built once per process."""
    return _build()


def _build() -> list[BaseRoute]:
    router = APIRouter(prefix="/v1", tags=["carriers"])

    @router.post("/admin/carriers/rates")
    def upload(body: RatesUpload, request: Request, who: Caller, dry_run: bool = False) -> dict[str, Any]:
        """Check the rate table and, unless `dry_run` or a row is bad, make it the next version.
        The report names every bad row by file and line; nothing is applied if there is one."""
        api_of(who, "admin")
        texts = {"services": body.services, "zones": body.zones, "rates": body.rates}
        with request.app.state.db.write() as conn:
            return load_rates(conn, texts, body.note, actor_of(who), dry_run)

    @router.get("/admin/carriers/rates")
    def show(request: Request, who: Caller) -> dict[str, Any]:
        """The rate table in force with its version (0: none loaded)."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return {**rates_view(conn), "versions": rate_versions(conn)}

    @router.get("/admin/carriers/quote/{order_id}")
    def order_quote(order_id: Id, request: Request, who: Caller,
                    weight_g: int = Query(gt=0, le=1_000_000), day: date | None = None) -> dict[str, Any]:
        """The service a carton of `weight_g` would go with, shipped `day` (today), and why each other lost."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return quote(conn, order_id, weight_g, day or datetime.now(timezone.utc).date())

    @router.get("/admin/carriers/orders/{order_id}")
    def order_shipments(order_id: Id, request: Request, who: Caller) -> list[dict[str, Any]]:
        """The order's cartons with carrier, service, tracking number and why that service."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            get_order(conn, order_id)
            return shipments_for(conn, order_id)

    @router.get("/admin/carriers/manifest", responses={200: {"content": {"text/csv": {}}}})
    def handover(request: Request, who: Caller, location: Code, day: date, carrier: Code | None = None,
                 format: str = Query("json", pattern="^(json|csv)$")) -> Any:
        """The cartons `location` handed to carriers on `day` (UTC), one carrier or all."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            rows = manifest(conn, location, day.isoformat(), carrier)
        if format == "csv":
            name = f"manifest-{location}-{day.isoformat()}{'-' + carrier if carrier else ''}.csv"
            return Response(manifest_csv(rows), media_type="text/csv",
                            headers={"content-disposition": f'attachment; filename="{name}"'})
        return {"location": location, "day": day.isoformat(), "carrier": carrier, "cartons": rows}

    return list(router.routes)
