"""Anomaly detectors: pure functions from what the floor did (a `Window` of recent
facts, read by hub.insight.anomalies) and the time to the anomalies found, each with
its evidence in words and numbers. No I/O and no clock reads, so the scored
benchmark (benchmarks.detection) runs the very functions the hub runs.

Baselines are robust: a short-rate spike is measured against the median and the
MAD of the SKU's (or the location's) own past days, a bin's count accuracy against
its location's, and the sampling noise of a small count (binomial) is allowed for,
so a SKU picked twice a day is not flagged for one short."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

__all__ = ["KINDS", "CountSeen", "BooksWrong", "LineSeen", "OrderSeen", "DeviceSeen", "Window", "Finding",
           "bin_accuracy", "books_wrong", "short_spikes", "stuck_orders", "device_trouble", "detect",
           "robust_spread", "RECENT", "BASELINE_DAYS", "STUCK_AFTER", "AGEING_AFTER", "SKEW_AFTER"]

KINDS = ("bin_accuracy", "books_wrong", "short_spike", "stuck_order", "device_queue", "device_refusals",
         "device_clock")
RECENT = timedelta(hours=24)  # the period a short rate is judged on
BASELINE_DAYS = 7  # the days before it that make its baseline
MIN_BASELINE_DAYS = 3  # fewer days with picks: no baseline, no judgement
MIN_SHORTS = 3  # a spike needs at least this many shorts in the recent period
MIN_COUNTS = 2  # a bin's accuracy is judged from this many counts on (and 2 off the books)
STUCK_AFTER = timedelta(minutes=45)  # an order on the floor this long without a pick, pack or status change
AGEING_AFTER = timedelta(minutes=15)  # ops waiting on a device this long
MIN_REFUSALS = 5
SKEW_AFTER = timedelta(minutes=2)  # a device clock this far ahead of the hub's
_Z = 2.5  # how many spreads from its baseline a rate or an accuracy must be


@dataclass(frozen=True)
class CountSeen:
    """One cycle count: counted − books at the count's time (0: the books were right)."""

    location: str
    bin: str
    sku: str
    variance: int
    at: datetime


@dataclass(frozen=True)
class BooksWrong:
    """A short after picks from a bin that the books said held stock, or a move of more
    than the books held (rules short_after_pick_from_bin, move_beyond_on_hand)."""

    location: str
    bin: str
    sku: str
    rule: str
    on_hand: int  # what the books said
    qty: int  # units short, or moved
    at: datetime


@dataclass(frozen=True)
class LineSeen:
    """One pick or one short of an order line."""

    location: str
    sku: str
    short: bool
    at: datetime


@dataclass(frozen=True)
class OrderSeen:
    """An order on the floor and when it last moved (a pick, a short, a status change)."""

    order_id: str
    number: str
    location: str
    status: str
    last_progress: datetime


@dataclass(frozen=True)
class DeviceSeen:
    device_id: str
    name: str
    location: str
    last_seen: datetime | None
    unsent: int  # ops waiting on it, as its last health report said
    oldest_unsent: timedelta  # their age when it reported
    refused: int  # ops the hub refused from it in the window
    ahead: timedelta | None  # median of (its ops' clock − when the hub applied them), recent ops


@dataclass
class Window:
    counts: list[CountSeen] = field(default_factory=list)
    books: list[BooksWrong] = field(default_factory=list)
    lines: list[LineSeen] = field(default_factory=list)
    orders: list[OrderSeen] = field(default_factory=list)
    devices: list[DeviceSeen] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    kind: str
    location: str | None  # None: the whole network (a SKU's spike)
    subject: str  # "A-03/MILK-1L", "MILK-1L", "order/…", "device/…", "location"
    evidence: str
    numbers: dict[str, Any]

    @property
    def key(self) -> str:
        """Stable across refreshes: one open anomaly per (kind, location, subject)."""
        return f"{self.kind}:{self.location or '*'}:{self.subject}"


def robust_spread(values: list[float]) -> tuple[float, float]:
    """(median, MAD scaled to a normal's standard deviation)."""
    median = statistics.median(values)
    return median, 1.4826 * statistics.median(abs(v - median) for v in values)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"


