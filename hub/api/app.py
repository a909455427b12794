"""The hub's HTTP API. Library errors become HTTP answers here and only here."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from hub import credentials
from hub.actions import ESCROW_ROLES, accept_order, rebalance
from hub.api.admin import admin_routes
from hub.api.network import network_routes  # set-up
from hub.api.callers import Caller, actor_of, api_of, caller, client_of, device_of
from hub.api.docs import install_docs
from hub.api.door import Door, Throttle
from hub.api.events import events_routes  # events out and foresight
from hub.api.pull_checks import PULL_REFUSALS, pull_refusal  # sync
from hub.api.push import push
from hub.api.push_lane import MAX_PUSH_BYTES, PushLane, too_large
from hub.api.request_log import RequestLog
from hub.api.routing import routing_routes
from hub.api.anomalies import anomaly_routes  # anomalies
from hub.api.carriers import carrier_routes  # carriers
from hub.api.returns import returns_routes  # returns from any channel
from hub.api.reads import (
    conflict_rows,
    get_order,
    list_devices,
    list_orders,
    movement_rows,
    stock_rows,
    task_rows,
)
from hub.api.writer import WriterClient
from hub.console import console_error, install_console
from hub.credentials import ApiClient, Device, require_location
from hub.errors import Forbidden, HubError, NotFound
from hub.feed import device_scope, pull
from hub.log import hub_hlc, run_hub_command
from hub.store.db import Database
from hub.store.migrations import migrate
from sync.kinds import PRINTABLE
from sync.models import (
    CancelRequest,
    Enrollment,
    EnrollRequest,
    OrderIn,
    PullResponse,
    PushRequest,
    PushResponse,
    SyncHealth,
)

__all__ = ["create_app", "QCode", "PCode"]

# Query and path parameters the hub compares with stored codes: printable and short,
# so nothing a client types reaches SQL as a NUL or a megabyte.
QCode = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)]
PCode = Annotated[str, Path(max_length=64, pattern=PRINTABLE)]


def create_app(db: Database, *, run_migrations: bool = True, writer: str | None = None) -> FastAPI:
    """The hub API over `db`. Migrations run at start-up unless told not to.
    `writer`: the socket of a writer process that applies pushed ops (hub.api.writer);
    without one they are applied in this process."""
    if run_migrations:
        migrate(db)
    app = FastAPI(title="Backroom hub", version="0.1.0", description="Orders, stock and sync for store floors.",
                  docs_url=None, redoc_url=None)
    app.state.db = db
    app.state.writer = WriterClient(writer) if writer else None
    app.state.callers = {}  # token -> (expires, Device | ApiClient)
    app.state.throttle = Throttle()
    _install_error_handlers(app)
    _install_routes(app)
    app.router.routes.extend(admin_routes())
    app.router.routes.extend(network_routes())  # set-up
    app.router.routes.extend(events_routes())  # events out and foresight (hub.api.events)
    app.router.routes.extend(routing_routes())  # routing
    app.router.routes.extend(anomaly_routes())  # anomalies (hub.api.anomalies)
    app.router.routes.extend(carrier_routes())  # carriers
    app.router.routes.extend(returns_routes())  # returns from any channel: a counter device's look-up
    from hub.api.insight import insight_routes  # inventory risk and fulfilment analytics
    app.router.routes.extend(insight_routes())
    app.add_middleware(PushLane, forward=forward_push, refusal_of=refusal_of)
    app.add_middleware(Door)  # before the push lane reads a body
    app.add_middleware(RequestLog, name_caller=lambda token: _caller_name(app, token))  # outermost: sees every request
    _publish_push_schema(app)
    install_docs(app)
    install_console(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> Response:
        return console_error(request, exc) or JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return console_error(request, exc) or JSONResponse(refusal_of(exc), status_code=422)


def refusal_of(exc: RequestValidationError) -> dict[str, Any]:
    """A 422's body: every problem, located, in one line, and the details."""
    problems = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()]
    # A validator's own exception travels in `ctx`: as its sentence, so the body is JSON.
    errors = [{**e, "ctx": {k: str(v) for k, v in e["ctx"].items()}} if "ctx" in e else e for e in exc.errors()]
    return {"detail": "; ".join(problems), "errors": errors}


