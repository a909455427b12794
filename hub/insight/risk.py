"""SLA risk of open orders: will each order be ready by its promised time?

`floor_state` reads what the hub holds now, each with one bounded query: the open
orders and their units left (orders by status, an index), each location's pick rate
over the last PICK_WINDOW (from the outbox's recent `stock.changed` events, found by
position, never a scan of the op log), and its devices (last seen, unsent ops from
their health reports). `assess` is a pure function of that state and the time: per
location, orders in promised order, the units ahead of each one at the location's
rate give when it would be done; the level and the reason in words follow.

`refresh` logs `order.risk_assessed` for every order whose level changed, so the
level is hub state (the console, the API and devices read `order_risk`), and the
outbox tells the world (backroom.risk.raised / cleared, backroom.order.delayed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from hub.log import run_hub_command
from hub.store.db import Database
from hub.store.tx import Tx

__all__ = ["OPEN_STATUSES", "PICK_WINDOW", "MARGIN", "OFFLINE_AFTER", "PACK_TIME", "OpenOrder", "Floor", "FloorState",
           "Risk", "floor_state", "assess", "ready_at", "refresh", "risk_rows"]

# Orders the floor still has work on before they are ready.
OPEN_STATUSES = ("released", "picking", "awaiting_stock", "packing")
PICK_WINDOW = timedelta(minutes=15)
MARGIN = timedelta(minutes=30)  # done closer than this to the promise: at risk
OFFLINE_AFTER = timedelta(minutes=5)
PACK_TIME = timedelta(minutes=5)  # a ship order's packing after its last pick


@dataclass(frozen=True)
class OpenOrder:
    id: str
    number: str
    location: str | None
    status: str
    fulfilment: str
    promised_by: datetime
    units_left: int


@dataclass
class Floor:
    """One location's floor now."""

    picks_per_hour: float = 0.0
    devices: int = 0
    offline: int = 0  # devices not seen for OFFLINE_AFTER
    offline_for: timedelta = timedelta(0)  # the longest of them
    unsent_ops: int = 0  # ops waiting on devices, as their last reports said
    oldest_unsent: timedelta = timedelta(0)


@dataclass
class FloorState:
    orders: list[OpenOrder]
    floors: dict[str, Floor] = field(default_factory=dict)


@dataclass(frozen=True)
class Risk:
    order_id: str
    number: str
    location: str | None
    level: str  # ok | at_risk | late
    reason: str
    promised_by: datetime
    done_by: datetime | None  # when the work left would be done at the current rate


def floor_state(conn: Tx, now: datetime) -> FloorState:
    """What `assess` needs, read from the hub's tables (a handful of queries)."""
    # Units left per order by its lines' primary key (a GROUP BY over the join sorted
    # every line first: twice the time).
    rows = conn.execute(
        "SELECT o.id, o.number, o.location, o.status, o.fulfilment, o.promised_by, "
        "(SELECT COALESCE(SUM(l.qty - l.qty_picked - l.qty_short), 0) FROM order_lines l WHERE l.order_id = o.id) "
        "FROM orders o WHERE o.status IN :open", {"open": list(OPEN_STATUSES)}).tuples()
    orders = [OpenOrder(r[0], r[1], r[2], r[3], r[4], _when(r[5]), max(int(r[6]), 0)) for r in rows]
    floors: dict[str, Floor] = {}
    for location, picks in _recent_picks(conn, now).items():
        floors.setdefault(location, Floor()).picks_per_hour = picks * (timedelta(hours=1) / PICK_WINDOW)
    for location, seen, health in conn.execute(
            "SELECT location, last_seen_at, health FROM devices WHERE revoked_at IS NULL").tuples():
        _add_device(floors.setdefault(location, Floor()), now, seen, health)
    return FloorState(orders, floors)


def _recent_picks(conn: Tx, now: datetime) -> dict[str, int]:
    """Pick movements per location since now − PICK_WINDOW, from the outbox: the first
    position in the window is found by halving (positions rise with time)."""
    since = (now - PICK_WINDOW).isoformat()
    low, high = 0, int(conn.execute("SELECT COALESCE(MAX(position), 0) FROM events").scalar_one())
    while low < high:
        mid = (low + high) // 2
        at = conn.execute("SELECT time FROM events WHERE position > :p ORDER BY position LIMIT 1", {"p": mid}).scalar()
        if at is not None and at >= since:
            high = mid
        else:
            low = mid + 1
    rows = conn.execute("SELECT location, COUNT(*) FROM events WHERE position > :p AND type = 'backroom.stock.changed' "
                        "AND data LIKE '%\"reason\":\"pick\"%' GROUP BY location", {"p": low}).tuples()
    return {location: int(n) for location, n in rows if location}


def _add_device(floor: Floor, now: datetime, seen: str | None, health: str | None) -> None:
    floor.devices += 1
    away = now - _when(seen) if seen else None
    report = json.loads(health) if health else {}
    if away is not None and away > OFFLINE_AFTER:
        floor.offline += 1
        floor.offline_for = max(floor.offline_for, away)
    depth = int(report.get("outbox_depth") or 0)
    if depth:
        floor.unsent_ops += depth
        age = timedelta(seconds=float(report.get("oldest_pending_age_s") or 0)) + (away or timedelta(0))
        floor.oldest_unsent = max(floor.oldest_unsent, age)


