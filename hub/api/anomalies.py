"""Anomalies over HTTP: GET /v1/anomalies, newest first, paged by a cursor (`after`,
the previous page's `next`) and filtered by status, kind and location. An admin token
sees the whole network; a supervisor's device sees its own location's (hub.access:
another location's anomalies do not exist for it). The anomaly policy: read it and set
a new version (admin tokens) under /v1/admin/anomaly-policy."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.routing import BaseRoute

from hub.access import Access, network_admin
from hub.api.callers import Caller, actor_of, api_of
from hub.api.network import After, Limit, Listing, QText
from hub.commands import ANOMALY_KINDS, AnomalyPolicySet
from hub.credentials import Device
from hub.insight.anomalies import anomaly_rows, policy_view, set_policy

__all__ = ["anomaly_routes"]

_KIND = Annotated[str | None, Query(pattern=f"^({'|'.join(ANOMALY_KINDS)})$")]
_STATUS = Annotated[str | None, Query(pattern="^(open|cleared)$")]


def _access(who: Any) -> Access:
    if isinstance(who, Device) and who.role == "supervisor":
        return Access("store_manager", actor_of(who), frozenset({who.location}))  # reads its own location only
    api_of(who, "admin")
    return network_admin(actor_of(who))


@cache
def anomaly_routes() -> list[BaseRoute]:
    """The routes of this module (built once per process, like hub.api.admin's)."""
    router = APIRouter(tags=["insight"])

    @router.get("/v1/anomalies")
    def list_anomalies(request: Request, who: Caller, status: _STATUS = None, kind: _KIND = None,
                       location: QText = None, after: After = None, limit: Limit = 100) -> Listing:
        """Anomalies the hub found, each with its evidence in words and numbers and what
        the anomaly policy did about it; `next` is null on the last page."""
        access = _access(who)
        with request.app.state.db.read() as conn:
            rows, nxt = anomaly_rows(conn, access.scope(), status=status, kind=kind, location=location,
                                     after=after, limit=limit)
        return Listing(items=rows, next=nxt)

    _policy_routes(router)
    return list(router.routes)



def _policy_routes(router: APIRouter) -> None:
    @router.get("/v1/admin/anomaly-policy")
    def policy(request: Request, who: Caller) -> dict[str, Any]:
        """The anomaly policy in force, with its version (0: none set, anomalies are only shown)."""
        api_of(who, "admin")
        with request.app.state.db.read() as conn:
            return policy_view(conn)

    @router.post("/v1/admin/anomaly-policy", status_code=201)
    def set_(body: AnomalyPolicySet, request: Request, who: Caller) -> dict[str, Any]:
        """Set a new version: what the hub does when an anomaly of each kind is raised
        (a logged hub command; anomalies raised from now on follow it)."""
        api_of(who, "admin")
        with request.app.state.db.write() as conn:
            return set_policy(conn, [r.model_dump(exclude_none=True) for r in body.rules], body.note, actor_of(who))
