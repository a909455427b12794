"""Routing as a pure function: (order, network, policy, time) → a route with the
candidates it considered and why each lost. No I/O and no clock: the caller passes
the time the routing happens at (the order's acceptance, the op's HLC time)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.domain.routing_policy import Rule, RoutingPolicy

__all__ = ["Site", "Need", "Ask", "Network", "Route", "decide", "distance_km", "DAYS", "DETAIL_LIMIT"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Up to this many locations of a rule's kinds, every one is explained; beyond it, those
# holding none of the order's SKUs are counted in one line (they cannot take any of it).
DETAIL_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Site:
    """A location as routing sees it (what changes by the hour, its load and its devices'
    last sync, is in the Network)."""

    code: str
    kind: str
    lat: float | None = None
    lon: float | None = None
    tz_offset_min: int = 0
    hours: dict[str, Any] | None = None  # {"mon": "08:00-20:00" or a list of spans}; None: always open; a day left out: closed
    daily_capacity: int | None = None
    rank: int = 0
    time_zone: str | None = None  # an IANA zone (the location's set-up); wins over tz_offset_min


@dataclass(frozen=True)
class Need:
    line_no: int
    sku: str
    qty: int
    group: str | None = None  # the channel's label for lines that ship together (a set, a gift)


@dataclass(frozen=True)
class Ask:
    """An order to route."""

    fulfilment: str
    channel: str
    lines: tuple[Need, ...]
    lat: float | None = None
    lon: float | None = None
    requested_location: str | None = None
    excluded: dict[str, str] = field(default_factory=dict)  # location → why it may not take the order


@dataclass
class Network:
    """The locations (by code, in code order), what each may still promise of the order's
    SKUs, orders routed to each today, and when each one's devices last synced
    (`synced_known` False: the caller knows nothing of syncs, and that filter passes)."""

    sites: dict[str, Site]
    free: dict[tuple[str, str], int]
    loads: dict[str, int] = field(default_factory=dict)
    synced: dict[str, datetime] = field(default_factory=dict)
    synced_known: bool = False
    # The carrier price in cents of this order from a location (None: no rate for it, or the
    # order has no address); set by the caller when a rule sorts by shipping_cost.
    shipping: Callable[[str], int | None] | None = None


@dataclass
class Route:
    outcome: str  # routed | split | parked | cancelled
    rule: str | None
    shipments: list[tuple[str, list[int]]]  # (location, line numbers), the first is the order's own
    candidates: list[dict[str, Any]]

    def explain(self) -> list[str]:
        """One sentence per candidate: chosen, or why it lost."""
        return [f"{c['location']}: " + ("; ".join(["chosen", *c["reasons"]]) if c["chosen"] else "; ".join(c["reasons"]))
                for c in self.candidates]

    def why_here(self, trigger: str, others: int = 3) -> str:
        """What the store's devices say about why the order came to them: how, by which
        rule, and why the first few other locations lost."""
        how = TRIGGER_WORDS.get(trigger.split(":", 1)[0], "")
        rule = f"rule {self.rule}" if self.rule else "the location the channel asked for"
        rule = rule if how else rule[0].upper() + rule[1:]
        # the runners-up first (they passed every filter and lost on the sort), then the rest
        lost = sorted((c for c in self.candidates if not c["chosen"] and not c["location"].startswith("(")),
                      key=lambda c: not (c["reasons"] and c["reasons"][0].startswith("ranked")))
        if not lost:
            return ""  # the only place considered (a pickup at the store the customer chose): nothing to say
        said = "; ".join(f"{c['location']}: {', '.join(c['reasons'])}" for c in lost[:others])
        more = f" (+{len(lost) - others} more)" if len(lost) > others else ""
        return f"{how}{rule}. Not {said}{more}."[:400]


TRIGGER_WORDS = {  # how a decision came about, as the floor reads it
    "stock": "Re-routed when stock arrived, by ",
    "rebroker": "Re-routed by ",
    "released": "Released by an administrator, by ",
    "reassigned": "Moved here by an administrator: ",
    "rejected": "Another location rejected it; ",
    "short": "The rest of a short pick elsewhere, by ",
}


def decide(ask: Ask, net: Network, policy: RoutingPolicy, at: datetime) -> Route:
    """The first rule for the order's fulfilment that finds a location (or a split)."""
    considered: list[dict[str, Any]] = []
    for rule in policy.rules:
        if ask.fulfilment not in rule.fulfilment:
            continue
        route = _try_rule(ask, net, rule, at)
        if route.shipments:
            return Route(route.outcome, rule.name, route.shipments, considered + route.candidates)
        considered += route.candidates
    when_none = policy.when_none.get(ask.fulfilment)  # type: ignore[call-overload]
    if when_none == "partial" and len(ask.lines) > 1:
        for rule in policy.rules:
            if ask.fulfilment in rule.fulfilment and (route := _try_partial(ask, net, rule, at)).shipments:
                return route
    return Route("cancelled" if when_none == "cancel" else "parked", None, [], considered)


