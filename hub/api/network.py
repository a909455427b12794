"""The network's set-up over HTTP, under /v1/admin: locations, bins, items, operators,
stock (adjustments, transfers, the ledger) and CSV imports and exports. An admin token
acts as a network admin (hub.access). Every list is paged by a cursor (`after`, from
the previous page's `next`) and filtered; a page holds at most `limit` rows and `next`
is null only on the last one."""

from __future__ import annotations

import io
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from hub import imports
from hub import network_actions as actions
from hub import network_reads as reads
from hub.access import Access, network_admin
from hub.api.callers import Caller, actor_of, api_of, forget_callers
from hub.commands import OPERATOR_ROLES, BinAdded, LocationAdded, StockAdjusted, TransferLine
from hub.errors import Invalid, NotFound
from hub.store.db import Database
from sync.kinds import PRINTABLE, Code, Text

__all__ = ["ItemIn", "Listing", "OperatorIn", "network_routes"]

Key = Annotated[str, Path(max_length=64, pattern=PRINTABLE)]
QText = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)]
After = Annotated[str | None, Query(max_length=400, pattern=r"^[A-Za-z0-9_-]*$", description="`next` of the page before")]
Limit = Annotated[int, Query(ge=1, le=reads.MAX_LIMIT)]


class Listing(BaseModel):
    """One page of a list: its rows, and the cursor of the next page (null: this is the last)."""

    items: list[dict[str, Any]]
    next: str | None


class LocationChange(BaseModel):
    """The fields of a location to change; the ones left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)] | None = None
    kind: str | None = Field(default=None, pattern="^(store|warehouse|dark_store)$")
    address: Annotated[str, Field(max_length=300, pattern=PRINTABLE)] | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    time_zone: str | None = Field(default=None, max_length=64)
    opening_hours: dict[str, list[str]] | None = None
    daily_capacity: int | None = Field(default=None, ge=0, le=1_000_000)


class ItemIn(BaseModel):
    """An item as the API takes it: its GTINs (and a store's own barcodes) in `gtins`."""

    model_config = ConfigDict(extra="forbid")
    sku: Code
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
    gtins: list[Code] = Field(default_factory=list, max_length=100)
    unit_weight_g: int | None = Field(default=None, ge=0, le=1_000_000)
    length_mm: int | None = Field(default=None, ge=0, le=100_000)
    width_mm: int | None = Field(default=None, ge=0, le=100_000)
    height_mm: int | None = Field(default=None, ge=0, le=100_000)
    hazmat: bool = False
    min_age: int | None = Field(default=None, ge=1, le=99)

    def payload(self) -> dict[str, Any]:
        body = self.model_dump(exclude={"gtins"})
        return {**body, "barcodes": self.gtins}


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operator_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=PRINTABLE)]
    role: str = Field(pattern=f"^({'|'.join(OPERATOR_ROLES)})$")
    location: Code
    pin: str = Field(pattern=r"^\d{4,12}$")


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern=f"^({'|'.join(OPERATOR_ROLES)})$")
    pin: str = Field(default="", pattern=r"^(\d{4,12})?$")


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = ""


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transfer_id: Code | None = None
    from_location: Code
    to_location: Code
    lines: list[TransferLine] = Field(min_length=1, max_length=500)


class Receipt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bin: Code


def _admin(who: Any) -> Access:
    api_of(who, "admin")
    return network_admin(actor_of(who))


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _page(found: reads.Page) -> Listing:
    return Listing(items=found[0], next=found[1])


@cache
def network_routes() -> list[BaseRoute]:
    """The set-up routes, under /v1/admin (built once per process, like hub.api.admin's)."""
    router = APIRouter(prefix="/v1/admin", tags=["set-up"])
    _location_routes(router)
    _bin_and_item_routes(router)
    _operator_routes(router)
    _stock_routes(router)
    _file_routes(router)
    return list(router.routes)



