"""A real hub (uvicorn) and a real edge process, SIGKILLed in the middle of a sync
and restarted: no confirmed op is lost and none is applied twice.

The device picks 180 units one at a time offline (178 ops), then syncs one op per
push request, so there are many points to crash at. The worst point — the hub has
applied an op and the device has not yet recorded the answer — is not left to
chance: the test stops the edge process (SIGSTOP), sees the hub's last_seq ahead of
the device's last recorded answer, and only then kills."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from edge_app.local.replica import Replica
from edge_app.workflows.picking import PickSession
from hub.seed import DEMO_ITEMS, DEMO_LOCATION, ean13
from sync.kinds import ShortReason
from tests.e2e.procs import (
    EdgeDevice,
    HubProcess,
    Proc,
    Processes,
    free_port,
    wait_until,
)

pytestmark = pytest.mark.slow

BARCODE = {sku: ean13(body) for sku, _name, _weight, body in DEMO_ITEMS}
UNITS_PER_LINE = 5
SHORT_SKU, PICKED_BEFORE_SHORT = "CHOC-DARK", 2  # on the last order only


@dataclass
class Floor:
    """A running hub, one enrolled device, and the ops it recorded offline."""

    hub: HubProcess
    edge: EdgeDevice
    admin: httpx.Client
    device_id: str
    orders: dict[str, dict] = field(default_factory=dict)  # order id → hub order as posted
    ops: list[dict] = field(default_factory=list)  # the device's outbox rows, in device order
    stock_before: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku → (on hand, reserved)

    def hub_seq(self) -> int:
        """The device's last applied device_seq, as the hub reports it."""
        devices = self.admin.get("/v1/devices", params={"location": DEMO_LOCATION}).raise_for_status().json()
        return next(d["last_seq"] for d in devices if d["id"] == self.device_id)

    def stock(self) -> dict[str, tuple[int, int]]:
        rows = self.admin.get("/v1/stock", params={"location": DEMO_LOCATION}).raise_for_status().json()
        on_hand, reserved = Counter(), {}
        for r in rows:
            on_hand[r["sku"]] += r["on_hand"]
            reserved[r["sku"]] = r["reserved"]
        return {sku: (on_hand[sku], reserved[sku]) for sku in on_hand}


@pytest.fixture
def procs(tmp_path):
    started = Processes(tmp_path / "logs")
    yield started
    started.kill_all()


@pytest.fixture
def floor(procs, sqlite_hub_url, tmp_path):
    hub = HubProcess(procs, sqlite_hub_url, free_port())
    hub.seed_demo()
    token = hub.admin_token()
    hub.start()
    edge = EdgeDevice(procs, tmp_path / "device")
    edge.enroll(hub.url, hub.enrollment_code(DEMO_LOCATION))
    with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as admin:
        the_floor = Floor(hub, edge, admin, edge.status()["device_id"])
        _post_orders(the_floor)
        the_floor.stock_before = the_floor.stock()
        edge.sync()  # the orders reach the device
        _pick_offline(the_floor)
        yield the_floor


def _post_orders(floor: Floor) -> None:
    promised = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    for n in (1, 2, 3):
        body = {
            "number": f"E2E-{n}", "channel": "webshop", "fulfilment": "pickup", "promised_by": promised,
            "customer_name": f"Customer {n}", "location": DEMO_LOCATION,
            "lines": [{"sku": sku, "qty": UNITS_PER_LINE} for sku in BARCODE],
        }
        order = floor.admin.post("/v1/orders", json=body).raise_for_status().json()
        assert order["status"] == "released", order
        floor.orders[order["id"]] = order