# -- bins --------------------------------------------------------------------------------
def bin_accuracy(counts: Iterable[CountSeen]) -> list[Finding]:
    """(bin, SKU)s whose counts are off the books far more often than their location's:
    accuracy below the location's by more than the sampling noise of its few counts."""
    by_bin: dict[tuple[str, str, str], list[CountSeen]] = {}
    for c in sorted(counts, key=lambda c: c.at):
        by_bin.setdefault((c.location, c.bin, c.sku), []).append(c)
    pooled: dict[str, list[int]] = {}
    for (location, _b, _s), seen in by_bin.items():
        tally = pooled.setdefault(location, [0, 0])
        tally[0] += sum(1 for c in seen if c.variance == 0)
        tally[1] += len(seen)
    found = []
    for (location, bin_code, sku), seen in sorted(by_bin.items()):
        off = [c.variance for c in seen if c.variance != 0]
        if len(seen) < MIN_COUNTS or len(off) < 2:
            continue
        accuracy = 1 - len(off) / len(seen)
        others_right, others = pooled[location][0] - (len(seen) - len(off)), pooled[location][1] - len(seen)
        usual = others_right / others if others else 1.0
        noise = _Z * math.sqrt(max(usual * (1 - usual), 0.01) / len(seen))
        if accuracy >= usual - noise:
            continue
        found.append(Finding("bin_accuracy", location, f"{bin_code}/{sku}", (
            f"{len(off)} of {len(seen)} counts of {sku} in bin {bin_code} were off the books "
            f"(accuracy {_pct(accuracy)}, {location}'s other bins {_pct(usual)}); "
            f"variances {', '.join(f'{v:+d}' for v in off[-6:])}, net {sum(off):+d} units"),
            {"bin": bin_code, "sku": sku, "counts": len(seen), "off": len(off), "accuracy": round(accuracy, 3),
             "location_accuracy": round(usual, 3), "net_variance": sum(off)}))
    return found


def books_wrong(books: Iterable[BooksWrong]) -> list[Finding]:
    """(bin, SKU)s where the books were caught wrong at least twice: shorts from a bin
    the books said held stock, moves of more than it held."""
    by_bin: dict[tuple[str, str, str], list[BooksWrong]] = {}
    for b in sorted(books, key=lambda b: b.at):
        by_bin.setdefault((b.location, b.bin, b.sku), []).append(b)
    found = []
    for (location, bin_code, sku), seen in sorted(by_bin.items()):
        if len(seen) < 2:
            continue
        shorts = [b for b in seen if b.rule == "short_after_pick_from_bin"]
        moves = [b for b in seen if b.rule != "short_after_pick_from_bin"]
        words = []
        if shorts:
            words.append(f"{_n(len(shorts), 'short')} of {sku} from bin {bin_code} while the books showed "
                         f"{', '.join(str(b.on_hand) for b in shorts[-5:])} on hand")
        if moves:
            words.append(f"{_n(len(moves), 'move')} out of it beyond on hand "
                         f"({', '.join(f'{b.qty} of {b.on_hand}' for b in moves[-5:])})")
        found.append(Finding("books_wrong", location, f"{bin_code}/{sku}", "; ".join(words),
                             {"bin": bin_code, "sku": sku, "shorts": len(shorts), "moves": len(moves),
                              "units": sum(b.qty for b in seen)}))
    return found


