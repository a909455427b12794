"""SLA risk scored on simulated days: stores pick their orders earliest promise first,
minute by minute, with surges of orders, pickers away (a slow hour) and handhelds
offline (picks made but not seen by the hub until they sync). Every 5 minutes the hub's
own `hub.insight.risk.assess` judges the open orders from what the hub can see then;
afterwards each order is known to have ended late or on time.

Scored: the share of late orders flagged (at risk or late) at least MARGIN before their
promise, and the share of on-time orders ever flagged."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.insight.risk import MARGIN, PICK_WINDOW, Floor, FloorState, OpenOrder, assess

__all__ = ["SlaScore", "simulate_day"]

PICKERS = 3
PICK_CHANCE = 0.8  # a picker picks a unit in a given minute: 48 units an hour
ARRIVALS_PER_HOUR = 34
DAY = timedelta(hours=10)
REFRESH = timedelta(minutes=5)


@dataclass
class SlaScore:
    late: int = 0
    late_flagged_early: int = 0
    on_time: int = 0
    on_time_flagged: int = 0

    def add(self, other: "SlaScore") -> None:
        self.late += other.late
        self.late_flagged_early += other.late_flagged_early
        self.on_time += other.on_time
        self.on_time_flagged += other.on_time_flagged


@dataclass
class _Order:
    id: str
    promised_by: datetime
    units: int
    picked: int = 0  # on the floor
    seen: int = 0  # by the hub
    done_at: datetime | None = None
    first_flag: datetime | None = None


@dataclass
class _Store:
    code: str
    orders: list[_Order] = field(default_factory=list)
    seen_picks: list[datetime] = field(default_factory=list)  # when the hub saw each pick
    unsynced: list[tuple[datetime, _Order]] = field(default_factory=list)


DISRUPTIONS = ("surge", "away", "offline")


def simulate_day(rng: random.Random, start: datetime, code: str, disruptions: tuple[str, ...] = DISRUPTIONS) -> SlaScore:
    """One store's day with its disruptions (an hour's surge of orders, two of three
    pickers away, handhelds offline for 40 min: each by chance); returns its score."""
    store = _Store(code)
    surge = start + timedelta(minutes=rng.uniform(60, 420))
    away = start + timedelta(minutes=rng.uniform(60, 480)) if rng.random() < 0.6 else None
    away_for = timedelta(minutes=rng.choice((60, 90, 120)))
    offline = start + timedelta(minutes=rng.uniform(60, 480)) if rng.random() < 0.4 else None
    surge = surge if "surge" in disruptions else start - DAY
    away = away if "away" in disruptions else None
    offline = offline if "offline" in disruptions else None
    now = start
    while now < start + DAY:
        rate = ARRIVALS_PER_HOUR * (2.5 if surge <= now < surge + timedelta(hours=1) else 1.0)
        for _ in range(_arrivals(rng, rate / 60)):
            store.orders.append(_Order(f"{code}-{len(store.orders)}", now + timedelta(minutes=rng.uniform(60, 180)),
                                       rng.randint(1, 5)))
        pickers = 1 if away and away <= now < away + away_for else PICKERS
        is_offline = offline is not None and offline <= now < offline + timedelta(minutes=40)
        _pick(rng, store, now, pickers, is_offline)
        if (now - start) % REFRESH == timedelta(0):
            _judge(store, now, is_offline, offline)
        now += timedelta(minutes=1)
    return _score(store, now)


def _arrivals(rng: random.Random, per_minute: float) -> int:
    """Orders arriving in one minute (Poisson)."""
    count, at = 0, rng.expovariate(per_minute)
    while at < 1:
        count, at = count + 1, at + rng.expovariate(per_minute)
    return count


def _pick(rng: random.Random, store: _Store, now: datetime, pickers: int, is_offline: bool) -> None:
    """Earliest promise first; picks made offline reach the hub when the handhelds are back."""
    for _ in range(pickers):
        if rng.random() >= PICK_CHANCE:
            continue
        order = next((o for o in sorted(store.orders, key=lambda o: (o.promised_by, o.id)) if o.picked < o.units), None)
        if order is None:
            return
        order.picked += 1
        if order.picked == order.units:
            order.done_at = now
        store.unsynced.append((now, order))
    if not is_offline:
        for _at, order in store.unsynced:
            order.seen += 1
            store.seen_picks.append(now)
        store.unsynced.clear()


def _judge(store: _Store, now: datetime, is_offline: bool, offline: datetime | None) -> None:
    """What the hub sees now, judged by the hub's own risk assessment."""
    open_orders = [o for o in store.orders if o.seen < o.units]
    recent = sum(1 for t in store.seen_picks if now - t <= PICK_WINDOW)  # as hub.insight.risk reads the outbox
    floor = Floor(picks_per_hour=recent * (timedelta(hours=1) / PICK_WINDOW), devices=PICKERS)
    if is_offline and offline is not None:
        floor.offline, floor.offline_for = PICKERS, now - offline
        floor.unsent_ops, floor.oldest_unsent = len(store.unsynced), now - offline
    state = FloorState([OpenOrder(o.id, o.id, store.code, "picking" if o.seen else "released", "pickup", o.promised_by,
                                  o.units - o.seen) for o in open_orders], {store.code: floor})
    by_id = {o.id: o for o in open_orders}
    for risk in assess(state, now):
        order = by_id[risk.order_id]
        if risk.level != "ok" and order.first_flag is None:
            order.first_flag = now


def _score(store: _Store, end: datetime) -> SlaScore:
    score = SlaScore()
    for o in store.orders:
        if o.done_at is None and o.promised_by > end:
            continue  # the day ended before we know
        if o.done_at is None or o.done_at > o.promised_by:
            score.late += 1
            score.late_flagged_early += o.first_flag is not None and o.first_flag <= o.promised_by - MARGIN
        else:
            score.on_time += 1
            score.on_time_flagged += o.first_flag is not None
    return score
