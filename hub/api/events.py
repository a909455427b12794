"""Events out and foresight over HTTP, for administrators: the outbox read from any
position, webhook subscriptions and their dead letters, open orders at SLA risk, and
the Prometheus metrics (`/metrics`, an admin token as the scrape's bearer)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from hub.api.callers import Caller, actor_of, api_of, client_of
from hub.events.stream import envelope_json, page
from hub.events.webhooks import dead_letters, subscribe, unsubscribe, webhook_rows
from hub.insight.metrics import metrics_text
from hub.insight.risk import risk_rows
from sync.kinds import PRINTABLE, Code

__all__ = ["events_routes", "WebhookRequest", "WebhookMade"]

_TYPE = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+(\.\*)?$")]


class WebhookRequest(BaseModel):
    """A webhook subscription: where, which event types (`backroom.order.*`; none: all), which locations (none: all)."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=500, pattern=r"^https?://[^\s]+$")
    types: list[_TYPE] = Field(default_factory=list, max_length=100)
    locations: list[Code] = Field(default_factory=list, max_length=1000)
    from_start: bool = False


class WebhookMade(BaseModel):
    """A new subscription and its signing secret, shown once."""

    id: str
    secret: str


@cache
def events_routes() -> list[BaseRoute]:
    """Every route of this module (built once per process, like hub.api.admin's)."""
    router = APIRouter()
    _outbox_routes(router)
    _webhook_routes(router)
    _insight_routes(router)
    return list(router.routes)



def _outbox_routes(router: APIRouter) -> None:
    @router.get("/v1/events", tags=["events"])
    def events(request: Request, who: Caller, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
               limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Response:
        """CloudEvents past position `after`, oldest first: replay from any position."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            found = page(conn, after, limit)
        return Response(b"[" + b",".join(envelope_json(e) for e in found) + b"]", media_type="application/json")


def _webhook_routes(router: APIRouter) -> None:
    @router.get("/v1/webhooks", tags=["events"])
    def webhooks(request: Request, who: Caller) -> list[dict[str, Any]]:
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return webhook_rows(conn)

    @router.post("/v1/webhooks", status_code=201, tags=["events"])
    def make_webhook(body: WebhookRequest, request: Request, who: Caller) -> WebhookMade:
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            hook_id, secret = subscribe(conn, body.url, body.types, body.locations, actor_of(who), body.from_start,
                                        client_of(request))
        return WebhookMade(id=hook_id, secret=secret)

    @router.delete("/v1/webhooks/{webhook_id}", tags=["events"])
    def drop_webhook(webhook_id: Annotated[str, Path(max_length=64, pattern=PRINTABLE)], request: Request,
                     who: Caller) -> dict[str, Any]:
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            unsubscribe(conn, webhook_id, actor_of(who), client_of(request))
        return {"id": webhook_id, "disabled": True}

    @router.get("/v1/webhooks/dead-letters", tags=["events"])
    def dead(request: Request, who: Caller,
             webhook: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
             limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[dict[str, Any]]:
        """Events given up on after every retry, newest first."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return dead_letters(conn, webhook, limit)


def _insight_routes(router: APIRouter) -> None:
    @router.get("/v1/admin/risk", tags=["insight"])
    def risk(request: Request, who: Caller, location: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
             limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
        """Open orders at SLA risk or late, late first, with the reason in words."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return risk_rows(conn, location, limit)

    @router.get("/metrics", tags=["insight"], response_class=PlainTextResponse)
    def metrics(request: Request, who: Caller) -> PlainTextResponse:
        """Prometheus text format."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            text = metrics_text(conn)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

