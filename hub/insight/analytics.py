"""Fulfilment analytics per location and day (UTC): how long orders spend in each stage,
how many finish before their promise, how fast the floor picks, how much is short and
how many ops the hub refused.

Stage times come from `order_stages` (hub.domain.stages: written by the handler that
moved the order, at the op's HLC; orders past a stage before migration 0130 have none).
Accepted is the order's `created_at`. Each figure belongs to the day its stage ended:
time to pick on the day it was picked, cycle time and on-time on the day it finished
(shipped or handed over). Every read is a range of an index over the days asked for:
stages by time, pick movements by (reason, hlc), refused ops by (status, log_seq) from
the first log entry of the range (found by halving: log_seq rises with time).

`analyse` is pure: the arithmetic on small hand-built data is tested on its own."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from statistics import median
from typing import Any

from hub.access import Access
from hub.errors import Invalid
from hub.store.tx import Tx

__all__ = ["MAX_DAYS", "COLUMNS", "OrderTimes", "PickHour", "Refusals", "analyse", "read_analytics", "analytics_csv",
           "date_range"]

MAX_DAYS = 92  # a quarter: the reads stay a bounded range
FINISHED = ("shipped", "handed_over")
COLUMNS = ("location", "day", "orders_finished", "orders_on_time", "on_time_rate", "cycle_min", "to_pick_min",
           "to_pack_min", "to_handover_min", "units_picked", "pick_lines", "picking_hours", "units_per_hour",
           "orders_picked", "units_ordered", "units_short", "short_rate", "refusals")


@dataclass(frozen=True)
class OrderTimes:
    """One order's stage times and its units."""

    order_id: str
    location: str
    accepted: datetime
    promised_by: datetime
    stages: dict[str, datetime]
    units: int
    short: int


@dataclass(frozen=True)
class PickHour:
    """Picks at a location within one clock hour (UTC)."""

    location: str
    hour: datetime
    units: int
    lines: int  # pick movements: one per scan


@dataclass(frozen=True)
class Refusals:
    location: str
    day: date
    count: int


@dataclass
class _Day:
    finished: int = 0
    on_time: int = 0
    cycle: list[float] = field(default_factory=list)
    to_pick: list[float] = field(default_factory=list)
    to_pack: list[float] = field(default_factory=list)
    to_handover: list[float] = field(default_factory=list)
    units_picked: int = 0
    pick_lines: int = 0
    picking_hours: int = 0
    orders_picked: int = 0
    units_ordered: int = 0
    units_short: int = 0
    refusals: int = 0


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _add(values: list[float], later: datetime, earlier: datetime) -> None:
    """A stage's minutes; none for a negative one (a handheld's clock behind the hub's
    when it accepted the order), which would drag a median below what the floor did."""
    if later >= earlier:
        values.append(_minutes(later, earlier))


def _add_order(days: dict[tuple[str, date], _Day], o: OrderTimes, first: date, last: date) -> None:
    def day_of(at: datetime) -> _Day | None:
        return days.setdefault((o.location, at.date()), _Day()) if first <= at.date() <= last else None

    picked, packed = o.stages.get("picked"), o.stages.get("packed")
    finish = min((o.stages[s] for s in FINISHED if s in o.stages), default=None)
    if picked and (d := day_of(picked)):
        _add(d.to_pick, picked, o.accepted)
        d.orders_picked += 1
        d.units_ordered += o.units
        d.units_short += o.short
    if packed and picked and (d := day_of(packed)):
        _add(d.to_pack, packed, picked)
    if finish and (d := day_of(finish)):
        d.finished += 1
        d.on_time += finish <= o.promised_by
        _add(d.cycle, finish, o.accepted)
        if before := packed or picked:
            _add(d.to_handover, finish, before)


def analyse(orders: list[OrderTimes], picks: list[PickHour], refusals: list[Refusals],
            first: date, last: date) -> list[dict[str, Any]]:
    """Rows per (location, day) from `first` to `last`, in the order of COLUMNS. Rates
    are None where nothing was there to rate; stage times are medians in minutes."""
    days: dict[tuple[str, date], _Day] = {}
    for o in orders:
        _add_order(days, o, first, last)
    for p in picks:
        if first <= p.hour.date() <= last:
            d = days.setdefault((p.location, p.hour.date()), _Day())
            d.units_picked += p.units
            d.pick_lines += p.lines
            d.picking_hours += 1
    for r in refusals:
        if first <= r.day <= last:
            days.setdefault((r.location, r.day), _Day()).refusals += r.count
    return [_row(location, day, d) for (location, day), d in sorted(days.items())]


def _row(location: str, day: date, d: _Day) -> dict[str, Any]:
    def mid(values: list[float]) -> float | None:
        return round(median(values), 1) if values else None

    def rate(part: int, whole: int, digits: int = 3) -> float | None:
        return round(part / whole, digits) if whole else None

    return {"location": location, "day": day.isoformat(), "orders_finished": d.finished, "orders_on_time": d.on_time,
            "on_time_rate": rate(d.on_time, d.finished), "cycle_min": mid(d.cycle), "to_pick_min": mid(d.to_pick),
            "to_pack_min": mid(d.to_pack), "to_handover_min": mid(d.to_handover), "units_picked": d.units_picked,
            "pick_lines": d.pick_lines, "picking_hours": d.picking_hours,
            "units_per_hour": rate(d.units_picked, d.picking_hours, 1), "orders_picked": d.orders_picked,
            "units_ordered": d.units_ordered, "units_short": d.units_short,
            "short_rate": rate(d.units_short, d.units_ordered), "refusals": d.refusals}


