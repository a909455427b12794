"""The real hub and five real devices, through a proxy that loses and repeats
traffic, with the hub and the edge processes SIGKILLed at random moments; at the
end every invariant of the sync contract holds.

For ~30 s the test keeps one `backroom edge sync` process running per device (a new
round as soon as the last one ends), and meanwhile, at seeded random moments, it
- does floor work on the devices: at the store, three pickers pick (two share some
  orders, so over-picks), short pick, count, edit staging places and ask for refunds
  the hub refuses; at the dark store, two terminals take quick orders, confirmed
  offline from their escrow allotments or left pending, while the quick-commerce
  app sells the same stock straight to the hub;
- cancels an order while it is being picked;
- switches the proxy between healthy, lossy (requests dropped, answers dropped or
  cut after the hub acted, requests replayed, delays) and partitioned (refused or
  blackholed connections);
- SIGKILLs edge processes mid-round and the hub mid-request, and restarts the hub
  on the same database and port.
Then it heals the network, syncs every device until its outbox is empty and pulls
once more, and checks: no op lost, each op's effect exactly once and in device
order, every replica equal to the hub for its location, a ledger that sums to
on-hand, reservations that match open units, and a log that replays to the same
state (`backroom hub verify`).

Floor work is recorded in the test process through the device's own `Replica`
while that device's edge process may be running. That is safe, and it is how the
app works (its UI records while its sync loop runs): every action and every sync
step is its own `BEGIN IMMEDIATE` transaction on a WAL database with a 10 s busy
timeout, the op's device_seq is taken inside the action's transaction, and the
agent never assumes the outbox unchanged between reading and recording answers. A
SIGKILLed edge process takes its locks with it and the WAL drops its torn commit.

Replay a failure with BACKROOM_CHAOS_SEED=<seed> (printed with every failure); the
OS still interleaves the processes, so a seed reproduces the schedule's choices,
not its exact timing."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Iterator

import httpx
import pytest

from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.workflows.picking import PickSession
from edge_app.workflows.quick_orders import take_order
from hub.seed import DARK_STORE, DARK_STORE_RANGE, DEMO_ITEMS, DEMO_LOCATION, ean13
from sync.kinds import ShortReason
from tests.e2e.chaos_checks import check_hub_against_devices, check_hub_database
from tests.e2e.chaos_proxy import ChaosProxy, Faults
from tests.e2e.procs import EdgeDevice, HubProcess, Proc, Processes, free_port

pytestmark = pytest.mark.slow

CHAOS_SECONDS = float(os.environ.get("BACKROOM_CHAOS_SECONDS", "30"))
BARCODE = {sku: ean13(body) for sku, _name, _weight, body in DEMO_ITEMS}
# (number, lines, devices that pick it): two devices on one order make over-picks.
ORDERS = [
    ("X-1", [("MILK-1L", 3), ("OATS-500", 2), ("COFFEE-250", 2)], (0, 1)),
    ("X-2", [("TEA-GRN-20", 3), ("PASTA-FUS", 2), ("TOM-CAN", 2)], (1, 2)),
    ("X-3", [("OLIVE-OIL", 2), ("RICE-BAS", 3), ("SOAP-BAR", 2)], (2,)),
    ("X-4", [("BAT-AA-4", 2), ("TOWEL-PPR", 3), ("CHOC-DARK", 2)], (0,)),  # cancelled mid-way
    ("X-5", [("MILK-1L", 2), ("PASTA-FUS", 3), ("RICE-BAS", 2)], (1,)),
    ("X-6", [("COFFEE-250", 3), ("SOAP-BAR", 2), ("TOWEL-PPR", 2)], (2, 0)),
]
CANCELLED = "X-4"
PICKERS, TERMINALS = 3, 2  # pickers at the store, terminals at the dark store
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

    @cached_property
    def authorization(self) -> str:
        """The header its requests carry, by which the proxy counts them."""
        return f"Bearer {self.replica.identity()['token']}"


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


@pytest.fixture
def seed() -> int:
    return int(os.environ.get("BACKROOM_CHAOS_SEED", random.randrange(2**32)))


@pytest.fixture
def floor(tmp_path, sqlite_hub_url, seed) -> Iterator[Floor]:
    procs = Processes(tmp_path / "logs")
    hub = HubProcess(procs, sqlite_hub_url, free_port())
    proxy, replicas = None, []
    try:
        hub.seed_demo()
        # Each CLI call is a Python start-up: run the independent ones side by side.
        token, *codes = _last_lines(procs, [("hub", "token", "--db", hub.db_url, "--role", "admin")]
                                    + [("hub", "enroll", "--db", hub.db_url, "--location", DEMO_LOCATION)] * PICKERS
                                    + [("hub", "enroll", "--db", hub.db_url, "--location", DARK_STORE, "--role", "terminal")] * TERMINALS)
        hub.start()
        proxy = ChaosProxy(hub.port, seed=seed ^ 0x5EED).start()
        edges = [EdgeDevice(procs, tmp_path / f"device-{n}") for n in range(len(codes))]
        # Devices know the hub only by the proxy's address.
        _last_lines(procs, [("edge", "enroll", "--hub", proxy.url, "--code", code, "--data-dir", str(edge.data_dir),
                             "--name", f"chaos-{n}") for n, (edge, code) in enumerate(zip(edges, codes))])
        with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as admin:
            devices = []
            for n, edge in enumerate(edges):
                replicas.append(Replica(edge.data_dir))
                ident = replicas[-1].identity()
                devices.append(Device(n, edge, replicas[-1], ident["device_id"], ident["location"]))
            the_floor = Floor(hub, proxy, admin, devices, _post_orders(admin))
            for number, _lines, pickers in ORDERS:
                for n in pickers:
                    devices[n].orders.append(the_floor.orders[number])
            yield the_floor
    finally:
        procs.kill_all()
        if proxy is not None:
            proxy.stop()
        for replica in replicas:
            replica.close()


def _last_lines(procs: Processes, commands: list[tuple[str, ...]], timeout: float = 60.0) -> list[str]:
    """Run `backroom` commands at once; the last line each printed, in order."""
    runs = [procs.start("cli", *args) for args in commands]
    for run in runs:
        assert run.wait(timeout) == 0, run.output()
    return [run.stdout().strip().splitlines()[-1].strip() for run in runs]


def _sync_all(floor: Floor, batch_size: int = 200) -> list[dict]:
    """One sync round on every device at once; each must end well."""
    runs = [device.edge.start_sync(batch_size) for device in floor.devices]
    reports = []
    for run in runs:
        code = run.wait(60)
        reports.append(EdgeDevice.report(run))
        assert code == 0 and "error" not in reports[-1], f"edge sync exited {code}:\n{run.output()}"
    return reports


def _post_orders(admin: httpx.Client) -> dict[str, str]:
    promised = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    ids = {}
    for number, lines, _pickers in ORDERS:
        body = {"number": number, "channel": "webshop", "fulfilment": "pickup", "promised_by": promised,
                "customer_name": f"Customer {number}", "location": DEMO_LOCATION,
                "lines": [{"sku": sku, "qty": qty} for sku, qty in lines]}
        order = admin.post("/v1/orders", json=body).raise_for_status().json()
        assert order["status"] == "released", order
        ids[number] = order["id"]
    return ids


@contextmanager
def _seed_on_failure(seed: int, floor: Floor) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        where = f"[chaos seed {seed}; replay with BACKROOM_CHAOS_SEED={seed}; events {dict(floor.events)}; proxy {dict(floor.proxy.fired)}]"
        if isinstance(exc, AssertionError):
            raise AssertionError(f"{where}\n{exc}") from exc
        exc.add_note(where)
        raise


def test_real_hub_and_devices_through_a_lossy_network_with_crashes_keep_every_invariant(floor, seed):
    print(f"chaos seed {seed} (BACKROOM_CHAOS_SEED={seed} replays it)")
    started = time.monotonic()
    with _seed_on_failure(seed, floor):
        _sync_all(floor)  # every device starts with the orders
        _run_chaos(floor, random.Random(seed), CHAOS_SECONDS)
        floor.events["ops_applied_during_chaos"] = sum(d["last_seq"] for d in floor.get("/v1/devices"))
        _quiesce(floor)
        assert floor.get(f"/v1/orders/{floor.orders[CANCELLED]}")["status"] == "cancelled"
        check_hub_against_devices(floor)
        floor.hub.kill()  # one more crash; the checks below read what it left on disk
        check_hub_database(floor)
    print(f"events {dict(floor.events)}; proxy {dict(floor.proxy.fired)}; {time.monotonic() - started:.1f} s")


# -- the chaos ------------------------------------------------------------------------
def _run_chaos(floor: Floor, rng: random.Random, seconds: float) -> None:
    now = time.monotonic()
    end = now + seconds
    next_mode, mode_is_partition = now + rng.uniform(0.5, 2.0), False
    next_hub_kill = now + rng.uniform(2.0, 6.0)
    hub_down_until: float | None = None
    cancel_at: float | None = now + seconds * rng.uniform(0.15, 0.5)
    while (now := time.monotonic()) < end:
        for device in floor.devices:
            _tend(floor, device, rng, now)
        if rng.random() < 0.3:
            _floor_work(floor, rng.choice(floor.devices), rng)
        if now >= next_mode:
            mode_is_partition = _switch_proxy(floor, rng, mode_is_partition)
            next_mode = now + rng.uniform(0.3, 2.5)
        if hub_down_until is None and now >= next_hub_kill:
            floor.hub.kill()
            floor.events["hub_killed"] += 1
            hub_down_until = now + rng.choice((0.0, rng.uniform(0.1, 1.5)))
        if hub_down_until is not None and now >= hub_down_until:
            floor.hub.start()
            hub_down_until, next_hub_kill = None, time.monotonic() + rng.uniform(2.0, 7.0)
        if hub_down_until is None and rng.random() < 0.03:
            _order_from_another_channel(floor, rng)
        if cancel_at is not None and now >= cancel_at and hub_down_until is None:
            response = floor.admin.post(f"/v1/orders/{floor.orders[CANCELLED]}/cancel", json={"reason": "customer called"})
            assert response.status_code == 200, response.text
            floor.events["order_cancelled"] += 1
            cancel_at = None
        time.sleep(rng.uniform(0.01, 0.08))
    if hub_down_until is not None:
        floor.hub.start()


def _tend(floor: Floor, device: Device, rng: random.Random, now: float) -> None:
    """Reap a finished round, kill one whose time has come, start the next."""
    if device.run is not None and not device.run.alive():
        _reap(floor, device.run)
        device.run = None
    if device.run is not None and device.kill_at is not None and now >= device.kill_at:
        device.run.kill()
        floor.events["edge_killed_at_random"] += 1
        device.run = None
    if device.run is not None and device.kill_after is not None and floor.proxy.requests_from(device.authorization) >= device.kill_after:
        device.run.kill()
        floor.events["edge_killed_mid_sync"] += 1
        device.run = None
    if device.run is None:
        device.run = device.edge.start_sync(batch_size=rng.randint(1, 4))
        # A start-up takes a good part of a second, longer on a busy machine: some
        # kills come at a random time, as many once the round is talking to the hub.
        roll = rng.random()
        device.kill_at = now + rng.uniform(0.3, 2.5) if roll < 0.15 else None
        seen = floor.proxy.requests_from(device.authorization)
        device.kill_after = seen + rng.randint(1, 3) if 0.15 <= roll < 0.35 else None


def _reap(floor: Floor, run: Proc) -> None:
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
    else:
        floor.failures.append(f"round exited {code}:\n{run.output()}")


def _switch_proxy(floor: Floor, rng: random.Random, was_partition: bool) -> bool:
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
def _floor_work(floor: Floor, device: Device, rng: random.Random) -> None:
    if device.location == DARK_STORE:
        if rng.random() < 0.4:  # the dark store's few units would be gone in seconds
            _take_quick_order(floor, device, rng)
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
        _record(floor, device, "refund.requested", {"order_id": order_id, "line_no": 1, "qty": 1})


def _record(floor: Floor, device: Device, kind: str, payload: dict) -> None:
    with device.replica.transaction() as conn:
        outbox.record_op(conn, kind, payload, f"chaos-{device.n}", outbox.PendingEffect())
    floor.events[f"op_{kind}"] += 1


def _pick_some(floor: Floor, device: Device, rng: random.Random) -> None:
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


def _take_quick_order(floor: Floor, device: Device, rng: random.Random) -> None:
    """A dark-store terminal takes an order: confirmed at once from its allotment, or pending."""
    skus = rng.sample([sku for sku, _units, _floor in DARK_STORE_RANGE], rng.randint(1, 2))
    taken = take_order(device.replica, [(sku, rng.randint(1, 2)) for sku in skus], "Walk-in", f"chaos-{device.n}")
    floor.events["op_reservation.requested"] += 1
    floor.events["terminal_orders_guaranteed" if taken.guaranteed else "terminal_orders_pending"] += 1


def _order_from_another_channel(floor: Floor, rng: random.Random) -> None:
    """The quick-commerce app sells dark-store stock too, straight to the hub."""
    sku, _units, _floor = rng.choice(DARK_STORE_RANGE)
    number = f"APP-{floor.events['app_orders'] + 1}"
    body = {"number": number, "channel": "quickapp", "fulfilment": "quick", "customer_name": "App customer",
            "promised_by": (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat(), "location": DARK_STORE,
            "lines": [{"sku": sku, "qty": rng.randint(1, 2)}]}
    order = floor.admin.post("/v1/orders", json=body).raise_for_status().json()
    floor.events["app_orders"] += 1
    floor.events[f"app_orders_{order['status']}"] += 1


def _locally_open(device: Device, order_id: str) -> bool:
    row = device.replica.query_one("SELECT status FROM orders WHERE id = ?", (order_id,))
    return row is not None and row["status"] in ("released", "picking")


def _count(floor: Floor, device: Device, rng: random.Random) -> None:
    rows = device.replica.query("SELECT bin, sku, on_hand FROM stock_now ORDER BY bin, sku")
    row = rng.choice(rows)
    counted = max(0, row["on_hand"] + rng.choice((-1, 0, 0, 1)))
    _record(floor, device, "count.recorded", {"bin": row["bin"], "sku": row["sku"], "counted": counted})


def _stage(floor: Floor, device: Device, rng: random.Random) -> None:
    order_id = rng.choice(device.orders)
    _record(floor, device, "order.staging_set", {"order_id": order_id, "place": f"SHELF-{rng.randint(1, 9)}"})


# -- quiescence -----------------------------------------------------------------------
def _quiesce(floor: Floor) -> None:
    """Heal the network, finish every device's push, then pull once more everywhere
    (a device's last pull must come after every other device's last push)."""
    floor.proxy.heal()
    for device in floor.devices:
        if device.run is not None:
            device.run.kill()
            device.run = None
    assert not floor.failures, "edge rounds ended unexpectedly:\n" + "\n".join(floor.failures[:3])
    if not floor.hub.proc.alive():
        floor.hub.start()
    for report in _sync_all(floor, batch_size=50):
        assert report["outbox_depth"] == 0, report
    for report in _sync_all(floor):
        assert report["pushed"] == 0 and report["outbox_depth"] == 0, report
