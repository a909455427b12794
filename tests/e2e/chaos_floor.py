"""The floor of the chaos test (test_chaos_real_processes.py) and of the real-process
soak (simulator/real_soak.py): devices driven through `backroom edge sync` rounds,
floor work recorded through each device's own `Replica` while its round may run, and
the proxy switched between its modes.

A floor here is anything with `proxy` (a ChaosProxy), `events` (a Counter) and
`failures` (a list of strings): the test's `Floor`, or the soak's floor with two hub
instances."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Protocol

import httpx

from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.workflows.picking import PickSession
from edge_app.workflows.quick_orders import take_order
from edge_app.workflows.receiving import ReceiveSession
from hub.seed import DARK_STORE, DARK_STORE_RANGE, DEMO_ITEMS, ean13
from sync.kinds import ShortReason
from tests.e2e.chaos_proxy import ChaosProxy, Faults
from tests.e2e.procs import EdgeDevice, HubProcess, Proc, Processes

__all__ = ["BARCODE", "PROXY_MODES", "PARTITIONS", "Device", "Floor", "FloorLike", "last_lines", "sync_all", "tend",
           "switch_proxy", "floor_work", "receive", "take_quick_order", "record",
           "quick_app_order"]

BARCODE = {sku: ean13(body) for sku, _name, _weight, body in DEMO_ITEMS}
PROXY_MODES = {
    "healthy": Faults(),
    "lossy": Faults(drop_request=0.1, drop_response=0.15, cut_response=0.05, duplicate=0.15, delay=0.1),
    "answers_lost": Faults(drop_response=0.4, cut_response=0.1),
    "duplicating": Faults(duplicate=0.5, delay=0.2),
}
PARTITIONS = ("refuse", "blackhole")


@dataclass
class Device:
    n: int
    edge: EdgeDevice
    replica: Replica
    device_id: str
    location: str
    orders: list[str] = field(default_factory=list)
    run: Proc | None = None
    kill_at: float | None = None  # SIGKILL the round at this time…
    kill_after: int | None = None  # …or once the proxy has read this many of the device's requests
    role: str = "picker"
    rest_until: float = 0.0  # no new round before this (the app's sync loop waits between rounds)

    @cached_property
    def authorization(self) -> str:
        """The header its requests carry, by which the proxy counts them."""
        return f"Bearer {self.replica.identity()['token']}"


class FloorLike(Protocol):
    proxy: ChaosProxy
    events: Counter
    failures: list[str]


@dataclass
class Floor:
    hub: HubProcess
    proxy: ChaosProxy
    admin: httpx.Client
    devices: list[Device]
    orders: dict[str, str]  # number → id
    events: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # edge rounds that ended in a way they must not

    def get(self, path: str, **params) -> list | dict:
        return self.admin.get(path, params=params).raise_for_status().json()


def last_lines(procs: Processes, commands: list[tuple[str, ...]], timeout: float = 60.0) -> list[str]:
    """Run `backroom` commands at once; the last line each printed, in order."""
    runs = [procs.start("cli", *args) for args in commands]
    for run in runs:
        assert run.wait(timeout) == 0, run.output()
    return [run.stdout().strip().splitlines()[-1].strip() for run in runs]


def sync_all(devices: list[Device], batch_size: int = 200) -> list[dict]:
    """One sync round on every device at once; each must end well."""
    runs = [device.edge.start_sync(batch_size) for device in devices]
    reports = []
    for run in runs:
        code = run.wait(60)
        reports.append(EdgeDevice.report(run))
        assert code == 0 and "error" not in reports[-1], f"edge sync exited {code}:\n{run.output()}"
    return reports


# -- edge rounds and the proxy ----------------------------------------------------------
def tend(floor: FloorLike, device: Device, rng: random.Random, now: float, rest: tuple[float, float] = (0.0, 0.0),
         expected: tuple[str, ...] = ()) -> None:
    """Reap a finished round, kill one whose time has come, start the next (after a rest
    drawn from `rest` seconds once a round has ended). A round that ended with an error
    holding one of the `expected` words is counted, not a failure."""
    if device.run is not None and not device.run.alive():
        _reap(floor, device.run, expected)
        device.run = None
        if rest != (0.0, 0.0):  # drawn only then, so the test's seeded schedules stay as they were
            device.rest_until = now + rng.uniform(*rest)
    if device.run is not None and device.kill_at is not None and now >= device.kill_at:
        device.run.kill()
        floor.events["edge_killed_at_random"] += 1
        device.run = None
    if device.run is not None and device.kill_after is not None and floor.proxy.requests_from(device.authorization) >= device.kill_after:
        device.run.kill()
        floor.events["edge_killed_mid_sync"] += 1
        device.run = None
    if device.run is None and now >= device.rest_until:
        device.run = device.edge.start_sync(batch_size=rng.randint(1, 4))
        # A start-up takes a good part of a second, longer on a busy machine: some
        # kills come at a random time, as many once the round is talking to the hub.
        roll = rng.random()
        device.kill_at = now + rng.uniform(0.3, 2.5) if roll < 0.15 else None
        seen = floor.proxy.requests_from(device.authorization)
        device.kill_after = seen + rng.randint(1, 3) if 0.15 <= roll < 0.35 else None


def _reap(floor: FloorLike, run: Proc, expected: tuple[str, ...] = ()) -> None:
    code = run.popen.returncode
    try:
        report = EdgeDevice.report(run)
    except AssertionError:
        report = {}
    if code == 0 and "error" not in report:
        floor.events["rounds_completed"] += 1
        floor.events["answers_duplicate"] += report["duplicates"]
    elif code == 1 and "not reachable" in report.get("error", ""):
        floor.events["rounds_unreachable"] += 1
    elif code == 1 and any(words in report.get("error", "") for words in expected):
        floor.events["rounds_hub_error"] += 1
    else:
        floor.failures.append(f"round exited {code}:\n{run.output()}")


def switch_proxy(floor: FloorLike, rng: random.Random, was_partition: bool) -> bool:
    # After a partition, come back through a non-partition mode, so both alternate.
    if not was_partition and rng.random() < 0.25:
        mode = rng.choice(PARTITIONS)
        floor.proxy.partition(mode)
        floor.events[f"proxy_{mode}"] += 1
        return True
    name = rng.choice(list(PROXY_MODES))
    floor.proxy.heal()
    floor.proxy.set_faults(PROXY_MODES[name])
    floor.events[f"proxy_{name}"] += 1
    return False


# -- floor work, recorded on the device while its edge process may run ----------------
def floor_work(floor: FloorLike, device: Device, rng: random.Random) -> None:
    if device.location == DARK_STORE:
        if rng.random() < 0.4:  # the dark store's few units would be gone in seconds
            take_quick_order(floor, device, rng)
        return
    roll = rng.random()
    if roll < 0.65:
        _pick_some(floor, device, rng)
    elif roll < 0.78:
        _count(floor, device, rng)
    elif roll < 0.9:
        _stage(floor, device, rng)
    else:
        # A request the hub refuses: nothing of this line came back.
        order_id = rng.choice(device.orders)
        record(floor, device, "refund.requested", {"order_id": order_id, "line_no": 1, "qty": 1})


def record(floor: FloorLike, device: Device, kind: str, payload: dict) -> None:
    with device.replica.transaction() as conn:
        outbox.record_op(conn, kind, payload, f"chaos-{device.n}", outbox.PendingEffect())
    floor.events[f"op_{kind}"] += 1


def _pick_some(floor: FloorLike, device: Device, rng: random.Random) -> None:
    """Take a few units of the next open line of one of the device's orders, as the
    device sees it; sometimes report the rest short instead."""
    open_here = [o for o in device.orders if _locally_open(device, o)]
    if not open_here:
        return
    session = PickSession(device.replica, rng.choice(open_here), f"chaos-{device.n}")
    line = session.current
    if line is None or line.bin is None:
        return
    assert session.scan(f"BIN:{line.bin}").ok
    if rng.random() < 0.1:
        taken = rng.randint(0, line.open_qty - 1)
        if taken:  # units taken are scanned: a pick is never recorded unverified
            assert session.scan(BARCODE[line.sku]).ok
        assert session.short(ShortReason.DAMAGED, picked_qty=taken).ok
        floor.events["op_pick.shorted"] += 1
        floor.events["op_pick.confirmed"] += bool(taken)
        return
    units = rng.randint(1, line.open_qty)
    for _ in range(units):
        feedback = session.scan(BARCODE[line.sku])
        assert feedback.ok, feedback.message
    if session.step == "count":  # fewer than the open units: confirm them by hand
        assert session.confirm().ok
    floor.events["op_pick.confirmed"] += 1


def take_quick_order(floor: FloorLike, device: Device, rng: random.Random) -> None:
    """A dark-store terminal takes an order: confirmed at once from its allotment, or pending."""
    skus = rng.sample([sku for sku, _units, _floor in DARK_STORE_RANGE], rng.randint(1, 2))
    taken = take_order(device.replica, [(sku, rng.randint(1, 2)) for sku in skus], "Walk-in", f"chaos-{device.n}")
    floor.events["op_reservation.requested"] += 1
    floor.events["terminal_orders_guaranteed" if taken.guaranteed else "terminal_orders_pending"] += 1


def receive(floor: FloorLike, device: Device, rng: random.Random) -> None:
    """A delivery put away through the receiving workflow: a bin, an item, a number."""
    rows = device.replica.query("SELECT DISTINCT bin, sku FROM stock_now ORDER BY bin, sku")
    row = rng.choice(rows)
    session = ReceiveSession(device.replica, f"chaos-{device.n}")
    assert session.scan(f"BIN:{row['bin']}").ok
    feedback = session.scan(BARCODE[row["sku"]])
    assert feedback.ok, feedback.message
    assert session.quantity(rng.randint(5, 30)).ok
    assert session.confirm().ok
    floor.events["op_goods.received"] += 1


def quick_app_order(number: str, rng: random.Random) -> dict:
    """The body of an order the quick-commerce app sends the hub: it sells dark-store stock too."""
    sku, _units, _floor = rng.choice(DARK_STORE_RANGE)
    return {"number": number, "channel": "quickapp", "fulfilment": "quick", "customer_name": "App customer",
            "promised_by": (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat(), "location": DARK_STORE,
            "lines": [{"sku": sku, "qty": rng.randint(1, 2)}]}


def _locally_open(device: Device, order_id: str) -> bool:
    row = device.replica.query_one("SELECT status FROM orders WHERE id = ?", (order_id,))
    return row is not None and row["status"] in ("released", "picking")


def _count(floor: FloorLike, device: Device, rng: random.Random) -> None:
    rows = device.replica.query("SELECT bin, sku, on_hand FROM stock_now ORDER BY bin, sku")
    row = rng.choice(rows)
    counted = max(0, row["on_hand"] + rng.choice((-1, 0, 0, 1)))
    record(floor, device, "count.recorded", {"bin": row["bin"], "sku": row["sku"], "counted": counted})


def _stage(floor: FloorLike, device: Device, rng: random.Random) -> None:
    order_id = rng.choice(device.orders)
    record(floor, device, "order.staging_set", {"order_id": order_id, "place": f"SHELF-{rng.randint(1, 9)}"})