def _location_routes(router: APIRouter) -> None:
    @router.get("/locations")
    def list_locations(request: Request, who: Caller, kind: QText = None, q: QText = None, after: After = None,
                       limit: Limit = 100) -> Listing:
        """Locations by code; `q` finds a code or a name by its start."""
        _admin(who)
        with _db(request).read() as conn:
            return _page(reads.locations(conn, None, kind=kind, q=q, after=after, limit=limit))

    @router.post("/locations", status_code=201)
    def add_location(body: LocationAdded, request: Request, who: Caller) -> dict[str, Any]:
        with _db(request).write() as conn:
            actions.add_location(conn, _admin(who), body.model_dump(exclude_none=True))
            return reads.location_of(conn, body.code) or {}

    @router.get("/locations/{code}")
    def get_location(code: Key, request: Request, who: Caller) -> dict[str, Any]:
        _admin(who)
        with _db(request).read() as conn:
            found = reads.location_of(conn, code)
        if found is None:
            raise NotFound(f"no location {code!r}")
        return found

    @router.patch("/locations/{code}")
    def change_location(code: Key, body: LocationChange, request: Request, who: Caller) -> dict[str, Any]:
        """Change the fields given (null clears address, coordinates, time zone, hours or capacity)."""
        changes = body.model_dump(exclude_unset=True)  # the command's model checks them (a 422 naming the field)
        with _db(request).write() as conn:
            actions.update_location(conn, _admin(who), code, changes)
            return reads.location_of(conn, code) or {}


def _bin_and_item_routes(router: APIRouter) -> None:
    @router.get("/bins")
    def list_bins(request: Request, who: Caller, location: QText = None, zone: QText = None, after: After = None,
                  limit: Limit = 100) -> Listing:
        """Bins by location and pick-path place."""
        _admin(who)
        with _db(request).read() as conn:
            return _page(reads.bins(conn, None, location=location, zone=zone, after=after, limit=limit))

    @router.post("/bins", status_code=201)
    def add_bin(body: BinAdded, request: Request, who: Caller) -> dict[str, Any]:
        """Add a bin, or change its place on the pick path or its zone."""
        with _db(request).write() as conn:
            actions.add_bin(conn, _admin(who), body.model_dump())
        return body.model_dump()

    @router.get("/items")
    def list_items(request: Request, who: Caller, q: QText = None, gtin: QText = None, hazmat: bool | None = None,
                   after: After = None, limit: Limit = 100) -> Listing:
        """Items by SKU; `q` finds a SKU or a name by its start, `gtin` the item of a barcode."""
        _admin(who)
        with _db(request).read() as conn:
            return _page(reads.items(conn, q=q, gtin=gtin, hazmat=hazmat, after=after, limit=limit))

    @router.put("/items/{sku}")
    def put_item(sku: Key, body: ItemIn, request: Request, who: Caller) -> dict[str, Any]:
        """Add or change an item (the whole of it: fields left out are cleared)."""
        if body.sku != sku:
            raise Invalid(f"sku: the body names {body.sku!r}, the path {sku!r}")
        with _db(request).write() as conn:
            actions.upsert_item(conn, _admin(who), body.payload())
        return body.model_dump()


def _operator_routes(router: APIRouter) -> None:
    @router.get("/operators")
    def list_operators(request: Request, who: Caller, location: QText = None, role: QText = None,
                       active: bool | None = None, after: After = None, limit: Limit = 100) -> Listing:
        _admin(who)
        with _db(request).read() as conn:
            return _page(reads.operators(conn, None, location=location, role=role, active=active, after=after, limit=limit))

    @router.post("/operators", status_code=201)
    def add_operator(body: OperatorIn, request: Request, who: Caller) -> dict[str, Any]:
        """Add an operator with a PIN (stored hashed); devices at the location learn them on their next sync."""
        with _db(request).write() as conn:
            actions.add_operator(conn, _admin(who), body.operator_id, body.name, body.role, body.location, body.pin)
        return body.model_dump(exclude={"pin"})

    @router.post("/operators/{operator_id}/role")
    def change_role(operator_id: Key, body: RoleChange, request: Request, who: Caller) -> dict[str, Any]:
        """A new role; a supervisor needs a new PIN (6 to 12 digits), other roles keep theirs."""
        with _db(request).write() as conn:
            actions.change_operator_role(conn, _admin(who), operator_id, body.role, body.pin)
        return {"operator_id": operator_id, "role": body.role}

    @router.post("/operators/{operator_id}/disable")
    def disable(operator_id: Key, body: Reason, request: Request, who: Caller) -> dict[str, Any]:
        with _db(request).write() as conn:
            actions.disable_operator(conn, _admin(who), operator_id, body.reason)
        return {"operator_id": operator_id, "disabled": True}

    @router.delete("/operators/{operator_id}")
    def remove(operator_id: Key, request: Request, who: Caller) -> dict[str, Any]:
        with _db(request).write() as conn:
            actions.remove_operator(conn, _admin(who), operator_id)
        forget_callers(request.app)
        return {"operator_id": operator_id, "removed": True}


