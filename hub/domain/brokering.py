"""The ops that change where orders go: location profiles and routing policies (hub
commands), an administrator's release and reassignment, the scheduled re-brokering
pass, a store rejecting an order (a floor op), and the re-brokering that follows an
op that brings stock (a receipt, a count up, a return to stock) or a short pick."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Callable

from hub.commands import LocationProfileSet, OrderReassigned, OrderReleased, OrdersRebrokered, RoutingPolicySet
from hub.domain.routing import (
    UNPICKED_STATUSES,
    add_remainder_line,
    ask_for,
    cancel_overdue,
    carry_out,
    current_policy,
    exclude,
    network_changed,
    load_network,
    op_time,
    parse_time,
    rebroker_waiting,
    record_decision,
    route_order,
    spawn_child,
    unroute,
)
from hub.domain.routing_policy import FULFILMENTS, Rule, RoutingPolicy
from hub.domain.routing_rules import Route, decide
from hub.feed import emit_order
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import OrderRejected
from sync.models import Op

__all__ = ["location_profile_set", "policy_set", "order_released", "order_reassigned", "rebrokered", "order_rejected",
           "rebrokering", "remainder_after_short", "forgetting_sites"]

Apply = Callable[[Tx, Context, Op, Any], Outcome]


def location_profile_set(conn: Tx, _ctx: Context, op: Op, p: LocationProfileSet) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.code}).first() is None:
        return Outcome.refused("invalid", f"code: unknown location {p.code!r}")
    if (p.lat is None) != (p.lon is None):
        return Outcome.refused("invalid", "lat, lon: give both coordinates or neither")
    network_changed(conn, op.op_id)
    row = {**p.model_dump(), "hours": json.dumps(p.hours, sort_keys=True) if p.hours is not None else None}
    conn.execute(
        "INSERT INTO location_profiles (code, lat, lon, tz_offset_min, hours, daily_capacity, rank) "
        "VALUES (:code, :lat, :lon, :tz_offset_min, :hours, :daily_capacity, :rank) ON CONFLICT (code) DO UPDATE SET "
        "lat = excluded.lat, lon = excluded.lon, tz_offset_min = excluded.tz_offset_min, hours = excluded.hours, "
        "daily_capacity = excluded.daily_capacity, rank = excluded.rank",
        row,
    )
    return Outcome()


def policy_set(conn: Tx, _ctx: Context, op: Op, p: RoutingPolicySet) -> Outcome:
    version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM routing_policies").scalar_one()
    conn.execute("INSERT INTO routing_policies (version, policy, note, set_by) VALUES (:v, :p, :n, :b)",
                 {"v": version, "p": p.policy.model_dump_json(), "n": p.note, "b": op.actor})
    return Outcome(message=f"routing policy version {version}")


def order_released(conn: Tx, _ctx: Context, op: Op, p: OrderReleased) -> Outcome:
    status = conn.execute("SELECT status FROM orders WHERE id = :o", {"o": p.order_id}).scalar()
    if status is None:
        return Outcome.refused("invalid", f"order_id: no order {p.order_id!r}")
    if status not in ("awaiting_stock", "pickup_rejected"):
        return Outcome.refused("not_parked", f"the order is {status.replace('_', ' ')}, not waiting to be routed")
    if p.forget_rejections:
        conn.execute("DELETE FROM routing_exclusions WHERE order_id = :o", {"o": p.order_id})
    unroute(conn, p.order_id)
    route = route_order(conn, p.order_id, "released", p.at, op.op_id)
    return Outcome(message=f"{route.outcome}: {', '.join(loc for loc, _ in route.shipments) or 'no location fits'}")


def order_reassigned(conn: Tx, _ctx: Context, op: Op, p: OrderReassigned) -> Outcome:
    """Forced to one location: every filter is off, but it must hold every open line."""
    row = conn.execute("SELECT status, location, fulfilment FROM orders WHERE id = :o", {"o": p.order_id}).first()
    if row is None:
        return Outcome.refused("invalid", f"order_id: no order {p.order_id!r}")
    site = conn.execute("SELECT kind FROM locations WHERE code = :c", {"c": p.location}).scalar()
    if site is None:
        return Outcome.refused("invalid", f"location: unknown location {p.location!r}")
    picked = conn.execute("SELECT COALESCE(SUM(qty_picked), 0) FROM order_lines WHERE order_id = :o", {"o": p.order_id}).scalar_one()
    if row.status not in UNPICKED_STATUSES or picked:
        return Outcome.refused("already_picked", f"the order is {row.status.replace('_', ' ')}: units have been picked for it")
    if row.location == p.location:
        return Outcome.refused("same_location", f"the order is at {p.location} already")
    # Taken back first, so its own reservations count for it; a refusal rolls all of it back.
    unroute(conn, p.order_id)
    ask = replace(ask_for(conn, p.order_id), requested_location=p.location, excluded={})
    rule = Rule(name="reassigned", fulfilment=[row.fulfilment], kinds=[site], sorts=[])
    rest = [Rule(name=f"unused-{f}", fulfilment=[f], kinds=["store"]) for f in FULFILMENTS if f != row.fulfilment]
    route = decide(ask, load_network(conn, [n.sku for n in ask.lines], p.at), RoutingPolicy(rules=[rule, *rest]), p.at)
    if route.outcome != "routed":
        return Outcome.refused("not_available", "; ".join(route.explain()) or f"{p.location} cannot take it")
    version, _ = current_policy(conn)
    record_decision(conn, p.order_id, version, "reassigned", p.at, route, op.op_id)
    carry_out(conn, p.order_id, ask, route, p.at)
    return Outcome(message=f"reassigned to {p.location}")


def rebrokered(conn: Tx, _ctx: Context, op: Op, p: OrdersRebrokered) -> Outcome:
    synced = {k: v.isoformat() for k, v in p.synced.items()} if p.synced is not None else None
    routed = rebroker_waiting(conn, None, p.at, op.op_id, "rebroker", p.limit, synced)
    policy = current_policy(conn)
    if policy[1].cancel_parked_after_h is None:
        return Outcome(message=f"{len(routed)} parked orders routed")
    cancelled = cancel_overdue(conn, policy, p.at, op.op_id, "rebroker")
    return Outcome(message=f"{len(routed)} parked orders routed, {len(cancelled)} cancelled past their promise")


# -- a store says no -------------------------------------------------------------------------
def order_rejected(conn: Tx, ctx: Context, op: Op, p: OrderRejected) -> Outcome:
    """A request: refused once units are picked. A pickup order is not sent elsewhere
    (the customer chose this store): it waits as pickup_rejected for an administrator."""
    row = conn.execute("SELECT status, fulfilment FROM orders WHERE id = :o", {"o": p.order_id}).one()
    lines = conn.execute("SELECT line_no, sku, qty, qty_picked, qty_short FROM order_lines WHERE order_id = :o ORDER BY line_no",
                         {"o": p.order_id}).all()
    if p.line_no is not None and p.line_no not in {r.line_no for r in lines}:
        return Outcome.refused("unknown_order_line", f"order line {p.order_id}#{p.line_no} does not exist")
    concerned = [r for r in lines if p.line_no in (None, r.line_no)]
    if row.status not in UNPICKED_STATUSES or any(r.qty_picked for r in concerned):
        return Outcome.refused("already_picked", "units of it have been picked: put them back or short the line instead")
    if p.line_no is not None:  # a line the channel grouped goes with its group, when none of it is picked
        group = _group_of(conn, p.order_id, p.line_no, lines)
        concerned = group if not any(r.qty_picked for r in group) else concerned
    at, here = op_time(op.hlc), ctx.here
    if at is None:
        return Outcome.refused("malformed_clock", f"hlc: {op.hlc[:40]!r} is not a hybrid logical clock time")
    reason = f"rejected by {here}: {p.reason}"
    whole = p.line_no is None or len(concerned) == len(lines)
    target = p.order_id
    if whole:
        unroute(conn, p.order_id)
    else:
        target = spawn_child(conn, p.order_id, "rejected")
        for line in concerned:
            conn.execute("DELETE FROM reservations WHERE order_id = :o AND line_no = :n", {"o": p.order_id, "n": line.line_no})
            conn.execute("DELETE FROM order_lines WHERE order_id = :o AND line_no = :n", {"o": p.order_id, "n": line.line_no})
            add_remainder_line(conn, target, line.line_no, line.sku, line.qty - line.qty_short)
        emit_order(conn, p.order_id)
    exclude(conn, target, here, reason)
    if row.fulfilment == "pickup":
        conn.execute("UPDATE orders SET status = 'pickup_rejected' WHERE id = :o", {"o": target})
        version, _ = current_policy(conn)
        record_decision(conn, target, version, "rejected", at, Route("pickup_rejected", None, [], [
            {"location": here, "rule": None, "chosen": False, "reasons": [reason], "distance_km": None}]), op.op_id)
        emit_order(conn, target)
        return Outcome(message="a pickup order waits for an administrator: released elsewhere or cancelled")
    route = route_order(conn, target, "rejected", at, op.op_id)
    return Outcome(message=f"rerouted: {route.outcome} {', '.join(loc for loc, _ in route.shipments)}".rstrip())


def _group_of(conn: Tx, order_id: str, line_no: int, lines: list[Any]) -> list[Any]:
    """The order's lines in `line_no`'s ship-together group (the channel's label), or that line alone."""
    text = conn.execute("SELECT ship_groups FROM order_details WHERE order_id = :o", {"o": order_id}).scalar()
    groups = {int(n): g for n, g in json.loads(text).items()} if text else {}
    label = groups.get(line_no)
    return [r for r in lines if r.line_no == line_no or (label is not None and groups.get(r.line_no) == label)]


# -- re-brokering after an op -----------------------------------------------------------------
def _skus_of(payload: Any) -> list[str]:
    if hasattr(payload, "lines"):
        return [line.sku for line in payload.lines]
    return [payload.sku] if hasattr(payload, "sku") else []


def rebrokering(apply: Apply) -> Apply:
    """`apply`, then route again the parked orders waiting for the SKUs it brought in."""

    def wrapped(conn: Tx, ctx: Context, op: Op, p: Any) -> Outcome:
        outcome = apply(conn, ctx, op, p)
        at = op_time(op.hlc)  # a device's broken clock: the scheduled pass routes them instead
        if outcome.refusal is None and at is not None and (skus := _skus_of(p)):
            if conn.execute("SELECT 1 FROM routing_waits WHERE sku IN :s LIMIT 1", {"s": sorted(set(skus))}).first():
                rebroker_waiting(conn, skus, at, op.op_id, f"stock:{op.kind}")
        return outcome

    return wrapped


def remainder_after_short(apply: Apply) -> Apply:
    """`apply` (a short pick), then a linked order for the units short, routed by the
    same policy with the same promise; the location that shorted is left out of it
    (`order.released` with forget_rejections lets it back, once its stock is counted)."""

    def wrapped(conn: Tx, ctx: Context, op: Op, p: Any) -> Outcome:
        key = {"o": p.order_id, "n": p.line_no}
        before = conn.execute("SELECT qty_short FROM order_lines WHERE order_id = :o AND line_no = :n", key).scalar()
        outcome = apply(conn, ctx, op, p)
        after = conn.execute("SELECT qty_short FROM order_lines WHERE order_id = :o AND line_no = :n", key).scalar()
        if outcome.refusal is None and before is not None and after is not None and after > before:
            child = spawn_child(conn, p.order_id, "remainder")
            add_remainder_line(conn, child, p.line_no, p.sku, after - before)
            # Not back where it was short (the books may be wrong there): a pickup's remainder,
            # whose store is the customer's choice, waits for an administrator to release it.
            exclude(conn, child, ctx.here, f"shorted {p.sku} here")
            at = op_time(op.hlc) or parse_time(conn.execute("SELECT created_at FROM orders WHERE id = :o",
                                                            {"o": p.order_id}).scalar_one())
            route_order(conn, child, "short", at, op.op_id)
        return outcome

    return wrapped


def forgetting_sites(apply: Apply) -> Apply:
    """`apply` (a location added), and routing reads the locations again."""

    def wrapped(conn: Tx, ctx: Context, op: Op, p: Any) -> Outcome:
        outcome = apply(conn, ctx, op, p)
        if outcome.refusal is None:
            network_changed(conn, op.op_id)
        return outcome

    return wrapped