# -- short-rate spikes ----------------------------------------------------------------
def short_spikes(lines: Iterable[LineSeen], now: datetime) -> list[Finding]:
    """SKUs (network-wide) and locations whose short rate in the last RECENT stands out
    from their own previous BASELINE_DAYS: above the median day by _Z spreads, the
    spread being the days' MAD or, when that is smaller, the binomial noise of the
    recent lines at the baseline's pooled rate."""
    by_sku: dict[str, list[LineSeen]] = {}
    by_location: dict[str, list[LineSeen]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
        by_location.setdefault(line.location, []).append(line)
    found = []
    for sku, seen in sorted(by_sku.items()):
        spike = _spike(seen, now)
        if spike is not None:
            where = sorted({s.location for s in seen if s.short and now - s.at <= RECENT})
            found.append(Finding("short_spike", None, sku, f"{sku}: {spike[0]}", {**spike[1], "sku": sku,
                                                                                   "locations": where}))
    for location, seen in sorted(by_location.items()):
        spike = _spike(seen, now)
        if spike is not None:
            found.append(Finding("short_spike", location, "location", f"{location}: {spike[0]}", spike[1]))
    return found


def _spike(lines: list[LineSeen], now: datetime) -> tuple[str, dict[str, Any]] | None:
    recent = [s for s in lines if now - s.at <= RECENT]
    shorts = sum(1 for s in recent if s.short)
    if shorts < MIN_SHORTS:
        return None
    days: dict[int, list[int]] = {}
    for s in lines:
        if now - s.at > RECENT and (back := int((now - s.at - RECENT) // timedelta(days=1))) < BASELINE_DAYS:
            tally = days.setdefault(back, [0, 0])
            tally[0] += s.short
            tally[1] += 1
    if len(days) < MIN_BASELINE_DAYS:
        return None
    usual, spread, median = _baseline(list(days.values()), len(recent))
    rate = shorts / len(recent)
    if rate <= usual + _Z * spread:
        return None
    words = (f"{shorts} shorts in {len(recent)} lines in the last {RECENT.seconds // 3600 or 24} h "
             f"({_pct(rate)}), against its usual {_pct(usual)} (median day {_pct(median)}, spread {_pct(spread)}) "
             f"over the {len(days)} days before")
    return words, {"shorts": shorts, "lines": len(recent), "rate": round(rate, 4), "baseline": round(usual, 4),
                   "median_day": round(median, 4), "spread": round(spread, 4), "days": len(days)}


def _baseline(days: list[list[int]], lines: int) -> tuple[float, float, float]:
    """(usual rate, spread of a period of `lines` lines, median day) from (shorts, lines)
    per day. Days far above the median (a past spike) are left out of the usual rate;
    the spread is the binomial noise of `lines` plus the days' own variation beyond
    their binomial noise (the MAD, robust to one wild day)."""
    median, mad = robust_spread([short / n for short, n in days])
    kept = [(short, n) for short, n in days if short / n <= median + _Z * max(mad, 0.01)]
    usual = sum(short for short, _n in kept) / sum(n for _s, n in kept)
    noise = max(usual * (1 - usual), 0.0025)
    between = max(mad ** 2 - statistics.fmean(noise / n for _s, n in kept), 0.0)
    return usual, math.sqrt(noise / lines + between), median


# -- orders and devices --------------------------------------------------------------
def stuck_orders(orders: Iterable[OrderSeen], now: datetime) -> list[Finding]:
    """Orders on the floor (released, picking, packing) that have not moved for STUCK_AFTER."""
    found = []
    for o in sorted(orders, key=lambda o: o.order_id):
        idle = now - o.last_progress
        if idle < STUCK_AFTER:
            continue
        minutes = int(idle.total_seconds() // 60)
        found.append(Finding("stuck_order", o.location, f"order/{o.order_id}",
                             f"order {o.number} has been {o.status.replace('_', ' ')} at {o.location} for {minutes} min "
                             f"with no pick, short or status change (last {o.last_progress:%H:%M})",
                             {"order_id": o.order_id, "number": o.number, "status": o.status, "idle_min": minutes}))
    return found


def device_trouble(devices: Iterable[DeviceSeen], now: datetime) -> list[Finding]:
    """Devices with ops ageing unsent, refused over and over (against the fleet's own
    median), or a clock running ahead of the hub's."""
    devices = sorted(devices, key=lambda d: d.device_id)
    refusals = [float(d.refused) for d in devices] or [0.0]
    median, mad = robust_spread(refusals)
    bar = max(MIN_REFUSALS, median + _Z * max(mad, 1.0))
    found = []
    for d in devices:
        subject, name = f"device/{d.device_id}", f"{d.name} ({d.device_id[:8]})"
        away = now - d.last_seen if d.last_seen else timedelta(0)
        age = d.oldest_unsent + away
        if d.unsent and age >= AGEING_AFTER:
            found.append(Finding("device_queue", d.location, subject,
                                 f"{name} at {d.location} holds {_n(d.unsent, 'unsent op')}, the oldest "
                                 f"{int(age.total_seconds() // 60)} min old; last seen {int(away.total_seconds() // 60)} min ago",
                                 {"device_id": d.device_id, "unsent": d.unsent, "oldest_min": int(age.total_seconds() // 60),
                                  "away_min": int(away.total_seconds() // 60)}))
        if d.refused >= bar:
            found.append(Finding("device_refusals", d.location, subject,
                                 f"{name} at {d.location} had {_n(d.refused, 'op')} refused lately; "
                                 f"the fleet's median is {median:.0f}",
                                 {"device_id": d.device_id, "refused": d.refused, "fleet_median": median}))
        if d.ahead is not None and d.ahead >= SKEW_AFTER:
            found.append(Finding("device_clock", d.location, subject,
                                 f"{name}'s clock runs {d.ahead.total_seconds() / 60:.0f} min ahead of the hub's "
                                 "(its recent ops, by their clock against when the hub applied them)",
                                 {"device_id": d.device_id, "ahead_s": round(d.ahead.total_seconds())}))
    return found


def detect(window: Window, now: datetime) -> list[Finding]:
    """Every detector over one window; findings in a stable order."""
    return [*bin_accuracy(window.counts), *books_wrong(window.books), *short_spikes(window.lines, now),
            *stuck_orders(window.orders, now), *device_trouble(window.devices, now)]
