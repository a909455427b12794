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
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

import httpx
import pytest

from edge_app.local.replica import Replica
from hub.seed import DARK_STORE, DEMO_LOCATION
from tests.e2e.chaos_checks import check_hub_against_devices, check_hub_database
from tests.e2e.chaos_floor import Device, Floor, floor_work, last_lines, quick_app_order, switch_proxy, sync_all, tend
from tests.e2e.chaos_proxy import ChaosProxy
from tests.e2e.procs import EdgeDevice, HubProcess, Processes, free_port

pytestmark = pytest.mark.slow

CHAOS_SECONDS = float(os.environ.get("BACKROOM_CHAOS_SECONDS", "30"))
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
        token, *codes = last_lines(procs, [("hub", "token", "--db", hub.db_url, "--role", "admin")]
                                    + [("hub", "enroll", "--db", hub.db_url, "--location", DEMO_LOCATION)] * PICKERS
                                    + [("hub", "enroll", "--db", hub.db_url, "--location", DARK_STORE, "--role", "terminal")] * TERMINALS)
        hub.start()
        proxy = ChaosProxy(hub.port, seed=seed ^ 0x5EED).start()
        edges = [EdgeDevice(procs, tmp_path / f"device-{n}") for n in range(len(codes))]
        # Devices know the hub only by the proxy's address.
        last_lines(procs, [("edge", "enroll", "--hub", proxy.url, "--code", code, "--data-dir", str(edge.data_dir),
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
        sync_all(floor.devices)  # every device starts with the orders
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
            tend(floor, device, rng, now)
        if rng.random() < 0.3:
            floor_work(floor, rng.choice(floor.devices), rng)
        if now >= next_mode:
            mode_is_partition = switch_proxy(floor, rng, mode_is_partition)
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


def _order_from_another_channel(floor: Floor, rng: random.Random) -> None:
    """The quick-commerce app sells dark-store stock too, straight to the hub."""
    body = quick_app_order(f"APP-{floor.events['app_orders'] + 1}", rng)
    order = floor.admin.post("/v1/orders", json=body).raise_for_status().json()
    floor.events["app_orders"] += 1
    floor.events[f"app_orders_{order['status']}"] += 1


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
    for report in sync_all(floor.devices, batch_size=50):
        assert report["outbox_depth"] == 0, report
    for report in sync_all(floor.devices):
        assert report["pushed"] == 0 and report["outbox_depth"] == 0, report