def _try_rule(ask: Ask, net: Network, rule: Rule, at: datetime) -> Route:
    candidates, eligible, dist = _consider(ask, net, rule, at)
    every = [n.line_no for n in ask.lines]
    full = sorted((s for s, cov in eligible if len(cov) == len(every)), key=lambda s: _sort_key(ask, net, rule, s, dist))
    if full:
        return _priced(_chosen(candidates, "routed", [(full[0].code, every)], full, rule), net, rule)
    if rule.split.allow and len(every) > 1:
        shipments = _split(ask, net, rule, eligible, dist)
        if shipments:
            return _kept_together(ask, rule, _chosen(candidates, "split", shipments, [], rule))
        candidates += [{"location": "(split)", "rule": rule.name, "chosen": False, "reasons": [why],
                        "distance_km": None} for why in _groups_apart(ask, rule, eligible)]
    return Route("parked", rule.name, [], candidates)


def _try_partial(ask: Ask, net: Network, rule: Rule, at: datetime) -> Route:
    """What can go now when nothing takes the whole order (`when_none: partial`): the
    lines some location (or, with splits allowed, several) can fill; the rest wait."""
    candidates, eligible, dist = _consider(ask, net, rule, at)
    most = rule.split.max_shipments if rule.split.allow else 1
    shipments = _split(ask, net, rule, eligible, dist, most, leave_open=True)
    if not shipments:
        return Route("parked", rule.name, [], candidates)
    route = _chosen(candidates, "partial", shipments, [], rule)
    shipped = {n for _loc, lines in shipments for n in lines}
    waiting = ", ".join(f"{n.sku} × {n.qty}" for n in ask.lines if n.line_no not in shipped)
    apart = _groups_apart(ask, rule, eligible)
    for c in route.candidates:
        if c["chosen"]:
            c["reasons"] = [f"ships what it holds; {waiting} wait for stock", *apart]
    return _kept_together(ask, rule, route)


def _consider(ask: Ask, net: Network, rule: Rule,
              at: datetime) -> tuple[list[dict[str, Any]], list[tuple[Site, list[int]]], dict[str, float | None]]:
    """Every site the rule may use, with why it cannot take the order (filters, then the
    lines it lacks), and the sites past the filters with the lines each can fill."""
    candidates: list[dict[str, Any]] = []
    eligible: list[tuple[Site, list[int]]] = []  # sites past the filters, with the lines each can fill
    sites = _sites_for(ask, net, rule)
    if len(sites) > DETAIL_LIMIT and ask.requested_location is None:
        # A large network: locations that hold none of the order's SKUs are one line of the explanation.
        holding = {loc for loc, _sku in net.free}
        held = [s for s in sites if s.code in holding]
        absent, sites = len(sites) - len(held), held
        if absent:
            skus = ", ".join(sorted({n.sku for n in ask.lines}))
            candidates.append({"location": f"{absent} others", "rule": rule.name, "chosen": False,
                               "reasons": [f"hold none of {skus}"], "distance_km": None})
    dist = {site.code: _distance(ask, site) for site in sites}
    for site in sites:
        reasons = _filter_reasons(ask, net, rule, site, at, dist[site.code])
        covered: list[int] = []
        if not reasons:
            keep = rule.filters.keep_by_channel.get(ask.channel, rule.filters.keep_units)
            for need in ask.lines:
                free = net.free.get((site.code, need.sku), 0) - keep
                if free >= need.qty:
                    covered.append(need.line_no)
                else:
                    reasons.append(f"{need.sku} available {max(free, 0)} < {need.qty}" + (f" (keeping {keep})" if keep else ""))
            eligible.append((site, covered))
        distance = dist[site.code]
        candidates.append({"location": site.code, "rule": rule.name, "chosen": False, "reasons": reasons,
                           "distance_km": None if distance is None else round(distance, 1)})
    return candidates, eligible, dist


