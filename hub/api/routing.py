"""Routing for administrators: the policy (read, set a new version), location
profiles, a re-brokering pass, and an order's routing, release and reassignment.
Every change is a logged hub command (hub.routing_actions)."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from hub.api.callers import Caller, actor_of, api_of
from hub.api.reads import get_order
from hub.commands import LocationProfileSet, RoutingPolicySet
from hub.routing_actions import (
    decisions_for,
    policy_versions,
    policy_view,
    reassign_order,
    rebroker,
    release_order,
    set_location_profile,
    set_policy,
)
from sync.kinds import PRINTABLE, Code, Text

__all__ = ["routing_routes", "PolicyRequest", "ReleaseRequest", "ReassignRequest", "RebrokerRequest"]

Id = Annotated[str, Path(max_length=64, pattern=PRINTABLE)]


PolicyRequest = RoutingPolicySet  # {"policy": …, "note": …}: the command's own payload


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    forget_rejections: bool = False


class ReassignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location: Code
    note: Text = ""


class RebrokerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=10_000, ge=1, le=1_000_000)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@cache
def routing_routes() -> list[BaseRoute]:
    """The routing routes, under /v1 (admin tokens only); built once per process, like admin_routes."""
    return _build()


def _build() -> list[BaseRoute]:
    router = APIRouter(prefix="/v1", tags=["routing"])

    @router.get("/admin/routing/policy")
    def policy(request: Request, who: Caller) -> dict[str, Any]:
        """The routing policy in force, with its version (0: the built-in default)."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return policy_view(conn)

    @router.get("/admin/routing/policies")
    def versions(request: Request, who: Caller) -> list[dict[str, Any]]:
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return policy_versions(conn)

    @router.post("/admin/routing/policy", status_code=201)
    def put_policy(body: PolicyRequest, request: Request, who: Caller) -> dict[str, Any]:
        """Set a new version of the policy; orders routed from now on follow it."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            return set_policy(conn, body.policy, body.note, actor_of(who))

    @router.post("/admin/routing/locations")
    def profile(body: LocationProfileSet, request: Request, who: Caller) -> dict[str, Any]:
        """A location's coordinates, opening hours, daily capacity and rank."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            set_location_profile(conn, body.model_dump(mode="json"), actor_of(who))
        return body.model_dump(mode="json")

    @router.post("/admin/routing/rebroker")
    def rebroker_pass(body: RebrokerRequest, request: Request, who: Caller) -> dict[str, Any]:
        """Route parked orders again, highest priority and oldest first."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            return {"message": rebroker(conn, _now(), actor_of(who), body.limit)}

    @router.get("/admin/routing/orders/{order_id}")
    def decisions(order_id: Id, request: Request, who: Caller) -> list[dict[str, Any]]:
        """The order's routing decisions with every candidate and why it lost."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            get_order(conn, order_id)
            return decisions_for(conn, order_id)

    @router.post("/admin/routing/orders/{order_id}/release")
    def release(order_id: Id, body: ReleaseRequest, request: Request, who: Caller) -> dict[str, Any]:
        """Send a parked order (awaiting stock, pickup rejected) back through routing."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            get_order(conn, order_id)
            message = release_order(conn, order_id, _now(), actor_of(who), body.forget_rejections)
            return {"message": message, "order": get_order(conn, order_id)}

    @router.post("/admin/routing/orders/{order_id}/reassign")
    def reassign(order_id: Id, body: ReassignRequest, request: Request, who: Caller) -> dict[str, Any]:
        """Move an order nobody has picked from to another location that holds it all."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            get_order(conn, order_id)
            message = reassign_order(conn, order_id, body.location, _now(), actor_of(who), body.note)
            return {"message": message, "order": get_order(conn, order_id)}

    return list(router.routes)
