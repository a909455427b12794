"""Escrow: a dark-store terminal confirms orders offline from its allotment, and
nothing is oversold against orders the hub takes from other channels meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from edge_app.local.allotments import headroom, release_excess
from edge_app.workflows.quick_orders import take_order
from hub.actions import LEASE, RECLAIM_GRACE, rebalance
from hub.credentials import Device
from hub.domain.stock import commitments
from hub.seed import DARK_STORE
from hub.verify import replay
from tests.integration.test_pick_slice import order_body

pytestmark = pytest.mark.anyio


async def terminal(hub, path):
    device = await hub.device(path, location=DARK_STORE, role="terminal")
    await device.sync()
    return device


def free(hub, sku: str):
    with hub.db.read() as conn:
        return commitments(conn, DARK_STORE, sku)


async def web_order(hub, number: str, qty: int) -> dict:
    async with hub.admin() as admin:
        response = await admin.post("/v1/orders", json=order_body(number, [("MILK-1L", qty)], location=DARK_STORE, fulfilment="quick"))
    assert response.status_code == 201, response.text
    return response.json()


def local_headroom(device, sku: str) -> int:
    with device.replica.transaction() as conn:
        return headroom(conn, sku, datetime.now(timezone.utc))


async def test_terminal_gets_allotments_for_its_range_on_first_sync(hub, tmp_path):
    device = await terminal(hub, tmp_path / "t")
    assert local_headroom(device, "MILK-1L") == 5 and local_headroom(device, "COFFEE-250") == 2
    milk = free(hub, "MILK-1L")
    assert (milk.on_hand, milk.allotted, milk.safety, milk.free) == (12, 5, 1, 6)


async def test_handheld_of_the_same_store_gets_no_allotment(hub, tmp_path):
    picker = await hub.device(tmp_path / "p", location=DARK_STORE, role="picker")
    await picker.sync()
    assert picker.replica.query("SELECT * FROM allotments") == []


async def test_offline_terminal_and_web_channel_never_oversell(hub, tmp_path):
    device = await terminal(hub, tmp_path / "t")
    # Uplink down: the terminal takes three orders of 2 milk.
    taken = [take_order(device.replica, [("MILK-1L", 2)], f"walk-in {n}", "dana") for n in range(3)]
    assert [t.guaranteed for t in taken] == [True, True, False]
    # Meanwhile the hub keeps taking web orders for the dark store.
    web = [await web_order(hub, f"WEB-{n}", 2) for n in range(4)]
    assert [o["status"] for o in web] == ["released", "released", "released", "awaiting_stock"]
    report = await device.sync()
    assert [r["reason_code"] for r in report.rejected] == ["insufficient_stock"]
    milk = free(hub, "MILK-1L")
    assert milk.reserved == 2 * 2 + 3 * 2 and milk.free >= 0
    assert milk.reserved + milk.allotted <= milk.on_hand - milk.safety
    # The refused pending order is gone from the terminal; the confirmed ones are the hub's.
    mine = {r["number"]: r["status"] for r in device.replica.query("SELECT number, status FROM orders WHERE channel LIKE 'terminal%'")}
    assert mine == {taken[0].number: "released", taken[1].number: "released"}
    assert replay(hub.db).same


async def test_guaranteed_order_can_be_picked_offline_before_the_hub_knows_it(hub, tmp_path):
    from edge_app.workflows.picking import PickSession

    device = await terminal(hub, tmp_path / "t")
    order = take_order(device.replica, [("CHOC-DARK", 3)], "walk-in", "dana")
    session = PickSession(device.replica, order.order_id, "dana")
    from tests.walks import take_line

    assert take_line(session, 3).ok
    report = await device.sync()
    assert report.rejected == [] and report.applied == 2
    async with hub.admin() as admin:
        hub_order = (await admin.get(f"/v1/orders/{order.order_id}")).json()
    assert hub_order["status"] == "picked"


async def test_allotment_above_target_is_released_by_the_device_and_ended_lease_given_back(hub, tmp_path):
    device = await terminal(hub, tmp_path / "t")
    device.replica.conn.execute("UPDATE allotments SET target = 1 WHERE sku = 'MILK-1L'")
    later = datetime.now(timezone.utc) + LEASE + timedelta(minutes=5)
    assert release_excess(device.replica) == 1  # 4 above target
    assert release_excess(device.replica, now=later) == 3  # every lease ended: all spare units go back
    await device.sync()
    assert free(hub, "COFFEE-250").allotted == 2  # the hub renewed the lease at the same sync


async def test_hub_reclaims_a_lease_expired_past_grace_and_records_why(hub, tmp_path):
    device = await terminal(hub, tmp_path / "t")
    device_id = device.replica.get_meta("device_id")
    long_after = datetime.now(timezone.utc) + LEASE + RECLAIM_GRACE + timedelta(minutes=1)
    with hub.db.write() as conn:
        rebalance(conn, Device(id="other", name="x", location="DEMO-1", role="terminal"), long_after)
    assert free(hub, "MILK-1L").allotted == 0
    with hub.db.read() as conn:
        rules = [r.rule for r in conn.execute(text("SELECT rule FROM conflicts WHERE device_id = :d"), {"d": device_id})]
    assert rules == ["escrow_reclaimed"] * 3
    # Orders the terminal confirmed before its lease ended still need stock: the hub
    # honours them from free stock if there is any, and says so when there is none.
    assert replay(hub.db).same


async def test_the_terminal_screen_says_which_orders_are_confirmed_and_which_wait_for_the_hub(hub, tmp_path):
    from edge_app.workflows.quick_orders import QuickOrderCart, headrooms, taken_orders
    from tests.walks import barcode

    device = await terminal(hub, tmp_path / "t")
    cart = QuickOrderCart(device.replica, "dana")
    milk = barcode(device.replica, "MILK-1L")
    for _ in range(4):
        assert cart.scan(milk).ok
    assert not cart.take("").ok and cart.lines == {"MILK-1L": 4}  # a name first; nothing saved
    assert cart.take("walk-in 1").ok  # 4 of the 5 units this terminal holds: confirmed at once
    cart.scan(milk), cart.scan(milk)
    assert cart.take("walk-in 2").ok  # 2 more than the 1 left: pending
    assert {h.sku: h.units for h in headrooms(device.replica)}["MILK-1L"] == 1
    assert [t.state for t in taken_orders(device.replica)] == ["waiting", "confirmed"]
    assert not cart.set_qty("MILK-1L", 10**20).ok  # a typo of 20 digits is refused with what was asked
    await device.sync()
    states = {t.customer_name: t.state for t in taken_orders(device.replica)}
    assert states["walk-in 1"] == "confirmed" and states["walk-in 2"] in ("confirmed", "refused")