def _pick_offline(floor: Floor) -> None:
    """Every unit its own scan and op; the last order ends with one short pick."""
    replica = Replica(floor.edge.data_dir)
    try:
        last = list(floor.orders)[-1]
        for order_id in floor.orders:
            session = PickSession(replica, order_id, actor="e2e-picker")
            while (line := session.current) is not None:
                if order_id == last and line.sku == SHORT_SKU and line.picked == PICKED_BEFORE_SHORT:
                    assert session.short(ShortReason.DAMAGED, picked_qty=0).ok
                    continue
                if session.step == "bin":  # the next line in the same bin is the same stop
                    assert session.scan(f"BIN:{line.bin}").ok
                feedback = session.scan(BARCODE[line.sku])
                assert feedback.ok, feedback.message
                if session.step == "count":  # the line's last unit confirms itself
                    assert session.confirm().ok
        rows = replica.query("SELECT device_seq, op_id, kind, payload FROM outbox ORDER BY device_seq")
        floor.ops = [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]
    finally:
        replica.close()
    assert [op["device_seq"] for op in floor.ops] == list(range(1, len(floor.ops) + 1))
    assert len(floor.ops) == 3 * len(BARCODE) * UNITS_PER_LINE - UNITS_PER_LINE + PICKED_BEFORE_SHORT + 1


def _catch_between_apply_and_answer(floor: Floor, run: Proc, timeout: float = 30.0) -> tuple[int, int]:
    """Stop `run` (SIGSTOP) at a moment when the hub has applied an op whose answer the
    device had not recorded, and leave it stopped. Returns (hub last_seq, device's last
    answered seq as seen while stopped — a commit already in the WAL may not show yet)."""
    # Pausing a process that is still importing only slows it down: wait until it pushes.
    start = floor.hub_seq()
    wait_until(lambda: floor.hub_seq() > start, 30, "the new sync round to push")
    deadline = time.monotonic() + timeout
    attempt = 0
    while time.monotonic() < deadline:
        assert run.alive(), f"the sync ended before it was caught mid-op:\n{run.output()}"
        run.pause()
        answered = floor.edge.answered_through()  # frozen while the process is stopped
        # A request already sent is still applied by the hub; give it a moment to commit.
        ahead_by = time.monotonic() + 0.1
        while (hub_seq := floor.hub_seq()) == answered and time.monotonic() < ahead_by:
            time.sleep(0.005)
        if hub_seq > answered:
            assert hub_seq == answered + 1, "with one op per push the hub is at most one op ahead"
            return hub_seq, answered
        run.resume()
        attempt += 1
        time.sleep(0.002 * (attempt % 7))  # vary the phase against the edge's request cycle
    raise AssertionError(f"never caught the edge between the hub applying an op and recording its answer in {timeout:.0f} s")


def _kill_between_apply_and_answer(floor: Floor, *, hub_too: bool = False, tries: int = 3) -> tuple[int, int]:
    """Run sync rounds and SIGKILL the edge process (with the hub, if `hub_too`) after
    the hub applied an op and before the device recorded its answer; a killed hub is
    started again. Returns (hub last_seq, device's last answered seq) after the crash."""
    for _ in range(tries):
        run = floor.edge.start_sync(batch_size=1)
        hub_seq, _seen = _catch_between_apply_and_answer(floor, run)
        if hub_too:
            floor.hub.kill()
        run.kill()
        # Read again now the process is dead: an answer whose commit had already
        # reached the WAL when the process stopped counts as recorded after all.
        answered = floor.edge.answered_through()
        if hub_too:
            floor.hub.start()
            assert floor.hub_seq() == hub_seq, "the op applied just before the kill survives it"
        if answered < hub_seq:
            return hub_seq, answered
    raise AssertionError(f"each of {tries} kills came just after the device recorded the answer")


def _assert_every_op_applied_exactly_once(floor: Floor) -> None:
    total = len(floor.ops)
    assert floor.hub_seq() == total
    assert floor.edge.status()["outbox"] == {"applied": total}
    picks = [op for op in floor.ops if op["kind"] == "pick.confirmed"]
    for order_id in floor.orders:
        moves = floor.admin.get("/v1/movements", params={"order_id": order_id, "limit": 5000}).raise_for_status().json()
        expected_ids = sorted(op["op_id"] for op in picks if op["payload"]["order_id"] == order_id)
        # One movement per pick op: none lost, none doubled, each of exactly one unit.
        assert sorted(m["op_id"] for m in moves) == expected_ids
        assert len(moves) == len(expected_ids) and sum(m["qty"] for m in moves) == -len(expected_ids)
    _assert_orders_settled(floor)
    picked_per_sku = Counter(op["payload"]["sku"] for op in picks)
    after = floor.stock()
    for sku, (on_hand, reserved) in floor.stock_before.items():
        assert after[sku][0] == on_hand - picked_per_sku[sku], sku
        assert after[sku][1] == reserved - 3 * UNITS_PER_LINE, sku  # picked and shorted units released once