def assess(state: FloorState, now: datetime) -> list[Risk]:
    """The risk of every open order: pure, from `state` and `now` only."""
    by_location: dict[str | None, list[OpenOrder]] = {}
    for order in state.orders:
        by_location.setdefault(order.location, []).append(order)
    risks = []
    for location, orders in by_location.items():
        floor = state.floors.get(location or "", Floor())
        ahead = 0
        for order in sorted(orders, key=lambda o: (o.promised_by, o.id)):
            ahead += order.units_left
            risks.append(_one(order, ahead, floor, now))
    return risks


def _one(order: OpenOrder, units: int, floor: Floor, now: datetime) -> Risk:
    """`units`: this order's units left and those of the orders promised before it."""
    routed = order.status != "awaiting_stock" and order.location is not None
    done_by = None
    if routed and units and floor.picks_per_hour > 0:
        done_by = ready_at(now, units, floor.picks_per_hour, order.fulfilment)
    level = _level(order, done_by, floor, now, units)
    if level == "ok":  # most orders: no words to build
        return Risk(order.id, order.number, order.location, level, "", order.promised_by, done_by)
    words: list[str] = []
    if not routed:
        words.append("waiting for stock to route")
    elif done_by is not None:
        if units > order.units_left:
            words.append(f"{units - order.units_left} units ahead at {floor.picks_per_hour:.0f}/h")
        words.append(f"done ~{done_by:%H:%M}, promised {order.promised_by:%H:%M}")
    elif units:
        words.append(f"no picks at {order.location} in the last {PICK_WINDOW.seconds // 60} min, {units} units to go")
    if floor.offline and floor.unsent_ops:
        words.append(f"{floor.unsent_ops} ops unsynced, handhelds offline {floor.offline_for.seconds // 60} min")
    elif floor.unsent_ops and floor.oldest_unsent > OFFLINE_AFTER:
        words.append(f"{floor.unsent_ops} ops unsynced for {floor.oldest_unsent.seconds // 60} min")
    if level == "late" and now > order.promised_by:
        words.insert(0, f"promised {order.promised_by:%H:%M}, {int((now - order.promised_by).total_seconds() // 60)} min ago")
    return Risk(order.id, order.number, order.location, level, "; ".join(words), order.promised_by, done_by)


def ready_at(now: datetime, units: float, per_hour: float, fulfilment: str) -> datetime:
    """When `units` (an order's and those ahead of it) are done at `per_hour` (> 0) from
    `now`, a ship order packed too: the one estimate of the floor's pace (what-if's too)."""
    return now + timedelta(hours=units / per_hour) + (PACK_TIME if fulfilment == "ship" else _NONE)


_NONE = timedelta(0)
_NEAR = MARGIN * 2  # a promise this close with nobody picking: at risk


def _level(order: OpenOrder, done_by: datetime | None, floor: Floor, now: datetime, units: int) -> str:
    if now > order.promised_by or (done_by is not None and done_by > order.promised_by):
        return "late"
    close = order.promised_by - now < _NEAR
    if done_by is not None and done_by > order.promised_by - MARGIN:
        return "at_risk"
    if done_by is None and units and close:
        return "at_risk"  # work left, nobody picking (or no stock) and the promise is near
    if floor.unsent_ops and (floor.offline or floor.oldest_unsent > OFFLINE_AFTER) and close:
        return "at_risk"
    return "ok"


def refresh(db: Database, now: datetime | None = None, actor: str = "risk") -> dict[str, int]:
    """Assess every open order; log `order.risk_assessed` where the level changed (and
    clear the risk of orders no longer open). Returns counts by level, and `changed`."""
    now = now or datetime.now(timezone.utc)
    with db.read() as conn:
        risks = assess(floor_state(conn, now), now)
        known = {r[0]: r[1] for r in conn.execute("SELECT order_id, level FROM order_risk").tuples()}
    changes = [r for r in risks if known.get(r.order_id, "ok") != r.level]
    still_open = {r.order_id for r in risks}
    cleared = [order_id for order_id in known if order_id not in still_open]
    for start in range(0, max(len(changes), len(cleared), 1), 200):
        with db.write() as conn:
            for r in changes[start:start + 200]:
                run_hub_command(conn, "order.risk_assessed", {"order_id": r.order_id, "location": r.location,
                                                              "level": r.level, "reason": r.reason[:500],
                                                              "at": now.isoformat()}, actor)
            for order_id in cleared[start:start + 200]:
                run_hub_command(conn, "order.risk_assessed", {"order_id": order_id, "level": "ok",
                                                              "reason": "no longer open", "at": now.isoformat()}, actor)
    counts = {"ok": 0, "at_risk": 0, "late": 0}
    for r in risks:
        counts[r.level] += 1
    return {**counts, "changed": len(changes) + len(cleared)}


def risk_rows(conn: Tx, location: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Orders at risk, late first then by promise, as plain dicts (API and console)."""
    where, params = ("WHERE r.location = :l", {"l": location}) if location else ("", {})
    return list(conn.execute(
        "SELECT r.order_id, o.number, r.location, r.level, r.reason, r.assessed_at, o.promised_by, o.status "
        f"FROM order_risk r JOIN orders o ON o.id = r.order_id {where} "
        "ORDER BY CASE r.level WHEN 'late' THEN 0 ELSE 1 END, o.promised_by LIMIT :n", {**params, "n": limit}).mappings())


def _when(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
