"""Routing's invariants, checked against the hub database.

After every step: every accepted order is either at one location holding every
reservation it has, or parked holding none; no reservation where the location holds
no stock of it (the oversell check covers the rest, location by location); a linked
order (split, short's remainder, rejected line) keeps its root's promise; every
stored decision names each location the policy's rules could have chosen, with the
chosen ones marked and a reason for every other. At quiescence the log replays to the
same state, routing decisions included (hub.verify folds `routing_decisions`)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from hub.domain.routing_policy import DEFAULT_POLICY, RoutingPolicy
from simulator.world import SimHub

__all__ = ["after_step", "at_quiescence", "PARKED"]

# Statuses of an order that routing holds no location for.
PARKED = ("awaiting_stock", "pickup_rejected")


def after_step(hub: SimHub) -> list[str]:
    with hub.db.read() as conn:
        return (_routed_where_reserved(conn) + _reserved_where_stocked(conn) + _promise_kept(conn)
                + _decisions_explained(conn, hub))


def at_quiescence(hub: SimHub) -> list[str]:
    with hub.db.read() as conn:
        decided = conn.execute("SELECT COUNT(*) FROM routing_decisions").scalar_one()
    return [] if decided else ["no routing decision was stored in the whole schedule"]


def _routed_where_reserved(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT o.number, o.status, o.location, r.location AS held, COUNT(*) AS n FROM reservations r "
        "JOIN orders o ON o.id = r.order_id WHERE o.location IS NULL OR r.location <> o.location OR o.status IN :p "
        "GROUP BY o.number, o.status, o.location, r.location", {"p": list(PARKED)}).all()
    problems = [f"order {r.number} ({r.status}) is at {r.location or 'no location'} but holds {r.n} reservation(s) at {r.held}"
                for r in rows]
    strays = conn.execute("SELECT number, status, location FROM orders WHERE status IN :p AND location IS NOT NULL",
                          {"p": list(PARKED)}).all()
    problems += [f"order {r.number} is {r.status} yet routed to {r.location}" for r in strays]
    unrouted = conn.execute("SELECT number, status FROM orders WHERE location IS NULL AND status NOT IN :p AND status <> 'cancelled'",
                            {"p": list(PARKED)}).all()
    problems += [f"order {r.number} is {r.status} with no location" for r in unrouted]
    return problems


def _reserved_where_stocked(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT r.location, r.sku, SUM(r.qty) AS q FROM reservations r WHERE r.qty > 0 AND NOT EXISTS "
        "(SELECT 1 FROM stock s WHERE s.location = r.location AND s.sku = r.sku) GROUP BY r.location, r.sku").all()
    return [f"oversell at {r.location}/{r.sku}: {r.q} reserved where it was never stocked" for r in rows]


def _promise_kept(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT c.number, c.promised_by AS promised, p.number AS root, p.promised_by AS root_promised, d.link_reason "
        "FROM order_details d JOIN orders c ON c.id = d.order_id JOIN orders p ON p.id = d.parent_id "
        "WHERE d.parent_id IS NOT NULL AND c.promised_by <> p.promised_by").all()
    return [f"{r.link_reason} order {r.number} promises {r.promised}, its root {r.root} {r.root_promised}" for r in rows]


def _decisions_explained(conn: Any, hub: SimHub) -> list[str]:
    """Decisions stored since the last step (a stored decision never changes)."""
    kinds = {r.code: r.kind for r in conn.execute("SELECT code, kind FROM locations")}
    policies = {r.version: _policy(r.policy) for r in conn.execute("SELECT version, policy FROM routing_policies")}
    policies[0] = DEFAULT_POLICY
    rows = conn.execute(
        "SELECT d.id, d.order_id, d.policy_version, d.rule, d.outcome, d.shipments, d.candidates, o.number, o.fulfilment, "
        "x.requested_location FROM routing_decisions d JOIN orders o ON o.id = d.order_id "
        "LEFT JOIN order_details x ON x.order_id = d.order_id WHERE d.id > :seen ORDER BY d.id",
        {"seen": hub.decisions_checked}).all()
    problems = []
    for r in rows:
        problems += _explained(r, kinds, policies[r.policy_version])
    hub.decisions_checked = rows[-1].id if rows else hub.decisions_checked
    return problems


@lru_cache(maxsize=64)
def _policy(text: str) -> RoutingPolicy:
    return RoutingPolicy.model_validate_json(text)


def _explained(r: Any, kinds: dict[str, str], policy: RoutingPolicy) -> list[str]:
    """The candidates name every location each rule tried could take; chosen ones are
    the shipments', every other has a reason."""
    candidates = json.loads(r.candidates)
    chosen = {loc for loc in (s["location"] for s in json.loads(r.shipments))}
    named: dict[str, set[str]] = {}
    for c in candidates:
        named.setdefault(c["rule"] or "", set()).add(c["location"])
    problems = []
    if r.rule is not None or r.outcome == "parked":
        for rule in policy.rules:
            if r.fulfilment not in rule.fulfilment:
                continue
            expected = ({r.requested_location} if r.requested_location else
                        {code for code, kind in kinds.items() if kind in rule.kinds})
            missing = expected - named.get(rule.name, set())
            if missing:
                problems.append(f"decision {r.id} on {r.number} (rule {rule.name}) does not name {sorted(missing)}")
            if rule.name == r.rule:
                break
    elif not candidates:
        problems.append(f"decision {r.id} on {r.number} ({r.outcome}) names no location at all")
    marked = {c["location"] for c in candidates if c["chosen"]}
    if marked != chosen:
        problems.append(f"decision {r.id} on {r.number} ships from {sorted(chosen)} but marks {sorted(marked)} chosen")
    silent = [c["location"] for c in candidates if not c["chosen"] and not c["reasons"]]
    if silent:
        problems.append(f"decision {r.id} on {r.number} gives no reason why {silent} lost")
    return problems