def _assert_orders_settled(floor: Floor) -> None:
    last = list(floor.orders)[-1]
    replica = Replica(floor.edge.data_dir)
    try:
        for order_id in floor.orders:
            order = floor.admin.get(f"/v1/orders/{order_id}").raise_for_status().json()
            shorted = order_id == last
            assert order["status"] == ("short" if shorted else "picked")
            for line in order["lines"]:
                short = UNITS_PER_LINE - PICKED_BEFORE_SHORT if shorted and line["sku"] == SHORT_SKU else 0
                assert (line["qty_picked"], line["qty_short"]) == (UNITS_PER_LINE - short, short), line
            # The device, after its final pull, sees what the hub sees, with no overlay left.
            local = replica.query_one("SELECT status FROM orders WHERE id = ?", (order_id,))
            assert local["status"] == order["status"]
        assert replica.query_one("SELECT COUNT(*) AS n FROM line_effects")["n"] == 0
        assert replica.query_one("SELECT COUNT(*) AS n FROM stock_effects")["n"] == 0
    finally:
        replica.close()


def test_edge_killed_mid_sync_and_restarted_applies_every_op_exactly_once(floor):
    total = len(floor.ops)
    # Crash 1: anywhere in the middle of the push.
    run = floor.edge.start_sync(batch_size=1)
    wait_until(lambda: floor.hub_seq() >= total // 5, 30, "the hub to apply a fifth of the ops")
    run.kill()
    assert floor.hub_seq() < total, "the sync finished before the kill"

    # Crash 2: the hub has applied op N, the device has not recorded the answer.
    hub_seq, answered = _kill_between_apply_and_answer(floor)
    assert answered + 1 == hub_seq < total

    # Restart: op N goes again and is answered duplicate, with its first result.
    report = floor.edge.sync(batch_size=1)
    print(f"edge crash: killed at hub_seq={hub_seq} answered={answered}; restart report {report}")
    assert report["rejected"] == []
    assert report["pushed"] == total - answered
    assert report["duplicates"] == 1
    assert report["applied"] == total - hub_seq
    assert report["outbox_depth"] == 0
    _assert_every_op_applied_exactly_once(floor)


def test_hub_killed_mid_sync_and_restarted_loses_no_op_and_applies_none_twice(floor):
    total = len(floor.ops)
    # Crash 1: the hub dies somewhere in the middle of the push; the device gives up the round.
    run = floor.edge.start_sync(batch_size=1)
    seen = wait_until(lambda: (s := floor.hub_seq()) >= total // 5 and s, 30, "the hub to apply a fifth of the ops")
    floor.hub.kill()
    assert run.wait(30) == 1 and "not reachable" in floor.edge.report(run)["error"]
    floor.hub.start()
    assert seen <= floor.hub_seq() < total, "what the hub committed before the kill survives it"

    # Crash 2: the hub dies right after applying an op whose answer the device has not recorded.
    run = floor.edge.start_sync(batch_size=1)
    hub_seq, _answered = _catch_between_apply_and_answer(floor, run)
    floor.hub.kill()
    run.resume()  # it reads the answer if the hub got it out before dying, else the connection fails
    assert run.wait(30) == 1 and "not reachable" in floor.edge.report(run)["error"]
    floor.hub.start()
    assert floor.hub_seq() == hub_seq, "the op applied just before the kill survives it"

    # Crash 3: the store loses power — hub and device die together after the hub applied
    # an op and before the device recorded it; the restarted hub answers the resend from its log.
    hub_seq, answered = _kill_between_apply_and_answer(floor, hub_too=True)
    assert answered + 1 == hub_seq < total

    report = floor.edge.sync(batch_size=1)
    print(f"hub crash: killed at hub_seq={hub_seq} answered={answered}; restart report {report}")
    assert report["rejected"] == []
    assert report["pushed"] == total - answered
    assert report["duplicates"] == 1
    assert report["applied"] == total - hub_seq
    _assert_every_op_applied_exactly_once(floor)
