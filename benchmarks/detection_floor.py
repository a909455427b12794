"""A generated network for the scored detection benchmark: eight days of cycle counts
and picks at a dozen stores, the open orders of the last shift with when each last
moved, and the fleet of handhelds, with normal noise (counts now and then off by one,
every SKU short now and then and some more than others, pickers called away, Wi-Fi
blips) and injected faults, each known by its unit:

    bin miscounted systematically   (location/bin/sku)  counts off most of the time
    SKU whose shorts spike          sku                  short rate to 25 % in the last 24 h (a SKU
                                                         stocked at 3 stores or more)
    store whose handhelds go offline device id           all its handhelds away 20-90 min, queues growing
    slow picker                     order id             the orders they hold stall 50-100 min between picks

It makes the records hub.insight.anomalies.read_window reads from the hub, so the
detectors scored are the hub's own."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.insight.detectors import CountSeen, DeviceSeen, LineSeen, OrderSeen, Window

__all__ = ["Faults", "Network", "generate", "order_snapshots"]

STORES = 12
BINS_PER_STORE = 40
SKUS = 120
LINES_PER_STORE_DAY = 300
DAYS = 8
COUNT_CHANCE = 0.6  # a bin is cycle-counted on a given day
DEVICES_PER_STORE = 4
PICKERS_PER_STORE = 4
SHIFT = timedelta(hours=8)


@dataclass
class Faults:
    """The units each injected fault made faulty."""

    bins: set[str] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)


@dataclass
class Network:
    window: Window
    faults: Faults
    bins: set[str]  # every counted (location/bin/sku)
    skus: set[str]
    devices: set[str]
    orders: dict[str, list[OrderSeen]]  # per snapshot time (iso): the open orders then
    order_ids: set[str]


def generate(rng: random.Random, now: datetime, tag: str) -> Network:
    """One network with its faults; `tag` keeps ids apart across scenarios."""
    stores = [f"{tag}S{i:02d}" for i in range(STORES)]
    stocked = {s: rng.sample([f"{tag}SKU-{k:03d}" for k in range(SKUS)], BINS_PER_STORE) for s in stores}
    faults = Faults()
    window = Window()
    bins = _counts(rng, now, stocked, window, faults)
    _lines(rng, now, stocked, window, faults)
    devices = _devices(rng, now, stores, window, faults)
    snapshots, order_ids = order_snapshots(rng, now, stores, faults)
    skus = {sku for store in stocked.values() for sku in store}
    return Network(window, faults, bins, skus, devices, snapshots, order_ids)


def _counts(rng: random.Random, now: datetime, stocked: dict[str, list[str]], window: Window, faults: Faults) -> set[str]:
    units = set()
    all_bins = [(s, f"B-{b:02d}", sku) for s, skus in stocked.items() for b, sku in enumerate(skus)]
    for unit in rng.sample(all_bins, 4):
        faults.bins.add("/".join(unit))
    for location, bin_code, sku in all_bins:
        unit = f"{location}/{bin_code}/{sku}"
        units.add(unit)
        bias = rng.choice((-3, -2, -2, -1, 2)) if unit in faults.bins else 0
        for day in range(DAYS):
            if rng.random() >= COUNT_CHANCE:
                continue
            if bias:  # off most times, by about the same: a mislabelled bin, a case counted as one
                variance = (bias + rng.choice((-1, 0, 0, 1)) or bias) if rng.random() < 0.85 else 0
            else:
                variance = rng.choice((-1, 1)) if rng.random() < 0.04 else 0  # a slip now and then
            window.counts.append(CountSeen(location, bin_code, sku, variance, now - timedelta(days=day, hours=rng.uniform(1, 20))))
    return units


def _lines(rng: random.Random, now: datetime, stocked: dict[str, list[str]], window: Window, faults: Faults) -> None:
    every_sku = sorted({sku for skus in stocked.values() for sku in skus})
    # A spike is injected in a SKU stocked at 3 stores or more (~20 lines a day): in one
    # picked 6 times a day, a day's 1 or 2 shorts cannot tell a spike from chance.
    busy = [sku for sku in every_sku if sum(sku in skus for skus in stocked.values()) >= 3]
    faults.skus.update(rng.sample(busy, 3))
    usual = {sku: rng.choice((0.01, 0.02, 0.02, 0.03, 0.06)) for sku in every_sku}  # some SKUs are often short
    for location, skus in stocked.items():
        for day in range(DAYS):
            busy = rng.uniform(0.7, 1.3)  # days differ: in orders, and in shorts (a delivery late)
            worse = rng.uniform(0.7, 1.5)
            for _ in range(int(LINES_PER_STORE_DAY * busy)):
                sku = rng.choice(skus)
                at = now - timedelta(days=day, hours=rng.uniform(0, 24))
                rate = usual[sku] * worse
                if sku in faults.skus and now - at <= timedelta(hours=24):
                    rate = 0.25
                window.lines.append(LineSeen(location, sku, rng.random() < rate, at))


def _devices(rng: random.Random, now: datetime, stores: list[str], window: Window, faults: Faults) -> set[str]:
    dark = rng.choice(stores)
    units = set()
    for store in stores:
        down = timedelta(minutes=rng.uniform(20, 90)) if store == dark else None
        for i in range(DEVICES_PER_STORE):
            device_id = f"{store}-hh{i}"
            units.add(device_id)
            if down is not None:
                faults.devices.add(device_id)
                away, unsent = down, rng.randint(1, 40)
            elif rng.random() < 0.05:  # a Wi-Fi blip, a handheld in a pocket
                away, unsent = timedelta(minutes=rng.expovariate(1 / 4)), rng.randint(0, 5)
            else:
                away, unsent = timedelta(seconds=rng.uniform(5, 120)), 0
            oldest = timedelta(seconds=rng.uniform(0, 60)) if unsent else timedelta(0)
            refused = rng.choice((0, 0, 0, 1, 2))
            ahead = timedelta(seconds=rng.gauss(0, 10))
            window.devices.append(DeviceSeen(device_id, f"hh{i}", store, now - away, unsent, oldest, refused, ahead))
    return units


def order_snapshots(rng: random.Random, now: datetime, stores: list[str],
                    faults: Faults) -> tuple[dict[str, list[OrderSeen]], set[str]]:
    """The last shift's orders, picked line by line; the open ones as the relay would
    see them every 5 minutes. A slow picker's orders stall between picks."""
    start = now - SHIFT
    slow = {(s, p) for s, p in rng.sample([(s, p) for s in stores for p in range(PICKERS_PER_STORE)], 2)}
    timelines: list[tuple[OrderSeen, list[datetime], datetime]] = []
    for store in stores:
        for picker in range(PICKERS_PER_STORE):
            at = start + timedelta(minutes=rng.uniform(0, 10))
            while at < now:
                order_id = f"{store}-p{picker}-{len(timelines)}"
                if (store, picker) in slow:
                    faults.orders.add(order_id)
                created, moves = at, []
                for _line in range(rng.randint(2, 6)):
                    at += timedelta(minutes=_gap(rng, (store, picker) in slow))
                    moves.append(at)
                timelines.append((OrderSeen(order_id, order_id, store, "picking", created), moves, at))
                at += timedelta(minutes=rng.uniform(1, 5))
    snapshots: dict[str, list[OrderSeen]] = {}
    t = start + timedelta(minutes=60)
    while t <= now:
        snapshots[t.isoformat()] = [OrderSeen(o.order_id, o.number, o.location, o.status,
                                              max([o.last_progress, *[m for m in moves if m <= t]]))
                                    for o, moves, done in timelines if o.last_progress <= t < done]
        t += timedelta(minutes=5)
    return snapshots, {o.order_id for o, _m, _d in timelines}


def _gap(rng: random.Random, slow: bool) -> float:
    """Minutes between one pick and the next."""
    if slow:
        return rng.uniform(50, 100)
    if rng.random() < 0.02:
        return rng.expovariate(1 / 15)  # called away: a customer, a delivery at the door
    return rng.expovariate(1 / 3)