# -- reading the hub --------------------------------------------------------------------
def date_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days asked for (default: the last 14 up to today); Invalid past MAX_DAYS or backwards."""
    last = last or today
    first = first or last - timedelta(days=13)
    if first > last:
        raise Invalid(f"from: {first} is after to: {last}")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(f"to: at most {MAX_DAYS} days at a time, not {(last - first).days + 1}")
    return first, last


def _when(value: Any) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _orders(conn: Tx, start: datetime, end: datetime, scope: list[str] | None) -> list[OrderTimes]:
    where = " AND location IN :scope" if scope is not None else ""
    ids = sorted({r[0] for r in conn.execute(
        f"SELECT order_id FROM order_stages WHERE at >= :a AND at < :b{where}",
        {"a": start.isoformat(), "b": end.isoformat(), "scope": scope or []}).tuples()})
    found = []
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        stages: dict[str, dict[str, datetime]] = {}
        for order_id, stage, at in conn.execute("SELECT order_id, stage, at FROM order_stages WHERE order_id IN :ids",
                                                {"ids": chunk}).tuples():
            stages.setdefault(order_id, {})[stage] = _when(at)
        units = {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(
            "SELECT order_id, SUM(qty), SUM(qty_short) FROM order_lines WHERE order_id IN :ids GROUP BY order_id",
            {"ids": chunk}).tuples()}
        for order_id, location, created, promised in conn.execute(
                "SELECT id, location, created_at, promised_by FROM orders WHERE id IN :ids", {"ids": chunk}).tuples():
            if location is not None:  # sent back to routing since: its stages belong to no location now
                found.append(OrderTimes(order_id, location, _when(created), _when(promised), stages.get(order_id, {}),
                                        *units.get(order_id, (0, 0))))
    return found


def _picks(conn: Tx, start: datetime, end: datetime, scope: list[str] | None) -> list[PickHour]:
    where = " AND location IN :scope" if scope is not None else ""
    hour = "CAST(SUBSTR(hlc, 1, 15) AS BIGINT) / 3600000"  # HLCs start with the wall time in ms, fixed width
    rows = conn.execute(
        f"SELECT location, {hour} AS h, -SUM(qty), COUNT(*) FROM movements WHERE reason = 'pick' "
        f"AND hlc >= :a AND hlc < :b{where} GROUP BY location, {hour}",
        {"a": _hlc(start), "b": _hlc(end), "scope": scope or []}).tuples()
    return [PickHour(r[0], datetime.fromtimestamp(int(r[1]) * 3600, tz=timezone.utc), int(r[2]), int(r[3]))
            for r in rows]


def _hlc(at: datetime) -> str:
    return f"{int(at.timestamp() * 1000):015d}"


def _refusals(conn: Tx, start: datetime, end: datetime, scope: list[str] | None) -> list[Refusals]:
    low = _first_logged_after(conn, start.isoformat())
    where = " AND location IN :scope" if scope is not None else ""
    rows = conn.execute(
        "SELECT location, SUBSTR(applied_at, 1, 10), COUNT(*) FROM op_log "
        "WHERE status = 'rejected' AND log_seq > :low "
        f"AND applied_at >= :a AND applied_at < :b AND location IS NOT NULL{where} "
        "GROUP BY location, SUBSTR(applied_at, 1, 10)",
        {"low": low, "a": start.isoformat(), "b": end.isoformat(), "scope": scope or []}).tuples()
    return [Refusals(r[0], date.fromisoformat(r[1]), int(r[2])) for r in rows]


def _first_logged_after(conn: Tx, since: str) -> int:
    """The log_seq before the first entry applied at or after `since` (by halving)."""
    low, high = 0, int(conn.execute("SELECT COALESCE(MAX(log_seq), 0) FROM op_log").scalar_one())
    while low < high:
        mid = (low + high) // 2
        at = conn.execute("SELECT applied_at FROM op_log WHERE log_seq > :p ORDER BY log_seq LIMIT 1",
                          {"p": mid}).scalar()
        if at is not None and at >= since:
            high = mid
        else:
            low = mid + 1
    return low


def read_analytics(conn: Tx, access: Access, first: date, last: date,
                   location: str | None = None) -> list[dict[str, Any]]:
    """Rows per (location, day) in [first, last] for the locations `access` sees (or `location`)."""
    if location:
        access.require_read(location, "location")
        scope: list[str] | None = [location]
    else:
        seen = access.scope()
        scope = sorted(seen) if seen is not None else None
    start = datetime.combine(first, time(), tzinfo=timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=timezone.utc)
    # An order with a stage in the range brings its other stages, whenever they were (read by its id).
    return analyse(_orders(conn, start, end, scope), _picks(conn, start, end, scope),
                   _refusals(conn, start, end, scope), first, last)


def analytics_csv(rows: list[dict[str, Any]]) -> str:
    """The same rows as CSV, one header line of COLUMNS; empty cells for no figure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    return out.getvalue()
