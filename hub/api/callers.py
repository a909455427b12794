"""Who is calling: the bearer token looked up (and cached a few seconds), the
checks a route makes of it, and the client's address for the audit trail."""

from __future__ import annotations

import random
import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool

from hub.credentials import ApiClient, Device, authenticate
from hub.errors import Forbidden
from hub.store.db import Database

__all__ = ["Caller", "caller", "bearer", "clock", "forget_callers", "device_of", "api_of", "actor_of", "client_of",
           "CALLER_TTL_S"]

# Who holds a token is looked up once per device per few seconds, not on every push
# and pull. A revoked token is refused by every worker within CALLER_TTL_S (plus the
# spread); the worker that revoked it forgets its cache at once. Each entry lives a
# slightly different time: devices that started together (a shift, a hub restart)
# would otherwise all be looked up again in the same instant, every time.
CALLER_TTL_S = 5.0
_CALLER_TTL_SPREAD = 0.2  # ± this share of the TTL
_CALLER_CACHE_SIZE = 10_000


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    return authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None


async def caller(app: FastAPI, authorization: str | None) -> Device | ApiClient:
    """Who holds the bearer token of this Authorization header; raises Unauthorized."""
    # async: a cache hit costs no trip to the thread pool; a miss reads the database there.
    token = bearer(authorization)
    cache: dict = app.state.callers
    now = clock()
    hit = cache.get(token)
    if hit is not None and hit[0] > now:
        return hit[1]
    who = await run_in_threadpool(_authenticate, app.state.db, token)
    if len(cache) >= _CALLER_CACHE_SIZE:
        cache.clear()
    cache[token] = (now + CALLER_TTL_S * random.uniform(1 - _CALLER_TTL_SPREAD, 1 + _CALLER_TTL_SPREAD), who)
    return who


def clock() -> float:
    """The cache's clock (a test moves it on)."""
    return time.monotonic()


def forget_callers(app: FastAPI) -> None:
    """A credential changed: look every token up again."""
    app.state.callers.clear()


def _authenticate(db: Database, token: str | None) -> Device | ApiClient:
    with db.read() as conn:
        return authenticate(conn, token)


async def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Device | ApiClient:
    return await caller(request.app, authorization)


Caller = Annotated[Device | ApiClient, Depends(_caller)]


def device_of(who: Device | ApiClient) -> Device:
    if not isinstance(who, Device):
        raise Forbidden("this call is for enrolled devices")
    return who


def api_of(who: Device | ApiClient, *roles: str) -> ApiClient:
    if not isinstance(who, ApiClient) or who.role not in roles:
        raise Forbidden(f"this call needs a token with role {' or '.join(roles)}")
    return who


def actor_of(who: Device | ApiClient) -> str:
    if isinstance(who, Device):
        return f"device:{who.id}"
    return f"{who.role}:{who.name}" + (f"@{who.channel}" if who.channel else "")


def client_of(scope_or_request: Any) -> str:
    """The client's address (the proxy's, behind one: put the hub behind a trusted proxy
    that sets the peer address, e.g. uvicorn's --proxy-headers)."""
    scope = scope_or_request.scope if hasattr(scope_or_request, "scope") else scope_or_request
    client = scope.get("client")
    return client[0] if client else ""
