"""What-if: replay the log into a scratch SQLite database under a candidate routing
policy (in force from the first op, and in place of every policy set since), and
compare with what happened: orders per location, parked and split orders, the
distance from each shipping location to its customer, and each order whose route
changed with both explanations; and, by one estimate on both sides (hub.lateness), the
orders that would be late, and those left unfillable. With `since`, the log before it replays as it was (the
policies then in force included) and the candidate takes over from `since`: the
comparison covers the orders accepted from then on. Floor ops replay as logged; one
that no longer fits (a pick at a location the order did not go to) is refused in the
scratch database, and counted."""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hub.feed import unpublished
from hub.domain.routing import decisions_for, network_sites, parse_time
from hub.domain.routing_policy import RoutingPolicy
from hub.domain.routing_rules import distance_km
from hub.lateness import PICK_KINDS, Estimate, PickRates, estimate, late_words
from hub.log import INCIDENT_CODES, apply_op, log_ops, prefetch
from hub.outcome import HUB_DEVICE, HUB_ROLE, Context
from hub.store.db import Database
from hub.store.migrations import migrate
from hub.store.tx import Tx
from hub.verify import _role
from sync.carriers import choose, destination
from sync.kinds import SCHEMA_VERSION
from sync.models import Op, OpResult, OpStatus

__all__ = ["Comparison", "what_if", "parse_since"]

