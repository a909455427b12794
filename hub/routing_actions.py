"""What the API, the CLI and the console ask of routing: set the policy, profile a
location, release or reassign an order, run a re-brokering pass. Each is a logged hub
command; the signals a command carries (device syncs) are read here, at the edge,
so the handlers stay a fold over the log. The API and the console read an order's
routing through `decisions_for` and `order_routing` here (they never import hub.domain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.domain.routing import current_policy, decisions_for, order_routing
from hub.domain.routing_policy import RoutingPolicy
from hub.log import run_hub_command
from hub.store.tx import Tx

__all__ = ["RoutingPolicy", "policy_view", "policy_versions", "set_policy", "set_location_profile", "release_order", "reassign_order",
           "rebroker", "synced_signal", "decisions_for", "order_routing"]


def policy_view(conn: Tx) -> dict[str, Any]:
    """The policy in force: its version (0: the built-in default) and its rules."""
    version, policy = current_policy(conn)
    return {"version": version, "default": version == 0, "policy": policy.model_dump(mode="json")}


def policy_versions(conn: Tx) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT version, note, set_by FROM routing_policies ORDER BY version").all()
    return [{"version": 0, "note": "built-in default", "set_by": "hub"}] + [{"version": r.version, "note": r.note, "set_by": r.set_by} for r in rows]


def set_policy(conn: Tx, policy: dict[str, Any] | RoutingPolicy, note: str, actor: str) -> dict[str, Any]:
    """A new policy version. Raises Invalid (a bad policy, the field named)."""
    body = policy.model_dump(mode="json") if isinstance(policy, RoutingPolicy) else policy
    run_hub_command(conn, "routing.policy_set", {"policy": body, "note": note}, actor=actor)
    return policy_view(conn)


def set_location_profile(conn: Tx, profile: dict[str, Any], actor: str) -> None:
    run_hub_command(conn, "location.profile_set", profile, actor=actor)


def release_order(conn: Tx, order_id: str, now: datetime, actor: str, forget_rejections: bool = False) -> str:
    """Send a parked order back through routing; returns what happened. Raises Invalid or Conflict."""
    result = run_hub_command(conn, "order.released", {"order_id": order_id, "at": now.isoformat(),
                                                      "forget_rejections": forget_rejections}, actor=actor)
    return result.message or ""


def reassign_order(conn: Tx, order_id: str, location: str, now: datetime, actor: str, note: str = "") -> str:
    """Move an unpicked order to `location`. Raises Invalid or Conflict (the reasons it cannot)."""
    result = run_hub_command(conn, "order.reassigned", {"order_id": order_id, "location": location,
                                                        "at": now.isoformat(), "note": note}, actor=actor)
    return result.message or ""


def rebroker(conn: Tx, now: datetime, actor: str = "rebroker", limit: int = 10_000) -> str:
    """One pass over parked orders (a scheduled job, `backroom hub rebroker`)."""
    payload: dict[str, Any] = {"at": now.isoformat(), "limit": limit}
    if (synced := synced_signal(conn)) is not None:
        payload["synced"] = synced
    return run_hub_command(conn, "routing.rebrokered", payload, actor=actor).message or ""


def synced_signal(conn: Tx) -> dict[str, str] | None:
    """When each location's devices last synced, if the policy in force filters on it
    (None otherwise: nothing to log). Read here, logged with the command."""
    _version, policy = current_policy(conn)
    if not any(rule.filters.synced_within_min for rule in policy.rules):
        return None
    rows = conn.execute("SELECT location, MAX(last_seen_at) AS seen FROM devices WHERE last_seen_at IS NOT NULL "
                        "AND revoked_at IS NULL GROUP BY location").all()
    return {r.location: r.seen for r in rows}