def _db(request: Request) -> Database:
    return request.app.state.db


def _caller_name(app: FastAPI, token: str | None) -> str:
    """Who a request came from, for the request log: as far as the token cache knows."""
    if not token:
        return "anonymous"
    hit = app.state.callers.get(token)
    return actor_of(hit[1]) if hit is not None else "unknown"


def _install_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"])
    def healthz(request: Request) -> dict[str, str]:
        with _db(request).read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    @app.post("/v1/orders", status_code=201, tags=["orders"],
              responses={200: {"description": "This channel posted this number before: the stored order"}})
    def post_order(order: OrderIn, request: Request, who: Caller) -> JSONResponse:
        client = api_of(who, "admin", "intake")
        if client.channel is not None and order.channel != client.channel:
            raise Forbidden(f"channel: this token posts orders for channel {client.channel!r} only")
        with _db(request).write() as conn:
            stored, created = accept_order(conn, order, datetime.now(timezone.utc).isoformat())
        return JSONResponse(stored, status_code=201 if created else 200)

    @app.get("/v1/orders", tags=["orders"])
    def orders(request: Request, who: Caller, location: QCode = None, status: QCode = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        location = require_location(who, location)
        with _db(request).read() as conn:
            return list_orders(conn, location, status, limit)

    @app.get("/v1/orders/{order_id}", tags=["orders"])
    def order(order_id: PCode, request: Request, who: Caller) -> dict[str, Any]:
        with _db(request).read() as conn:
            found = get_order(conn, order_id)
        if isinstance(who, Device) and found["location"] != who.location:
            raise NotFound(f"no order {order_id!r}")  # another location's order does not exist for this device
        if isinstance(who, ApiClient) and who.channel is not None:
            if found["channel"] != who.channel:
                raise NotFound(f"no order {order_id!r}")  # nor another channel's, for an intake token
            return found
        require_location(who, found["location"])
        return found

    @app.post("/v1/orders/{order_id}/cancel", tags=["orders"])
    def cancel(order_id: PCode, body: CancelRequest, request: Request, who: Caller) -> dict[str, Any]:
        client = api_of(who, "admin", "intake")
        with _db(request).write() as conn:
            if client.channel is not None and get_order(conn, order_id)["channel"] != client.channel:
                raise NotFound(f"no order {order_id!r}")  # another channel's order does not exist for this token
            get_order(conn, order_id)
            run_hub_command(conn, "order.cancelled", {"order_id": order_id, "reason": body.reason}, actor=actor_of(who))
            return get_order(conn, order_id)

    @app.get("/v1/conflicts", tags=["sync"])
    def conflicts(request: Request, who: Caller, location: QCode = None, device_id: QCode = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
        if isinstance(who, Device):
            device_id = who.id  # a device sees the collisions its own ops had
        else:
            api_of(who, "admin")
        with _db(request).read() as conn:
            return conflict_rows(conn, location, device_id, limit)

    @app.get("/v1/tasks", tags=["orders"])
    def tasks(request: Request, who: Caller, location: QCode = None, status: QCode = "open",
              limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
        location = require_location(who, location)
        with _db(request).read() as conn:
            return task_rows(conn, location, status, limit)

    @app.get("/v1/stock", tags=["stock"])
    def stock(request: Request, who: Caller, location: QCode = None, sku: QCode = None) -> list[dict[str, Any]]:
        location = require_location(who, location)
        with _db(request).read() as conn:
            return stock_rows(conn, location, sku)

    @app.get("/v1/movements", tags=["stock"])
    def movements(request: Request, who: Caller, location: QCode = None, sku: QCode = None,
                  order_id: QCode = None, limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
        location = require_location(who, location)
        with _db(request).read() as conn:
            return movement_rows(conn, location, sku, order_id, limit)

    @app.get("/v1/devices", tags=["devices"])
    def devices(request: Request, who: Caller, location: QCode = None) -> list[dict[str, Any]]:
        api_of(who, "admin")
        with _db(request).read() as conn:
            return list_devices(conn, location)

    @app.post("/v1/devices/enroll", tags=["devices"])
    def enroll(body: EnrollRequest, request: Request) -> Enrollment:
        with _db(request).write() as conn:
            device, token = credentials.enroll_device(conn, body.code, body.name, client_of(request))
        return Enrollment(device_id=device.id, token=token, location=device.location, role=device.role)

    @app.post("/v1/devices/health", status_code=204, tags=["devices"])
    def report_health(body: SyncHealth, request: Request, who: Caller) -> None:
        device = device_of(who)
        with _db(request).write() as conn:
            conn.execute(
                "UPDATE devices SET health = :h, last_seen_at = :t WHERE id = :d",
                {"h": body.model_dump_json(), "t": datetime.now(timezone.utc).isoformat(), "d": device.id},
            )

    @app.post("/v1/ops", tags=["sync"], response_model=PushResponse, openapi_extra=_PUSH_BODY)
    async def push_ops(request: Request, who: Caller) -> Response:
        # With a writer process, hub.api.push_lane answers pushes (forward_push) before they
        # get here: this route applies them in-process, and is what OpenAPI documents.
        device, body = checked_push(who, await request.body())
        answer = PushResponse(results=await push(_db(request), device, body.ops))
        # Serialised once: returned as a model, FastAPI would validate it all over again.
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.get("/v1/changes", tags=["sync"], response_model=PullResponse, responses=PULL_REFUSALS)
    def changes(request: Request, who: Caller, since: Annotated[int, Query(ge=0, le=2**62)] = 0,
                limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
                acked: Annotated[int | None, Query(ge=0, le=2**62)] = None,
                numbered: Annotated[int | None, Query(ge=0, le=2**62)] = None,
                tag: Annotated[str | None, Query(max_length=32, pattern="^[0-9a-f]*$")] = None) -> Response:
        device = device_of(who)
        # sync: where the device and the hub are (hub.api.pull_checks)
        if (refusal := pull_refusal(_db(request), device, since, acked, numbered, tag)) is not None:
            return refusal
        if device.role in ESCROW_ROLES:
            with _db(request).write() as conn:
                rebalance(conn, device, datetime.now(timezone.utc))
        with _db(request).read() as conn:
            page = pull(conn, device.location, since, limit, device_scope(device.id))
        body = page.json(hub_hlc())
        if not page.more:
            # Once per caught-up pull, not once per page: a bootstrap is hundreds of
            # pages, and each write here would queue behind the feed's write lock.
            _note_cursor(_db(request), device, page.cursor)
        return Response(body, media_type="application/json")


_PUSH_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/PushRequest"}}}}}


def checked_push(who: Device | ApiClient, raw: bytes) -> tuple[Device, PushRequest]:
    """The pushing device and its batch, once the batch is valid and all its own."""
    device = device_of(who)
    if len(raw) > MAX_PUSH_BYTES:
        raise too_large()
    # Validated in one pass from the raw bytes: FastAPI would parse the JSON into
    # Python objects first and validate those (twice the work).
    body = _push_request(raw)
    for i, op in enumerate(body.ops):
        if op.device_id != device.id:
            raise Forbidden(f"ops[{i}].device_id: this token belongs to another device")
    return device, body


async def forward_push(app: FastAPI, authorization: str | None, raw: bytes) -> bytes:
    """The writer process's answer (PushResponse JSON) to a checked push."""
    device, _batch = checked_push(await caller(app, authorization), raw)
    return await app.state.writer.push(device, raw)


def _push_request(raw: bytes) -> PushRequest:
    try:
        return PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        # Errors located as FastAPI locates them, so every 422 reads the same.
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


def _publish_push_schema(app: FastAPI) -> None:
    """Put PushRequest (and Op) in the OpenAPI components the push route refers to."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = make_schema()
            defs = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(defs.pop("$defs", {}))
            components["PushRequest"] = defs
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _note_cursor(db: Database, device: Device, cursor: int) -> None:
    with db.write() as conn:
        conn.execute(
            "UPDATE devices SET cursor = :c, last_seen_at = :t WHERE id = :d",
            {"c": cursor, "t": datetime.now(timezone.utc).isoformat(), "d": device.id},
        )