def _stock_routes(router: APIRouter) -> None:
    @router.get("/stock")
    def list_stock(request: Request, who: Caller, location: QText = None, sku: QText = None, bin: QText = None,
                   after: After = None, limit: Limit = 100) -> Listing:
        """On hand per (location, bin, SKU)."""
        _admin(who)
        with _db(request).read() as conn:
            return _page(reads.stock(conn, None, location=location, sku=sku, bin_code=bin, after=after, limit=limit))

    @router.get("/movements")
    def list_movements(request: Request, who: Caller, location: QText = None, sku: QText = None, bin: QText = None,
                       reason: QText = None, order_id: QText = None, after: After = None, limit: Limit = 100) -> Listing:
        """The stock ledger, oldest first: receipts, picks, counts, moves, adjustments, snapshots, transfers."""
        _admin(who)
        with _db(request).read() as conn:
            return _page(reads.movements(conn, None, location=location, sku=sku, bin_code=bin, reason=reason,
                                         order_id=order_id, after=after, limit=limit))

    @router.post("/stock/adjustments", status_code=201)
    def adjust(body: StockAdjusted, request: Request, who: Caller) -> dict[str, Any]:
        """Units found (+) or lost, damaged, expired … (−) in a bin, with the reason."""
        with _db(request).write() as conn:
            result = actions.adjust_stock(conn, _admin(who), body.model_dump())
        return {**body.model_dump(), "message": result.message}

    @router.get("/transfers")
    def list_transfers(request: Request, who: Caller, status: QText = None, from_location: QText = None,
                       to_location: QText = None, after: After = None, limit: Limit = 100) -> Listing:
        """Transfers by id; `status=in_transit` is what is on the road."""
        _admin(who)
        with _db(request).read() as conn:
            return _page(reads.transfers(conn, None, status=status, from_location=from_location,
                                         to_location=to_location, after=after, limit=limit))

    @router.post("/transfers", status_code=201)
    def ship(body: TransferIn, request: Request, who: Caller) -> dict[str, Any]:
        """Ship units from bins of one location to another: they leave its stock now and are
        in transit until received."""
        with _db(request).write() as conn:
            transfer_id = actions.ship_transfer(conn, _admin(who), body.model_dump(exclude_none=True))
        return {**body.model_dump(), "transfer_id": transfer_id, "status": "in_transit"}

    @router.post("/transfers/{transfer_id}/receive")
    def receive(transfer_id: Key, body: Receipt, request: Request, who: Caller) -> dict[str, Any]:
        with _db(request).write() as conn:
            actions.receive_transfer(conn, _admin(who), transfer_id, body.bin)
        return {"transfer_id": transfer_id, "status": "received", "bin": body.bin}


KindPath = Annotated[str, Path(pattern="^(items|bins|stock)$")]


def _file_routes(router: APIRouter) -> None:
    @router.post("/imports/{kind}", openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {}}}})
    async def import_file(kind: KindPath, request: Request, who: Caller, dry_run: bool = False) -> dict[str, Any]:
        """Import a CSV file (the body; columns in docs/setup.md). Every bad row is reported with
        its line and nothing is applied; `dry_run=true` checks only. A good file is applied in
        batches, each one logged hub command."""
        access = _admin(who)
        text = imports.text_of(await request.body())
        report = await run_in_threadpool(imports.import_csv, _db(request), access, kind, text, dry_run)
        return report.as_dict()

    @router.get("/exports/{kind}", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    def export_file(kind: KindPath, request: Request, who: Caller) -> StreamingResponse:
        """Every item, bin or stock figure as CSV, in the import's columns."""
        access = _admin(who)
        buffer = io.StringIO()
        imports.export_csv(_db(request), access, kind, buffer)
        return StreamingResponse(iter([buffer.getvalue()]), media_type="text/csv",
                                 headers={"content-disposition": f'attachment; filename="{kind}.csv"'})

