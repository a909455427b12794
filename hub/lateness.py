"""When routed orders would be ready, and which would be late: what-if's estimate, the
same for what happened and for the replay under a candidate policy, so the two compare.

Each location picks at the rate the log measured there (`PickRates`: units confirmed
per clock hour in which it picked at all; a location with no picks logged gets the
median of those measured, else DEFAULT_UNITS_PER_HOUR). Its orders queue in the order
they were routed there (ties in the order decided): an order is ready when the units ahead of it (what the queue
still held when it arrived) and its own are done at that rate, a ship order packed too
(hub.insight.risk.ready_at, the SLA risk's own estimate); a ship order then travels the
transit days of the service the carriers' rate table would choose, when there is one.
Late: that lands after `promised_by`. The floor's real pace, breaks, opening hours and
what the pickers actually did are not in it: an estimate that treats both sides alike."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.domain.routing import parse_time
from hub.insight.risk import ready_at
from hub.store.tx import Tx

__all__ = ["DEFAULT_UNITS_PER_HOUR", "PickRates", "Estimate", "estimate", "late_words"]

DEFAULT_UNITS_PER_HOUR = 60.0  # a location, and a network, that logged no picks: one unit a minute
PICK_KINDS = frozenset({"pick.confirmed", "pick.substituted"})


@dataclass
class PickRates:
    """Units picked per location and the clock hours they were picked in, as logged."""

    units: dict[str, int] = field(default_factory=dict)
    hours: dict[str, set[str]] = field(default_factory=dict)

    def add(self, location: str | None, applied_at: str, qty: int) -> None:
        if location:
            self.units[location] = self.units.get(location, 0) + qty
            self.hours.setdefault(location, set()).add(applied_at[:13])  # 'YYYY-MM-DDTHH'

    def per_hour(self) -> dict[str, float]:
        """Measured units per working hour, by location."""
        return {loc: units / len(self.hours[loc]) for loc, units in self.units.items() if units}

    def rate_of(self) -> Callable[[str], float]:
        """Location → its rate, the measured median for one not measured, else the default."""
        measured = self.per_hour()
        fallback = statistics.median(measured.values()) if measured else DEFAULT_UNITS_PER_HOUR
        return lambda location: measured.get(location, fallback)


@dataclass(frozen=True)
class Estimate:
    ready: datetime  # picked (and packed) at the location
    arrives: datetime  # ready, plus the carrier's transit days for a ship order
    promised_by: datetime

    @property
    def late_by(self) -> timedelta:
        """Positive: that late; zero or less: on time."""
        return self.arrives - self.promised_by


Transit = Callable[[str, str, datetime], int | None]  # (order id, location, ready) → days, None: unknown


def estimate(conn: Tx, rate_of: Callable[[str], float], transit: Transit) -> dict[str, Estimate]:
    """Every routed order not cancelled in `conn`'s database (order id → estimate), each
    location's queue played in routing order."""
    decided: dict[str, tuple[str, int]] = {}  # order → its last decision that sent it somewhere: when, and its place in line
    for id_, order_id, at in conn.execute(
            "SELECT id, order_id, at FROM routing_decisions WHERE outcome <> 'parked' ORDER BY id").tuples():
        decided[order_id] = (at, id_)
    rows = conn.execute(
        "SELECT o.id, o.location, o.fulfilment, o.promised_by, o.created_at, d.parent_id, "
        "(SELECT COALESCE(SUM(l.qty), 0) FROM order_lines l WHERE l.order_id = o.id) "
        "FROM orders o LEFT JOIN order_details d ON d.order_id = o.id "
        "WHERE o.location IS NOT NULL AND o.status <> 'cancelled'").tuples()
    queues: dict[str, list[tuple[datetime, int, str, str, str, int]]] = {}
    for order_id, location, fulfilment, promised, created, parent, units in rows:
        at, seq = decided.get(order_id) or decided.get(parent or "") or (created, 0)  # a split line: its parent's
        queues.setdefault(location, []).append((parse_time(at), seq, order_id, fulfilment, promised, int(units)))
    out = {}
    for location, queue in queues.items():
        rate, free_at = rate_of(location), None
        for routed, _seq, order_id, fulfilment, promised, units in sorted(queue):
            ahead = max((free_at - routed) / timedelta(hours=1) * rate, 0.0) if free_at else 0.0
            ready = ready_at(routed, ahead + units, rate, fulfilment)
            free_at = ready_at(routed, ahead + units, rate, "")  # packing runs beside the picking
            days = transit(order_id, location, ready) if fulfilment == "ship" else None
            out[order_id] = Estimate(ready, ready + timedelta(days=days or 0), parse_time(promised))
    return out


def late_words(late_by: timedelta) -> str:
    """'on time', 'late by ~40 min', '~3 h', '~2 d'."""
    minutes = late_by.total_seconds() / 60
    if minutes <= 0:
        return "on time"
    if minutes < 90:
        return f"late by ~{max(round(minutes), 1)} min"
    if minutes < 48 * 60:
        return f"late by ~{round(minutes / 60)} h"
    return f"late by ~{round(minutes / 1440)} d"