_SPAN = re.compile(r"^(\d{1,5})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """'7d', '36h', '90m' back from now, or an ISO 8601 time; ValueError saying what is accepted."""
    now = now or datetime.now(timezone.utc)
    if match := _SPAN.match(text.strip()):
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is neither a span such as 7d, 36h or 90m nor an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@dataclass
class Comparison:
    since: str | None = None  # the candidate policy in force from then; orders accepted since compared
    ops: int = 0
    orders: int = 0
    distance_km: tuple[float, float] = (0.0, 0.0)  # shipping location → customer, summed (actual, what-if)
    distance_orders: int = 0  # orders whose distance is known on both sides
    shipping_cents: tuple[int, int] = (0, 0)  # by the carriers' rate table in force now (actual, what-if)
    shipping_orders: int = 0  # orders priced on both sides
    per_location: dict[str, tuple[int, int]] = field(default_factory=dict)  # location → (actual, what-if)
    parked: tuple[int, int] = (0, 0)
    splits: tuple[int, int] = (0, 0)
    late: tuple[int, int] = (0, 0)  # compared orders estimated late (hub.lateness), each side
    unfillable: tuple[int, int] = (0, 0)  # compared orders parked, or cancelled by routing, at the end
    pick_rates: dict[str, float] = field(default_factory=dict)  # units/h measured per location from the log
    refused_differently: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)

    def lines(self, show: int = 10) -> list[str]:
        window = f" accepted since {self.since}" if self.since else ""
        out = [f"replayed {self.ops} ops, {self.orders} orders{window}; {len(self.changed)} routed differently",
               f"parked: {self.parked[0]} → {self.parked[1]}; split: {self.splits[0]} → {self.splits[1]}; "
               f"ops answered differently: {self.refused_differently}",
               (f"late (estimated): {self.late[0]} → {self.late[1]}; unfillable (parked, or cancelled by routing): "
                f"{self.unfillable[0]} → {self.unfillable[1]}")]
        if self.distance_orders:
            a, b = self.distance_km
            n = self.distance_orders
            out.append(f"distance to customers: {a:,.0f} km → {b:,.0f} km ({b - a:+,.0f} km over "
                       f"{n} order{'s' if n != 1 else ''} placed on both sides)")
        if self.shipping_orders:
            a, b = (c / 100 for c in self.shipping_cents)
            n = self.shipping_orders
            out.append(f"shipping by today's rate table: {a:,.2f} → {b:,.2f} ({b - a:+,.2f} over {n} "
                       f"order{'s' if n != 1 else ''} priced on both sides)")
        out.append("orders per location (actual → what-if):")
        out += [f"  {loc or '(none)'}: {a} → {b}" for loc, (a, b) in sorted(self.per_location.items(), key=lambda x: x[0] or "")]
        for c in self.changed[:show]:
            km = [c[side].get("km") for side in ("actual", "what_if")]
            notes = [f"{km[0]:.0f} km → {km[1]:.0f} km"] if None not in km else []
            lates = [c[side].get("late") for side in ("actual", "what_if")]
            if any((c[side].get("late_by_min") or 0) > 0 for side in ("actual", "what_if")):  # the change made one late
                notes.append(f"{lates[0] or 'not placed'} → {lates[1] or 'not placed'}")
            far = f" ({'; '.join(notes)})" if notes else ""
            out.append(f"{c['number']}: {c['actual']['location']} → {c['what_if']['location']}{far}")
            out += [f"    actual:  {line}" for line in c["actual"]["explanation"]]
            out += [f"    what-if: {line}" for line in c["what_if"]["explanation"]]
        return out


def what_if(db: Database, policy: RoutingPolicy, batch: int = 500, since: datetime | None = None) -> Comparison:
    """Compare `db`'s history with a replay of its log under `policy` (db is only read);
    with `since`, the candidate takes over from then and the orders accepted since are compared."""
    result = Comparison(since=since.isoformat() if since else None)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Database(f"sqlite:///{Path(tmp) / 'what-if.db'}")
        migrate(scratch)
        body = {"policy": policy.model_dump(mode="json"), "note": "what-if"}
        rates = PickRates()
        with unpublished():  # the scratch database has no devices and no relay
            result.ops, result.refused_differently = _replay(db, scratch, body, batch, since, rates)
        result.pick_rates = {loc: round(r, 1) for loc, r in sorted(rates.per_hour().items())}
        with db.read() as live, scratch.read() as alt:
            _compare(live, alt, result, since, rates)
        scratch.dispose()
    return result


def _take_over(conn: Tx, policy_body: dict[str, Any]) -> None:
    """The candidate policy comes into force (logged under its own device id: the
    replayed log keeps the hub's sequence numbers)."""
    taking = _Batch(conn)
    taking.apply(Op.model_construct(op_id=str(uuid.uuid4()), device_id="what-if", device_seq=1, kind="routing.policy_set",
                                    payload=policy_body, actor="what-if", hlc="0", schema_version=SCHEMA_VERSION, proof=None),
                 Context("what-if", None, HUB_ROLE))
    taking.log()


def _replay(source: Database, target: Database, policy_body: dict[str, Any], batch: int,
            since: datetime | None, rates: PickRates) -> tuple[int, int]:
    """Apply the source's log to the target, a batch to a transaction as the push lane
    does (read ahead in bulk, logged at the end); returns (ops, ops answered
    differently) and adds the picks as logged (applied) to `rates`."""
    done, different, after = 0, 0, 0
    candidate = since is None  # in force from the first op, or from `since`
    if candidate:
        with target.write() as conn:
            _take_over(conn, policy_body)
    while True:
        with source.read() as conn:
            rows = conn.execute("SELECT * FROM op_log WHERE log_seq > :a ORDER BY log_seq LIMIT :n",
                                {"a": after, "n": batch}).mappings().all()
        if not rows:
            return done, different
        work: list[tuple[Op, Context, str] | None] = []  # None: the candidate takes over here
        for row in rows:
            if not candidate and since is not None and datetime.fromisoformat(row["applied_at"]) >= since:
                work.append(None)
                candidate = True
            if row["status"] == "rejected" and json.loads(row["result"]).get("reason_code") in INCIDENT_CODES:
                continue
            replaced = candidate and row["kind"] == "routing.policy_set"
            payload = policy_body if replaced else json.loads(row["payload"])
            if row["kind"] in PICK_KINDS and row["status"] == "applied":
                rates.add(row["location"], row["applied_at"], int(payload.get("qty") or 0))
            work.append((Op.model_construct(op_id=row["op_id"], device_id=row["device_id"], device_seq=row["device_seq"],
                                            kind=row["kind"], payload=payload, actor=row["actor"], hlc=row["hlc"],
                                            schema_version=row["schema_version"], proof=row["proof"]),
                         Context(row["device_id"], row["location"], _role(row)), row["status"]))
        with target.write() as conn:
            prefetch(conn, [w[0] for w in work if w is not None])
            applying = _Batch(conn)
            for item in work:
                if item is None:
                    applying.log()
                    _take_over(conn, policy_body)
                    continue
                op, ctx, status = item
                if op.kind in _READS_THE_LOG:
                    applying.log()
                different += applying.apply(op, ctx).status.value != status
            applying.log()
        done += len(rows)
        after = rows[-1]["log_seq"]


_STAGED_FEED = 500  # changes staged before the batch logs what it has (an import stages thousands)
_READS_THE_LOG = frozenset({"op.reviewed"})  # its handler looks the op up in op_log: log what came before first


class _Batch:
    """Ops applied in one transaction, logged together in their order."""

    def __init__(self, conn: Tx):
        self.conn = conn
        self.entries: list[tuple[Context, Op, OpResult]] = []

    def apply(self, op: Op, ctx: Context) -> OpResult:
        result = apply_op(self.conn, ctx, op)
        if result.status == OpStatus.APPLIED or op.device_id != HUB_DEVICE:
            self.entries.append((ctx, op, result))  # a refused hub command is not logged, as when it ran
        if len(self.conn.staged.get("feed") or ()) > _STAGED_FEED:
            self.log()  # each handler that is not `held` walks what the feed has staged (hub.feed.forget_known)
        return result

    def log(self) -> None:
        if self.entries:
            log_ops(self.conn, self.entries)
            self.entries = []


def _orders(conn: Tx, since: datetime | None) -> dict[str, tuple[str, str | None, str]]:
    rows = conn.execute("SELECT id, number, location, status, created_at FROM orders")
    return {r.id: (r.number, r.location, r.status) for r in rows
            if since is None or datetime.fromisoformat(r.created_at) >= since}


def _compare(live: Tx, alt: Tx, result: Comparison, since: datetime | None, rates: PickRates) -> None:
    actual = _orders(live, since)
    other = {k: v for k, v in _orders(alt, None).items() if k in actual}  # the same orders, as the replay left them
    result.orders = len(actual)
    counts: dict[str, list[int]] = {}
    for side, orders in ((0, actual), (1, other)):
        for _number, location, _status in orders.values():
            counts.setdefault(location or "", [0, 0])[side] += 1
    result.per_location = {k: (v[0], v[1]) for k, v in counts.items()}
    parked = [sum(1 for o in orders.values() if o[2] == "awaiting_stock") for orders in (actual, other)]
    splits = [_splits(conn, set(actual)) for conn in (live, alt)]
    result.parked, result.splits = (parked[0], parked[1]), (splits[0], splits[1])
    places, customers = _places(live), _customers(live, list(actual))
    price, transit = _shipping(live)
    rate_of = rates.rate_of()
    ready = [estimate(conn, rate_of, transit) for conn in (live, alt)]
    result.late = (_late(ready[0], actual), _late(ready[1], other))
    result.unfillable = (_unfillable(live, actual), _unfillable(alt, other))
    totals, costs = [0.0, 0.0], [0, 0]
    for order_id, (number, location, _status) in sorted(actual.items(), key=lambda x: x[1][0]):
        there = other.get(order_id)
        km = [_km(places, customers, order_id, loc) for loc in (location, there[1] if there else None)]
        if km[0] is not None and km[1] is not None:
            totals[0], totals[1] = totals[0] + km[0], totals[1] + km[1]
            result.distance_orders += 1
        cents = [price(order_id, loc) for loc in (location, there[1] if there else None)]
        if cents[0] is not None and cents[1] is not None:
            costs[0], costs[1] = costs[0] + cents[0], costs[1] + cents[1]
            result.shipping_orders += 1
        if there is not None and there[1] == location:
            continue
        result.changed.append({"order_id": order_id, "number": number,
                               "actual": {**_side(live, order_id, location), "km": km[0], **_when(ready[0].get(order_id))},
                               "what_if": {**_side(alt, order_id, there[1] if there else None), "km": km[1],
                                           **_when(ready[1].get(order_id))}})
    result.distance_km = (round(totals[0], 1), round(totals[1], 1))
    result.shipping_cents = (costs[0], costs[1])


def _late(ready: dict[str, Estimate], orders: dict[str, tuple[str, str | None, str]]) -> int:
    return sum(1 for order_id in orders if order_id in ready and ready[order_id].late_by.total_seconds() > 0)


def _unfillable(conn: Tx, orders: dict[str, tuple[str, str | None, str]]) -> int:
    """Parked at the end, or cancelled by routing (its last decision: the policy's `cancel`)."""
    last: dict[str, tuple[int, str]] = {}
    for id_, order_id, outcome in conn.execute("SELECT id, order_id, outcome FROM routing_decisions").tuples():
        if id_ > last.get(order_id, (-1, ""))[0]:
            last[order_id] = (id_, outcome)
    return sum(1 for order_id, (_n, _loc, status) in orders.items()
               if status == "awaiting_stock" or (status == "cancelled" and last.get(order_id, (0, ""))[1] == "cancelled"))


def _when(found: Estimate | None) -> dict[str, Any]:
    if found is None:
        return {"ready": None, "late_by_min": None, "late": None}
    return {"ready": found.ready.isoformat(), "late_by_min": round(found.late_by.total_seconds() / 60),
            "late": late_words(found.late_by)}


def _shipping(conn: Tx) -> tuple[Callable[[str, str | None], int | None], Callable[[str, str, datetime], int | None]]:
    """By the rate table in force now, the service the packer's device would choose for
    a ship order's lines from a location, both sides alike: what it costs (shipped the
    day the order came) and its transit days (shipped the day it is ready). None: no
    table, no address, or no rate."""
    from hub.domain.carriers import current_rates

    rates = current_rates(conn)
    if rates is None:
        return (lambda _order_id, _location: None), (lambda _order_id, _location, _ready: None)
    _version, table, origins = rates
    weights = dict(conn.execute("SELECT sku, COALESCE(unit_weight_g, 0) FROM items").tuples())
    parcels: dict[str, tuple[Any, int] | None] = {}

    def parcel(order_id: str) -> tuple[Any, int] | None:
        if order_id not in parcels:
            row = conn.execute("SELECT o.fulfilment, o.promised_by, o.created_at, d.ship_to FROM orders o "
                               "JOIN order_details d ON d.order_id = o.id WHERE o.id = :o", {"o": order_id}).first()
            lines = conn.execute("SELECT sku, qty FROM order_lines WHERE order_id = :o", {"o": order_id}).tuples()
            weight = max(sum(int(weights.get(sku, 0)) * qty for sku, qty in lines), 1)
            parcels[order_id] = (row, weight) if row is not None and row.fulfilment == "ship" and row.ship_to else None
        return parcels[order_id]

    def service(order_id: str, location: str | None, ship_day: datetime | None) -> Any:
        if location is None or (found := parcel(order_id)) is None:
            return None
        row, weight = found
        return choose(table, weight, destination(json.loads(row.ship_to), origins.get(location)),
                      (ship_day or parse_time(row.created_at)).date(), parse_time(row.promised_by).date()).chosen

    def price(order_id: str, location: str | None) -> int | None:
        chosen = service(order_id, location, None)
        return chosen.price_cents if chosen else None

    def transit(order_id: str, location: str, ready: datetime) -> int | None:
        chosen = service(order_id, location, ready)
        return chosen.transit_days if chosen else None

    return price, transit


def _splits(conn: Tx, order_ids: set[str]) -> int:
    rows = conn.execute("SELECT order_id FROM routing_decisions WHERE outcome = 'split'").scalars()
    return sum(1 for order_id in rows if order_id in order_ids)


def _places(conn: Tx) -> dict[str, tuple[float, float]]:
    """Where each location is: its routing profile, else its set-up's coordinates."""
    return {code: (site.lat, site.lon) for code, site in network_sites(conn).items()
            if site.lat is not None and site.lon is not None}


def _customers(conn: Tx, order_ids: list[str]) -> dict[str, tuple[float, float]]:
    """Where each order goes, when its ship-to address came with coordinates."""
    found = {}
    for chunk in range(0, len(order_ids), 500):
        rows = conn.execute("SELECT order_id, ship_to FROM order_details WHERE order_id IN :ids AND ship_to IS NOT NULL",
                            {"ids": order_ids[chunk:chunk + 500]})
        for row in rows:
            to = json.loads(row.ship_to)
            if to.get("lat") is not None and to.get("lon") is not None:
                found[row.order_id] = (float(to["lat"]), float(to["lon"]))
    return found


def _km(places: dict[str, tuple[float, float]], customers: dict[str, tuple[float, float]], order_id: str,
        location: str | None) -> float | None:
    if location not in places or order_id not in customers:
        return None
    (lat1, lon1), (lat2, lon2) = places[location], customers[order_id]
    return round(distance_km(lat1, lon1, lat2, lon2), 1)


def _side(conn: Tx, order_id: str, location: str | None) -> dict[str, Any]:
    decisions = decisions_for(conn, order_id)
    return {"location": location, "explanation": decisions[-1]["explanation"] if decisions else []}
