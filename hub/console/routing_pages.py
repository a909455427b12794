"""The routing page of the set-up: the policy in force and its versions, a new version
set from JSON (the logged `routing.policy_set`, network admins only), a what-if of a
candidate policy against the log before it is set, and the scheduled jobs that re-broker
parked orders (hub.jobs). The API's and the CLI's calls, under the same access rules."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from hub.console.setup_pages import form_of
from hub.console.web import Checked, Signed, db_of, page
from hub.errors import Invalid
from hub.jobs import job_report
from hub.routing_actions import RoutingPolicy, policy_versions, policy_view, set_policy
from hub.what_if import parse_since, what_if

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/console/setup/routing", response_class=HTMLResponse)
def routing(request: Request, session: Signed, message: str = "", candidate: str = "",
            comparison: list[str] | None = None, since: str = "7d") -> HTMLResponse:
    with db_of(request).read() as conn:
        view, versions = policy_view(conn), policy_versions(conn)
        try:
            jobs = job_report(conn)
        except ValueError as exc:  # a bad interval in the environment: say so, show the rest
            jobs, message = [], f"{message} {exc}".strip()
    shown = candidate or json.dumps(view["policy"], indent=2)
    return page(request, "setup_routing.html", session, view=view, versions=versions[::-1][:20], jobs=jobs,
                candidate=shown, comparison=comparison, since=since, message=message, ok=not message.startswith("!"),
                may_set=session.admin.access().role == "network_admin")


def _candidate(text: str) -> RoutingPolicy:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"policy: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    try:
        return RoutingPolicy.model_validate(body.get("policy", body) if isinstance(body, dict) else body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "policy"
        raise Invalid(f"{where}: {err['msg']}") from None


@router.post("/console/setup/routing/what-if", response_class=HTMLResponse)
async def try_policy(request: Request, session: Checked) -> HTMLResponse:
    """Replay the log under the candidate (a scratch database; nothing here changes)."""
    form = await form_of(request)
    policy = _candidate(form.get("policy", ""))
    since_text = form.get("since", "")
    try:
        since = parse_since(since_text) if since_text else None
    except ValueError as exc:
        raise Invalid(f"since: {exc}") from None
    comparison = what_if(db_of(request), policy, since=since)
    return routing(request, session, candidate=form.get("policy", ""), comparison=comparison.lines(show=20),
                   since=since_text, message="What-if done: nothing was changed.")


@router.post("/console/setup/routing", response_class=HTMLResponse)
async def set_routing(request: Request, session: Checked) -> HTMLResponse:
    access = session.admin.access()
    access.require_network()
    form = await form_of(request)
    policy = _candidate(form.get("policy", ""))
    note = form.get("note", "")[:500]
    with db_of(request).write() as conn:
        view = set_policy(conn, policy, note or f"set in the console at {datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
                          access.actor)
    return routing(request, session, message=f"Routing policy version {view['version']} is in force.")
