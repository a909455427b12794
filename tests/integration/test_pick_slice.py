"""The vertical slice: an order routed to a store, picked on a device that is
offline half the time, and shown as picked on the hub."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from edge_app.workflows.pick_list import open_orders, pick_list
from edge_app.workflows.picking import PickSession
from hub.seed import DEMO_ITEMS, DEMO_LOCATION, ean13
from sync.kinds import ShortReason

pytestmark = pytest.mark.anyio

BARCODE = {sku: ean13(body) for sku, _name, _w, body in DEMO_ITEMS}


def order_body(number: str, lines: list[tuple[str, int]], **extra) -> dict:
    return {
        "number": number,
        "channel": "webshop",
        "fulfilment": "pickup",
        "promised_by": (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat(),
        "customer_name": "Test Customer",
        "lines": [{"sku": s, "qty": q} for s, q in lines],
        **extra,
    }


async def post_order(hub, body) -> dict:
    async with hub.admin() as admin:
        response = await admin.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def reserved(hub, sku: str) -> int:
    async with hub.admin() as admin:
        rows = (await admin.get("/v1/stock", params={"location": DEMO_LOCATION, "sku": sku})).json()
    return rows[0]["reserved"]


async def test_order_posted_to_hub_is_routed_reserved_and_reaches_the_store_device(hub, tmp_path):
    before = await reserved(hub, "MILK-1L")
    order = await post_order(hub, order_body("T-1", [("MILK-1L", 2), ("TOM-CAN", 1)]))
    assert order["location"] == DEMO_LOCATION
    assert order["status"] == "released"
    device = await hub.device(tmp_path / "d1")
    report = await device.sync()
    assert report.pulled > 0
    numbers = [o.number for o in open_orders(device.replica)]
    assert "T-1" in numbers
    assert await reserved(hub, "MILK-1L") == before + 2


async def test_pick_list_comes_in_bin_sequence(hub, tmp_path):
    order = await post_order(hub, order_body("T-2", [("CHOC-DARK", 1), ("MILK-1L", 1), ("OLIVE-OIL", 1)]))
    device = await hub.device(tmp_path / "d1")
    await device.sync()
    seqs = [line.bin_seq for line in pick_list(device.replica, order["id"])]
    assert seqs == sorted(seqs)


async def test_order_picked_offline_is_shown_picked_on_hub_with_ledger_moved(hub, tmp_path):
    order = await post_order(hub, order_body("T-3", [("MILK-1L", 2), ("COFFEE-250", 1)]))
    device = await hub.device(tmp_path / "d1")
    await device.sync()
    session = PickSession(device.replica, order["id"], actor="ana")
    for line in session.lines():
        if session.step == "bin":
            assert session.scan(f"BIN:{line.bin}").ok
        for _ in range(line.qty):
            feedback = session.scan(BARCODE[line.sku])
            assert feedback.ok, feedback.message
    assert session.step == "done"
    # Offline: the local view already shows the picks, the hub does not yet.
    assert all(line.open_qty == 0 for line in pick_list(device.replica, order["id"]))
    async with hub.admin() as admin:
        assert (await admin.get(f"/v1/orders/{order['id']}")).json()["status"] == "released"
    report = await device.sync()
    assert report.applied == 2 and report.rejected == [] and report.outbox_depth == 0
    async with hub.admin() as admin:
        hub_order = (await admin.get(f"/v1/orders/{order['id']}")).json()
        moves = (await admin.get("/v1/movements", params={"order_id": order["id"]})).json()
    assert hub_order["status"] == "picked"
    assert sorted((m["sku"], m["qty"]) for m in moves) == [("COFFEE-250", -1), ("MILK-1L", -2)]
    # After the pull the overlay is gone and the view equals hub state.
    assert device.replica.query("SELECT COUNT(*) AS n FROM line_effects")[0]["n"] == 0
    assert all(line.open_qty == 0 for line in pick_list(device.replica, order["id"]))


async def test_short_pick_releases_reservation_and_marks_order_short(hub, tmp_path):
    before = await reserved(hub, "RICE-BAS")
    order = await post_order(hub, order_body("T-4", [("RICE-BAS", 3)]))
    device = await hub.device(tmp_path / "d1")
    await device.sync()
    session = PickSession(device.replica, order["id"], actor="ana")
    line = session.current
    session.scan(f"BIN:{line.bin}")
    session.scan(BARCODE["RICE-BAS"])
    feedback = session.short(ShortReason.DAMAGED)
    assert feedback.ok and feedback.step == "done"
    await device.sync()
    async with hub.admin() as admin:
        hub_order = (await admin.get(f"/v1/orders/{order['id']}")).json()
    assert hub_order["status"] == "short"
    assert hub_order["lines"][0]["qty_picked"] == 1 and hub_order["lines"][0]["qty_short"] == 2
    assert hub_order["lines"][0]["short_reason"] == "damaged"
    assert await reserved(hub, "RICE-BAS") == before  # picked and shorted units are no longer held


async def test_two_devices_see_each_others_picks_after_sync(hub, tmp_path):
    order = await post_order(hub, order_body("T-5", [("PASTA-FUS", 2), ("SOAP-BAR", 1)]))
    first, second = await hub.device(tmp_path / "d1"), await hub.device(tmp_path / "d2")
    await first.sync(), await second.sync()
    session = PickSession(first.replica, order["id"], actor="ana")
    line = session.current
    session.scan(f"BIN:{line.bin}")
    for _ in range(line.open_qty):
        session.scan(BARCODE[line.sku])
    await first.sync()
    await second.sync()
    seen = {l.line_no: l.open_qty for l in pick_list(second.replica, order["id"])}
    assert seen[line.line_no] == 0