def _priced(route: Route, net: Network, rule: Rule) -> Route:
    """With a shipping_cost sort, each runner-up's reason says what it would have cost."""
    if "shipping_cost" not in rule.sorts or net.shipping is None:
        return route
    chosen = next((net.shipping(c["location"]) for c in route.candidates if c["chosen"]), None)
    for c in route.candidates:
        if c["reasons"] and c["reasons"][0].startswith("ranked") and chosen is not None:
            price = net.shipping(c["location"])
            c["reasons"][0] += f" (shipping {_money(price)} against {_money(chosen)})"
    return route


def _money(cents: int | None) -> str:
    return "no rate" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _chosen(candidates: list[dict[str, Any]], outcome: str, shipments: list[tuple[str, list[int]]],
            ranked: list[Site], rule: Rule) -> Route:
    chosen = {code for code, _lines in shipments}
    place = {s.code: i for i, s in enumerate(ranked)}
    for c in candidates:
        if c["location"] in chosen:
            c["chosen"], c["reasons"] = True, []
        elif not c["reasons"] and c["location"] in place:
            c["reasons"] = [f"ranked {place[c['location']] + 1} by {', '.join(rule.sorts) or 'code'}"]
        elif outcome == "split" and not c["reasons"]:
            c["reasons"] = ["not needed for the split"]
    return Route(outcome, rule.name, shipments, candidates)


def _split(ask: Ask, net: Network, rule: Rule, eligible: list[tuple[Site, list[int]]],
           dist: dict[str, float | None], most: int | None = None,
           leave_open: bool = False) -> list[tuple[str, list[int]]]:
    """Greedy: the site that fills the most open lines (best by the sorts on a tie), again
    and again, within the maximum number of shipments; a group of lines the rule keeps
    together goes whole from one site or not at all. Empty when that leaves lines open,
    unless `leave_open` (a partial route: what can go now)."""
    units = [frozenset(lines) for lines in _groups(ask, rule).values()]
    singles = {n for unit in units if len(unit) == 1 for n in unit}  # lines on their own
    groups = [unit for unit in units if len(unit) > 1]  # groups the rule keeps together: whole or not at all
    shipments: list[tuple[str, list[int]]] = []
    pool = sorted(((site, set(lines)) for site, lines in eligible), key=lambda e: _sort_key(ask, net, rule, e[0], dist))

    def fills(covered: set[int]) -> set[int]:
        lines = covered & singles
        for g in groups:
            if g <= covered:
                lines |= g
        return lines

    while (singles or groups) and len(shipments) < (most or rule.split.max_shipments):
        best = max(pool, key=lambda e: len(fills(e[1])), default=None)
        if best is None or not (taken := fills(best[1])):
            break
        shipments.append((best[0].code, [n.line_no for n in ask.lines if n.line_no in taken]))
        singles -= taken
        groups = [g for g in groups if not g <= taken]
        pool = [e for e in pool if e[0].code != best[0].code]
    return shipments if not (singles or groups) or leave_open else []


def _groups(ask: Ask, rule: Rule) -> dict[str | int, list[int]]:
    """The order's open lines as units a split may not divide: each group the channel
    labelled (when the rule keeps groups), each other line on its own; in line order."""
    units: dict[str | int, list[int]] = {}
    for n in ask.lines:
        units.setdefault(n.group if n.group is not None and rule.split.keep_groups else n.line_no, []).append(n.line_no)
    return units


def _group_words(label: str | int, lines: list[int]) -> str:
    return f"keeps group {label} (lines {', '.join(map(str, lines))}) together"


def _kept_together(ask: Ask, rule: Rule, route: Route) -> Route:
    """A split or a partial shipment: each shipment carrying a whole group says so."""
    groups = {label: lines for label, lines in _groups(ask, rule).items() if isinstance(label, str) and len(lines) > 1}
    places = {code: lines for code, lines in route.shipments}
    for c in route.candidates:
        if c["chosen"]:
            c["reasons"] += [_group_words(label, lines) for label, lines in groups.items()
                             if set(lines) <= set(places.get(c["location"], ()))]
    return route


