"""Administrators' calls: revoke a device, issue, list, rotate and revoke API tokens,
disable and remove operators, read the audit trail. Every one needs an admin
token; every change is in the audit trail (written with it, in one transaction)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from hub.actions import revoke_device
from hub.api.callers import Caller, actor_of, api_of, client_of, forget_callers
from hub.audit import audit_rows
from hub.credentials import API_ROLES, create_api_token, list_api_tokens, revoke_api_token, rotate_api_token
from hub.hand_over import hand_over  # sync: a swapped handheld
from hub.log import run_hub_command
from sync.kinds import PRINTABLE, Code, Text

__all__ = ["admin_routes", "TokenRequest", "TokenIssued", "HandOver"]

Id = Annotated[str, Path(max_length=64, pattern=PRINTABLE)]


class TokenRequest(BaseModel):
    """An API token to issue: an intake token names its sales channel."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern=f"^({'|'.join(API_ROLES)})$")
    name: Code
    channel: Code | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenIssued(BaseModel):
    """A token, shown once."""

    token_id: str
    token: str


class HandOver(BaseModel):
    """The device that takes over a replaced one's unfinished work."""

    model_config = ConfigDict(extra="forbid")
    to: Code


class OperatorOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = ""


@cache
def admin_routes() -> list[BaseRoute]:
    """Every admin route, under /v1. Built once per process and shared by its apps: the
    routes keep no app of their own (they read `request.app`), and building them was a
    third of an app's start-up (the simulator starts hundreds)."""
    router = APIRouter(prefix="/v1", tags=["admin"])
    _device_routes(router)
    _token_routes(router)
    _operator_and_audit_routes(router)
    return list(router.routes)



def _device_routes(router: APIRouter) -> None:
    @router.post("/devices/{device_id}/revoke")
    def revoke(device_id: Id, request: Request, who: Caller) -> dict[str, Any]:
        """Refuse the device's token from now on (every worker within seconds) and take
        back its escrow units. Ops it has not pushed are never applied."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            device = revoke_device(conn, device_id, actor_of(who), client_of(request))
        forget_callers(request.app)
        return {"device_id": device.id, "revoked": True}

    @router.post("/devices/{device_id}/hand-over")
    def hand_over_work(device_id: Id, body: HandOver, request: Request, who: Caller) -> dict[str, Any]:
        """A swapped handheld: its pick claims, allotments and open tasks go to `to` (same
        location, same role) and it is revoked; its unsent ops are never applied."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            moved = hand_over(conn, device_id, body.to, actor_of(who), client_of(request))
        forget_callers(request.app)
        return moved


def _token_routes(router: APIRouter) -> None:
    @router.get("/tokens")
    def tokens(request: Request, who: Caller) -> list[dict[str, Any]]:
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return list_api_tokens(conn)

    @router.post("/tokens", status_code=201)
    def issue(body: TokenRequest, request: Request, who: Caller) -> TokenIssued:
        api_of(who, "admin")
        expires = timedelta(days=body.expires_in_days) if body.expires_in_days else None
        with request.app.state.db.write() as conn:
            token = create_api_token(conn, body.role, body.name, body.channel, expires, actor_of(who))
        return TokenIssued(token_id=token.split("_")[1], token=token)

    @router.post("/tokens/{token_id}/revoke")
    def revoke_token(token_id: Id, request: Request, who: Caller) -> dict[str, Any]:
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            revoke_api_token(conn, token_id, actor_of(who), client_of(request))
        forget_callers(request.app)
        return {"token_id": token_id, "revoked": True}

    @router.post("/tokens/{token_id}/rotate", status_code=201)
    def rotate(token_id: Id, request: Request, who: Caller) -> TokenIssued:
        """A new token like this one; this one keeps working for an hour."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            token = rotate_api_token(conn, token_id, actor_of(who), client=client_of(request))
        forget_callers(request.app)
        return TokenIssued(token_id=token.split("_")[1], token=token)


def _operator_and_audit_routes(router: APIRouter) -> None:
    @router.post("/operators/{operator_id}/disable")
    def disable(operator_id: Id, body: OperatorOff, request: Request, who: Caller) -> dict[str, Any]:
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            run_hub_command(conn, "operator.disabled", {"operator_id": operator_id, "reason": body.reason}, actor_of(who))
        return {"operator_id": operator_id, "disabled": True}

    @router.delete("/operators/{operator_id}")
    def remove(operator_id: Id, request: Request, who: Caller) -> dict[str, Any]:
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            run_hub_command(conn, "operator.removed", {"operator_id": operator_id}, actor_of(who))
        return {"operator_id": operator_id, "removed": True}

    @router.get("/audit")
    def audit(request: Request, who: Caller,
              since: Annotated[str | None, Query(max_length=40, pattern=PRINTABLE)] = None,
              action: Annotated[str | None, Query(max_length=40, pattern=PRINTABLE)] = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[dict[str, Any]]:
        """Admin actions, failed authentications, refused ops and incidents, newest first."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return audit_rows(conn, since, action, limit)

