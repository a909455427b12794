"""Routing against the hub's tables: read the network an order could go to, decide
with the policy in force (hub.domain.routing_rules, pure), store the decision with
its explanation, and carry it out: reserve at the chosen location, split lines off
into linked orders, or park the order until stock arrives.

Everything here runs inside a logged op's handler, at a time the op carries, so a
replay of the log reaches the same decisions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from collections.abc import Callable
from typing import Any

from hub.domain.routing_policy import DEFAULT_POLICY, RoutingPolicy
from hub.domain.routing_rules import Ask, Need, Network, Route, Site, decide
from hub.domain.stock import on_hand_by_bin, promising, release_order
from hub.feed import emit, emit_order
from hub.store.tx import Tx
from sync.carriers import choose, destination
from sync.hlc import Timestamp
from sync.models import OrderIn

__all__ = ["current_policy", "route_order", "record_decision", "save_details", "spawn_child", "unroute", "exclude", "carry_out", "add_remainder_line",
           "rebroker_waiting", "cancel_overdue", "decisions_for", "network_sites", "order_routing", "op_time", "parse_time", "load_network", "ask_for",
           "asks_for",
           "UNPICKED_STATUSES", "REBROKER_BATCH", "network_changed"]

# An order in these states holds no picked units: it may still be routed elsewhere.
UNPICKED_STATUSES = ("released", "picking", "awaiting_stock", "pickup_rejected")
# Parked orders one stock arrival routes again at most (the scheduled pass takes the rest).
REBROKER_BATCH = 200


# -- time ------------------------------------------------------------------------------
def op_time(hlc: str) -> datetime | None:
    """The wall time an op's hybrid logical clock carries (logged: a replay reads the same);
    None for a clock a device got wrong (not an HLC, or out of any calendar's range)."""
    try:
        return datetime.fromtimestamp(Timestamp.decode(hlc).wall_ms / 1000, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def parse_time(value: str | datetime) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


# -- the policy in force -----------------------------------------------------------------
def current_policy(conn: Tx) -> tuple[int, RoutingPolicy]:
    """(version, policy): the latest `routing.policy_set`, or version 0, the default."""
    row = conn.execute("SELECT version, policy FROM routing_policies ORDER BY version DESC LIMIT 1").first()
    if row is None:
        return 0, DEFAULT_POLICY
    return row.version, _parsed(row.policy)


@lru_cache(maxsize=4096)
def _hours(text: str) -> dict[str, Any]:
    return json.loads(text)  # shared between decisions: routing only reads it


@lru_cache(maxsize=16)
def _parsed(text: str) -> RoutingPolicy:
    return RoutingPolicy.model_validate_json(text)


# -- what routing reads ------------------------------------------------------------------
def load_network(conn: Tx, skus: list[str], at: datetime, synced: dict[str, Any] | None = None) -> Network:
    """Every location with its profile and today's load, and what each may still
    promise of `skus` (on hand − safety − reserved − allotted): one query for the loads,
    one for what is free."""
    free = _free_of(skus, _availability(conn, skus))
    return Network(_sites(conn), free, _loads(conn, at), _synced_times(synced), synced_known=synced is not None)


# Each table's rows for the SKUs, signed, in one statement (a round trip each cost PostgreSQL
# a millisecond under load); a location with a row in any of them is one that holds the SKU.
_AVAILABLE = (
    "SELECT location, sku, SUM(on_hand) AS n FROM stock WHERE sku IN :s GROUP BY location, sku "
    "UNION ALL SELECT location, sku, -SUM(qty) FROM reservations WHERE sku IN :s GROUP BY location, sku "
    "UNION ALL SELECT location, sku, -SUM(granted - used - released) FROM allotments WHERE sku IN :s GROUP BY location, sku "
    "UNION ALL SELECT location, sku, -safety_stock FROM stock_policy WHERE sku IN :s")


def _availability(conn: Tx, skus: list[str]) -> dict[str, dict[str, int]]:
    """SKU → {location: what it may still promise}, for every SKU asked (empty: none anywhere)."""
    out: dict[str, dict[str, int]] = {sku: {} for sku in sorted(set(skus))}
    for location, sku, n in conn.execute(_AVAILABLE, {"s": list(out)}).tuples():
        by_location = out[sku]
        by_location[location] = by_location.get(location, 0) + int(n or 0)
    return out


def _free_of(skus: list[str], available: dict[str, dict[str, int]]) -> dict[tuple[str, str], int]:
    return {(location, sku): n for sku in sorted(set(skus)) for location, n in available[sku].items()}


def _loads(conn: Tx, at: datetime) -> dict[str, int]:
    rows = conn.execute("SELECT location, orders FROM route_loads WHERE day = :d", {"d": at.date().isoformat()}).tuples()
    return {location: orders for location, orders in rows}


def _synced_times(synced: dict[str, Any] | None) -> dict[str, datetime]:
    return {code: parse_time(t) for code, t in synced.items()} if synced else {}


def network_sites(conn: Tx) -> dict[str, Site]:
    """Every location as routing sees it (its profile, else its set-up), in code order."""
    return _sites(conn)


def _sites(conn: Tx) -> dict[str, Site]:
    """Locations with their profiles, in code order. Kept per process under the id of the
    op that last added or profiled a location (`network_changed`), which every
    transaction reads: a stale copy is never used, on any number of hub processes."""
    sites = conn.staged.get("routing_sites")
    if sites is not None:
        return sites
    key = conn.execute("SELECT op_id FROM routing_network WHERE id = 1").scalar()
    sites = _KNOWN_SITES.get(key) if key is not None else None
    if sites is None:
        # A routing profile (location.profile_set) wins; else the location's set-up (location.added/updated).
        rows = conn.execute(
            "SELECT l.code, l.kind, p.code AS profiled, p.lat, p.lon, p.tz_offset_min, p.hours, p.daily_capacity, p.rank, "
            "l.lat AS l_lat, l.lon AS l_lon, l.time_zone, l.opening_hours, l.daily_capacity AS l_capacity "
            "FROM locations l LEFT JOIN location_profiles p ON p.code = l.code").tuples()
        sites = {r[0]: _site(*r) for r in sorted(rows, key=lambda r: r[0])}  # Python's order on every backend
        if key is not None:
            if len(_KNOWN_SITES) > 64:
                _KNOWN_SITES.clear()
            _KNOWN_SITES[key] = sites
    conn.staged["routing_sites"] = sites
    return sites


_KNOWN_SITES: dict[str, dict[str, Site]] = {}


def _site(code: str, kind: str, profiled: str | None, lat: float | None, lon: float | None, tz: int | None,
          hours: str | None, capacity: int | None, rank: int | None, l_lat: float | None, l_lon: float | None,
          time_zone: str | None, opening_hours: str | None, l_capacity: int | None) -> Site:
    if profiled is not None:
        return Site(code, kind, lat, lon, tz or 0, _hours(hours) if hours else None, capacity, rank or 0)
    return Site(code, kind, l_lat, l_lon, 0, _hours(opening_hours) if opening_hours else None, l_capacity, 0, time_zone)


def network_changed(conn: Tx, op_id: str) -> None:
    """A location was added or profiled by op `op_id`: routing reads the locations again."""
    conn.staged.pop("routing_sites", None)
    conn.execute("INSERT INTO routing_network (id, op_id) VALUES (1, :o) ON CONFLICT (id) DO UPDATE SET op_id = excluded.op_id",
                 {"o": op_id})


def ask_for(conn: Tx, order_id: str) -> Ask:
    """The order as routing sees it: its open lines, where it ships to, where it may not go.
    Raises LookupError for an order that does not exist."""
    asks = asks_for(conn, [order_id])
    if order_id not in asks:
        raise LookupError(f"expected one row, got 0 (order {order_id!r})")
    return asks[order_id]


def asks_for(conn: Tx, order_ids: list[str]) -> dict[str, Ask]:
    """`ask_for` of every order that exists among `order_ids`, in three statements."""
    ids = {"o": sorted(set(order_ids))}
    orders = conn.execute("SELECT o.id, o.fulfilment, o.channel, d.order_id AS detailed, d.requested_location, d.ship_to, "
                          "d.ship_groups "
                          "FROM orders o LEFT JOIN order_details d ON d.order_id = o.id WHERE o.id IN :o", ids).all()
    lines: dict[str, list[Need]] = {r.id: [] for r in orders}
    groups = {r.id: json.loads(r.ship_groups) for r in orders if r.detailed is not None and r.ship_groups}
    for order_id, line_no, sku, open_qty in conn.execute(
            "SELECT order_id, line_no, sku, qty - qty_picked - qty_short AS open FROM order_lines "
            "WHERE order_id IN :o ORDER BY order_id, line_no", ids).tuples():
        if open_qty > 0 and order_id in lines:
            lines[order_id].append(Need(line_no, sku, open_qty, groups.get(order_id, {}).get(str(line_no))))
    excluded: dict[str, dict[str, str]] = {r.id: {} for r in orders}
    for order_id, location, reason in conn.execute(
            "SELECT order_id, location, reason FROM routing_exclusions WHERE order_id IN :o", ids).tuples():
        if order_id in excluded:
            excluded[order_id][location] = reason
    asks = {}
    for r in orders:
        ship_to = json.loads(r.ship_to) if r.detailed is not None and r.ship_to else {}
        asks[r.id] = Ask(r.fulfilment, r.channel, tuple(lines[r.id]), ship_to.get("lat"), ship_to.get("lon"),
                         r.requested_location if r.detailed is not None else None, excluded[r.id])
    return asks


# -- deciding and carrying it out ---------------------------------------------------------
def route_order(conn: Tx, order_id: str, trigger: str, at: datetime, op_id: str | None,
                synced: dict[str, Any] | None = None, record_parked: bool = True,
                policy: tuple[int, RoutingPolicy] | None = None) -> Route:
    """Route a parked order (no location, nothing reserved) by the policy in force and
    carry the decision out. The decision is stored unless it parks the order again and
    `record_parked` is off (a rebroker pass that changed nothing)."""
    policy = policy or current_policy(conn)
    ask = ask_for(conn, order_id)
    net = load_network(conn, [n.sku for n in ask.lines], at, synced)
    return _route(conn, order_id, ask, net, policy, trigger, at, op_id, record_parked)


def _route(conn: Tx, order_id: str, ask: Ask, net: Network, policy: tuple[int, RoutingPolicy], trigger: str,
           at: datetime, op_id: str | None, record_parked: bool) -> Route:
    version, rules = policy
    if ask.fulfilment == "ship" and any("shipping_cost" in r.sorts for r in rules.rules):
        net.shipping = shipping_quote(conn, order_id, ask, at)
    route = decide(ask, net, rules, at)
    if route.outcome != "parked" or record_parked:
        record_decision(conn, order_id, version, trigger, at, route, op_id)
    carry_out(conn, order_id, ask, route, at)
    return route


def shipping_quote(conn: Tx, order_id: str, ask: Ask, at: datetime) -> Callable[[str], int | None] | None:
    """What the order's open units would cost to ship from a location, in cents, by the
    carriers' rate table in force (the service the packer's device would choose:
    sync.carriers.choose); None without a table or a ship-to address."""
    from hub.domain.carriers import order_rates  # carriers reads this module's clock helpers

    rates = order_rates(conn, order_id)
    if rates is None:
        return None
    table, origins, ship_to, promised = rates.table, rates.origins, rates.ship_to, parse_time(rates.promised_by).date()
    weights = dict(conn.execute("SELECT sku, COALESCE(unit_weight_g, 0) FROM items WHERE sku IN :s",
                                {"s": sorted({n.sku for n in ask.lines})}).tuples())
    weight = max(sum(int(weights.get(n.sku, 0)) * n.qty for n in ask.lines), 1)
    known: dict[str, int | None] = {}

    def quote(location: str) -> int | None:
        if location not in known:
            choice = choose(table, weight, destination(ship_to, origins.get(location)), at.date(), promised)
            known[location] = choice.chosen.price_cents if choice.chosen else None
        return known[location]

    return quote


def record_decision(conn: Tx, order_id: str, version: int, trigger: str, at: datetime, route: Route,
                    op_id: str | None) -> None:
    conn.execute(
        "INSERT INTO routing_decisions (order_id, policy_version, trigger, at, outcome, rule, shipments, candidates, op_id, "
        "why_here) VALUES (:o, :v, :t, :at, :out, :r, :s, :c, :op, :why)",
        {"o": order_id, "v": version, "t": trigger, "at": at.isoformat(), "out": route.outcome, "r": route.rule,
         "s": json.dumps([{"location": loc, "lines": lines} for loc, lines in route.shipments]),
         "c": json.dumps(route.candidates, sort_keys=True), "op": op_id,
         "why": (route.why_here(trigger) or None) if route.shipments else None},
    )


def carry_out(conn: Tx, order_id: str, ask: Ask, route: Route, at: datetime) -> None:
    """Park, cancel, or reserve at the chosen location(s), splitting lines off into linked orders."""
    if route.outcome == "parked":
        _park(conn, order_id, [n.sku for n in ask.lines])
    elif route.outcome == "cancelled":
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE id = :o", {"o": order_id})
        conn.execute("DELETE FROM routing_waits WHERE order_id = :o", {"o": order_id})
    else:
        if route.outcome == "partial":  # what no location holds now waits as a linked backorder
            shipped = {n for _loc, lines in route.shipments for n in lines}
            rest = [n for n in ask.lines if n.line_no not in shipped]
            backorder = spawn_child(conn, order_id, "backorder")
            _move_lines(conn, order_id, backorder, [n.line_no for n in rest])
            _park(conn, backorder, [n.sku for n in rest])
            emit_order(conn, backorder)
        (home, _lines), *others = route.shipments
        for location, lines in others:
            child = spawn_child(conn, order_id, "split")
            _move_lines(conn, order_id, child, lines)
            _assign(conn, child, location, at)
        _assign(conn, order_id, home, at)
    emit_order(conn, order_id)


def _park(conn: Tx, order_id: str, skus: list[str]) -> None:
    conn.execute("UPDATE orders SET status = 'awaiting_stock', location = NULL WHERE id = :o", {"o": order_id})
    conn.executemany("INSERT INTO routing_waits (order_id, sku) VALUES (:o, :s) ON CONFLICT (order_id, sku) DO NOTHING",
                     [{"o": order_id, "s": sku} for sku in sorted(set(skus))])


def _assign(conn: Tx, order_id: str, location: str, at: datetime) -> None:
    """Reserve the order's open lines at `location` and send it there."""
    lines = conn.execute("SELECT line_no, sku, qty - qty_picked - qty_short AS open FROM order_lines "
                         "WHERE order_id = :o ORDER BY line_no", {"o": order_id}).all()
    with promising(conn, location, [r.sku for r in lines]):
        conn.execute("UPDATE orders SET location = :l, status = 'released' WHERE id = :o", {"l": location, "o": order_id})
        for r in lines:
            conn.execute("UPDATE order_lines SET pick_bin = :b WHERE order_id = :o AND line_no = :n",
                         {"b": _pick_bin(conn, location, r.sku, r.open), "o": order_id, "n": r.line_no})
            conn.execute(
                "INSERT INTO reservations (order_id, line_no, location, sku, qty) VALUES (:o, :n, :l, :s, :q) "
                "ON CONFLICT (order_id, line_no) DO UPDATE SET location = excluded.location, qty = excluded.qty",
                {"o": order_id, "n": r.line_no, "l": location, "s": r.sku, "q": max(r.open, 0)},
            )
    conn.execute("DELETE FROM routing_waits WHERE order_id = :o", {"o": order_id})
    conn.execute(
        "INSERT INTO route_loads (location, day, orders) VALUES (:l, :d, 1) "
        "ON CONFLICT (location, day) DO UPDATE SET orders = route_loads.orders + 1",
        {"l": location, "d": at.date().isoformat()},
    )
    emit_order(conn, order_id)


def _pick_bin(conn: Tx, location: str, sku: str, qty: int) -> str | None:
    """First bin on the pick path that holds the whole quantity, else the fullest."""
    bins = on_hand_by_bin(conn, location, sku)
    for code, _seq, on_hand in bins:
        if on_hand >= qty:
            return code
    return max(bins, key=lambda b: b[2])[0] if bins else None


def unroute(conn: Tx, order_id: str) -> str | None:
    """Take a routed order back from its location (nothing picked): its reservations go,
    and the location's devices are told it is gone. Returns the old location."""
    old = conn.execute("SELECT location FROM orders WHERE id = :o", {"o": order_id}).scalar()
    release_order(conn, order_id)
    conn.execute("UPDATE order_lines SET pick_bin = NULL WHERE order_id = :o", {"o": order_id})
    conn.execute("UPDATE orders SET location = NULL, status = 'awaiting_stock', claimed_by = NULL, claimed_actor = NULL, "
                 "claimed_hlc = NULL WHERE id = :o", {"o": order_id})
    if old:
        emit(conn, old, "order", order_id, None)
    return old


def exclude(conn: Tx, order_id: str, location: str, reason: str) -> None:
    conn.execute("INSERT INTO routing_exclusions (order_id, location, reason) VALUES (:o, :l, :r) "
                 "ON CONFLICT (order_id, location) DO UPDATE SET reason = excluded.reason",
                 {"o": order_id, "l": location, "r": reason[:200]})


# -- what a channel said, and orders linked to one another ---------------------------------
def save_details(conn: Tx, order_id: str, order: OrderIn) -> None:
    conn.execute(
        "INSERT INTO order_details (order_id, requested_location, ship_to, contact, priority, substitutes, ship_groups) "
        "VALUES (:o, :l, :s, :c, :p, :sub, :g)",
        {"o": order_id, "l": order.location,
         "s": order.ship_to.model_dump_json() if order.ship_to else None,
         "c": order.contact.model_dump_json(exclude_none=True) if order.contact else None,
         "p": order.priority,
         "sub": json.dumps([i for i, line in enumerate(order.lines, start=1) if line.substitutes_allowed]),
         "g": json.dumps({str(i): line.ship_with for i, line in enumerate(order.lines, start=1) if line.ship_with})
         if any(line.ship_with for line in order.lines) else None},
    )


def spawn_child(conn: Tx, parent_id: str, reason: str) -> str:
    """A parked order linked to `parent_id` (its root, if the parent is a child itself),
    for lines split off, a short's remainder or a rejected line. Lines are added by the caller."""
    root = conn.execute("SELECT COALESCE(parent_id, order_id) FROM order_details WHERE order_id = :o",
                        {"o": parent_id}).scalar() or parent_id
    k = conn.execute("SELECT COUNT(*) FROM order_details WHERE parent_id = :r", {"r": root}).scalar_one() + 2
    child = f"{root[:58]}.{k}"
    conn.execute(
        "INSERT INTO orders (id, number, channel, fulfilment, promised_by, customer_name, location, status, created_at, "
        "pickup_code, pickup_by) SELECT :c, SUBSTR(number, 1, 58) || '-' || :k, channel, fulfilment, promised_by, "
        "customer_name, NULL, 'awaiting_stock', created_at, pickup_code, pickup_by FROM orders WHERE id = :p",
        {"c": child, "k": str(k), "p": parent_id},
    )
    copied = conn.execute(
        "INSERT INTO order_details (order_id, requested_location, ship_to, contact, priority, substitutes, ship_groups, "
        "parent_id, link_reason) SELECT :c, requested_location, ship_to, contact, priority, substitutes, ship_groups, :r, :why "
        "FROM order_details WHERE order_id = :p",
        {"c": child, "r": root, "why": reason, "p": parent_id},
    ).rowcount
    if not copied:
        # An order taken at a terminal has no channel details; its link is recorded all the same,
        # or the next child counts the same k and takes this one's number (found by the simulator).
        conn.execute("INSERT INTO order_details (order_id, priority, substitutes, parent_id, link_reason) "
                     "VALUES (:c, 0, '[]', :r, :why)", {"c": child, "r": root, "why": reason})
    conn.execute("INSERT INTO routing_exclusions (order_id, location, reason) "
                 "SELECT :c, location, reason FROM routing_exclusions WHERE order_id = :p", {"c": child, "p": parent_id})
    return child


def _move_lines(conn: Tx, from_id: str, to_id: str, line_nos: list[int]) -> None:
    for n in line_nos:
        conn.execute(
            "INSERT INTO order_lines (order_id, line_no, sku, qty, pick_bin, qty_picked, qty_short) "
            "SELECT :t, line_no, sku, qty - qty_picked - qty_short, NULL, 0, 0 FROM order_lines WHERE order_id = :f AND line_no = :n",
            {"t": to_id, "f": from_id, "n": n},
        )
        conn.execute("DELETE FROM reservations WHERE order_id = :f AND line_no = :n", {"f": from_id, "n": n})
        conn.execute("DELETE FROM order_lines WHERE order_id = :f AND line_no = :n", {"f": from_id, "n": n})


def add_remainder_line(conn: Tx, child: str, line_no: int, sku: str, qty: int) -> None:
    conn.execute("INSERT INTO order_lines (order_id, line_no, sku, qty, pick_bin, qty_picked, qty_short) "
                 "VALUES (:o, :n, :s, :q, NULL, 0, 0)", {"o": child, "n": line_no, "s": sku, "q": qty})


# -- re-brokering ---------------------------------------------------------------------------
def rebroker_waiting(conn: Tx, skus: list[str] | None, at: datetime, op_id: str | None, trigger: str,
                     limit: int = REBROKER_BATCH, synced: dict[str, Any] | None = None) -> list[str]:
    """Route parked orders again, highest priority and oldest first: those waiting for
    one of `skus` (None: every parked order). Returns the ids of those now routed."""
    sql = ("SELECT o.id FROM orders o LEFT JOIN order_details d ON d.order_id = o.id "
           "WHERE o.status = 'awaiting_stock' AND o.location IS NULL")
    params: dict[str, Any] = {"n": limit}
    if skus is not None:
        sql += " AND o.id IN (SELECT order_id FROM routing_waits WHERE sku IN :s)"
        params["s"] = sorted(set(skus))
    else:  # a whole pass skips orders waiting for a SKU no location has any of: they would park again
        sql += (" AND NOT EXISTS (SELECT 1 FROM routing_waits w WHERE w.order_id = o.id AND NOT EXISTS "
                "(SELECT 1 FROM stock s WHERE s.sku = w.sku AND s.on_hand > 0))")
    rows = conn.execute(sql + " ORDER BY COALESCE(d.priority, 0) DESC, o.created_at, o.id LIMIT :n", params).all()
    policy = current_policy(conn)
    reads = _PassReads(conn, [r.id for r in rows], at, synced)
    routed = []
    for r in rows:
        ask = reads.asks[r.id]
        route = _route(conn, r.id, ask, reads.network(conn, ask), policy, trigger, at, op_id, record_parked=False)
        reads.carried_out(r.id, route)
        if route.outcome != "parked":
            routed.append(r.id)
    return routed


class _PassReads:
    """What a rebroker pass reads once for all its orders, instead of once an order: the
    orders themselves (one order's routing never changes another's lines, ship-to or
    exclusions), what each location may promise of their SKUs, and today's loads. It is
    kept true as orders are carried out: the SKUs of a routed order's lines (all of them:
    `_assign` reserves 0 of a closed line, a row all the same) are read again when a later
    order needs them, and each shipment adds one to its location's load, as `_assign`
    does in the table. Each order is decided on the same network `load_network` would
    read at that point, so the decisions are the same."""

    def __init__(self, conn: Tx, order_ids: list[str], at: datetime, synced: dict[str, Any] | None):
        self.asks = asks_for(conn, order_ids)
        self.skus_of: dict[str, set[str]] = {order_id: set() for order_id in self.asks}
        for order_id, sku in conn.execute("SELECT order_id, sku FROM order_lines WHERE order_id IN :o",
                                          {"o": sorted(self.asks)}).tuples():
            self.skus_of[order_id].add(sku)
        self.available = _availability(conn, [n.sku for ask in self.asks.values() for n in ask.lines])
        self.loads = _loads(conn, at)
        self.synced, self.when = synced, _synced_times(synced)
        self.stale: set[str] = set()

    def network(self, conn: Tx, ask: Ask) -> Network:
        skus = [n.sku for n in ask.lines]
        if unread := {sku for sku in skus if sku in self.stale or sku not in self.available}:
            self.available.update(_availability(conn, sorted(unread)))
            self.stale -= unread
        return Network(_sites(conn), _free_of(skus, self.available), self.loads, self.when,
                       synced_known=self.synced is not None)

    def carried_out(self, order_id: str, route: Route) -> None:
        if route.shipments:
            self.stale |= self.skus_of[order_id]
            for location, _lines in route.shipments:
                self.loads[location] = self.loads.get(location, 0) + 1


def cancel_overdue(conn: Tx, policy: tuple[int, RoutingPolicy], at: datetime, op_id: str | None, trigger: str) -> list[str]:
    """Cancel parked orders still unrouted `cancel_parked_after_h` hours past their
    promise (a whole rebroker pass does this; `at` is the pass's logged time)."""
    version, rules = policy
    hours = rules.cancel_parked_after_h or 0
    overdue = [r.id for r in conn.execute("SELECT id, promised_by FROM orders WHERE status = 'awaiting_stock' "
                                          "AND location IS NULL ORDER BY id").all()
               if parse_time(r.promised_by) + timedelta(hours=hours) <= at]
    for order_id in overdue:
        why = f"still waiting for stock {hours} h after its promise (cancel_parked_after_h)"
        record_decision(conn, order_id, version, trigger, at, Route("cancelled", None, [], [
            {"location": "(none)", "rule": None, "chosen": False, "reasons": [why], "distance_km": None}]), op_id)
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE id = :o", {"o": order_id})
        conn.execute("DELETE FROM routing_waits WHERE order_id = :o", {"o": order_id})
        emit_order(conn, order_id)
    return overdue


# -- reads for the API and the console --------------------------------------------------------
def decisions_for(conn: Tx, order_id: str) -> list[dict[str, Any]]:
    """The order's routing decisions, oldest first, as plain dicts: when, why (trigger),
    the policy version and rule, the outcome, the shipments and every candidate with
    the reasons it lost; `explanation` is one sentence per candidate."""
    rows = conn.execute("SELECT * FROM routing_decisions WHERE order_id = :o ORDER BY id", {"o": order_id}).mappings()
    out = []
    for r in rows:
        route = Route(r["outcome"], r["rule"], [], json.loads(r["candidates"]))
        out.append({"at": r["at"], "trigger": r["trigger"], "policy_version": r["policy_version"], "rule": r["rule"],
                    "outcome": r["outcome"], "shipments": json.loads(r["shipments"]), "candidates": route.candidates,
                    "explanation": route.explain(), "op_id": r["op_id"]})
    return out


def order_routing(conn: Tx, order_id: str) -> dict[str, Any]:
    """What the order's page shows beyond its lines: ship-to, contact, priority, the
    orders linked to it and its routing decisions."""
    d = conn.execute("SELECT * FROM order_details WHERE order_id = :o", {"o": order_id}).mappings().first()
    root = (d["parent_id"] or order_id) if d else order_id
    linked = [{"order_id": r.order_id, "reason": r.link_reason, "location": r.location, "status": r.status}
              for r in conn.execute(
                  "SELECT d.order_id, d.link_reason, o.location, o.status FROM order_details d JOIN orders o ON o.id = d.order_id "
                  "WHERE d.parent_id = :r ORDER BY d.order_id", {"r": root})]
    return {
        "ship_to": json.loads(d["ship_to"]) if d and d["ship_to"] else None,
        "contact": json.loads(d["contact"]) if d and d["contact"] else None,
        "priority": d["priority"] if d else 0,
        "substitutes_allowed": json.loads(d["substitutes"]) if d else [],
        "ship_groups": {int(n): g for n, g in json.loads(d["ship_groups"]).items()} if d and d["ship_groups"] else {},
        "requested_location": d["requested_location"] if d else None,
        "parent_id": d["parent_id"] if d else None,
        "link_reason": d["link_reason"] if d else None,
        "linked_orders": [x for x in linked if x["order_id"] != order_id],
        "decisions": decisions_for(conn, order_id),
    }