def _groups_apart(ask: Ask, rule: Rule, eligible: list[tuple[Site, list[int]]]) -> list[str]:
    """The groups a split could only ship by dividing them: every line is held somewhere,
    but no one location holds them all."""
    held = [set(lines) for _site, lines in eligible]
    anywhere = {n for h in held for n in h}
    apart = []
    for label, lines in _groups(ask, rule).items():
        if isinstance(label, str) and len(lines) > 1 and anywhere.issuperset(lines) \
                and not any(h.issuperset(lines) for h in held):
            apart.append(_group_words(label, lines) + (": no location holds both" if len(lines) == 2 else
                                                       f": no location holds all {len(lines)}"))
    return apart


def _sites_for(ask: Ask, net: Network, rule: Rule) -> list[Site]:
    if ask.requested_location is not None:
        site = net.sites.get(ask.requested_location)
        return [site] if site is not None else []
    kinds = frozenset(rule.kinds)
    return [s for s in net.sites.values() if s.kind in kinds]


def _filter_reasons(ask: Ask, net: Network, rule: Rule, site: Site, at: datetime, distance: float | None) -> list[str]:
    if site.code in ask.excluded:
        return [ask.excluded[site.code]]
    f, reasons = rule.filters, []
    if f.open_now and (closed := _closed(site, at)) is not None:
        reasons.append(closed)
    load = net.loads.get(site.code, 0)
    if f.capacity and site.daily_capacity is not None and load >= site.daily_capacity:
        reasons.append(f"capacity {load}/{site.daily_capacity} orders today")
    if f.max_distance_km is not None and distance is not None and distance > f.max_distance_km:
        reasons.append(f"{distance:.0f} km > {f.max_distance_km:g} km")
    if f.synced_within_min is not None and net.synced_known:
        synced_at = net.synced.get(site.code)
        if synced_at is None or at - synced_at > timedelta(minutes=f.synced_within_min):
            reasons.append(f"no device synced in {f.synced_within_min} min")
    return reasons


def _sort_key(ask: Ask, net: Network, rule: Rule, site: Site, dist: dict[str, float | None]) -> tuple:
    key: list[Any] = []
    for sort in rule.sorts:
        if sort == "kind":
            key.append(rule.kinds.index(site.kind) if site.kind in rule.kinds else len(rule.kinds))
        elif sort == "distance":
            d = dist[site.code]
            key.append(math.inf if d is None else round(d, 3))
        elif sort == "stock_balance":  # take from where the most is left over
            key.append(-min(net.free.get((site.code, n.sku), 0) - n.qty for n in ask.lines))
        elif sort == "workload":
            key.append(net.loads.get(site.code, 0) / site.daily_capacity if site.daily_capacity else 0.0)
        elif sort == "rank":
            key.append(site.rank)
        elif sort == "shipping_cost":
            price = net.shipping(site.code) if net.shipping is not None else None
            key.append(math.inf if price is None else price)
    return (*key, site.code)


def _distance(ask: Ask, site: Site) -> float | None:
    if None in (ask.lat, ask.lon, site.lat, site.lon):
        return None
    return distance_km(ask.lat, ask.lon, site.lat, site.lon)  # type: ignore[arg-type]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(min(1.0, a)))


def _closed(site: Site, at: datetime) -> str | None:
    """None when open at `at`; else "closed until 07:00" (local time, next opening)."""
    if site.hours is None:
        return None
    local = _local(site, at)
    minute = local.hour * 60 + local.minute
    for offset in range(8):
        day = DAYS[(local.weekday() + offset) % 7]
        spans = site.hours.get(day) or []
        for span in sorted([spans] if isinstance(spans, str) else spans):
            opens, closes = (_minutes(t) for t in span.split("-"))
            if offset == 0 and opens <= minute < closes:
                return None
            if offset > 0 or minute < opens:
                when = span.split("-")[0]
                return f"closed until {when}" if offset == 0 else f"closed until {day} {when}"
    return "closed (no opening hours)"


def _local(site: Site, at: datetime) -> datetime:
    if site.time_zone:
        try:
            return at.astimezone(ZoneInfo(site.time_zone))
        except (ZoneInfoNotFoundError, ValueError):
            pass  # an unknown zone: the offset (UTC by default)
    return at + timedelta(minutes=site.tz_offset_min)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
