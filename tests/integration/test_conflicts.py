"""Collisions through the real hub and real device replicas: facts stand,
compensations reach the right devices, conflicts are readable, and the log
replays to the same state."""

from __future__ import annotations

import pytest

from edge_app.local import outbox
from edge_app.workflows.picking import PickSession
from hub.verify import replay
from sync.kinds import ShortReason
from tests.integration.test_pick_slice import order_body, post_order
from tests.walks import take_line

pytestmark = pytest.mark.anyio


def record(device, kind: str, payload: dict) -> None:
    with device.replica.transaction() as conn:
        outbox.record_op(conn, kind, payload, "tester", outbox.PendingEffect())


def clock_ahead_of(device, other) -> None:
    """Set `device`'s clock a second past `other`'s: its next op is clearly later."""
    wall, _counter, _node = other.replica.get_meta("hlc").split(":")
    device.replica.set_meta("hlc", f"{int(wall) + 1000:015d}:000000:ahead")


def pick_all(device, order_id: str) -> None:
    session = PickSession(device.replica, order_id, "ana")
    while session.current is not None:
        assert take_line(session).ok


async def admin_get(hub, path: str, **params):
    async with hub.admin() as admin:
        response = await admin.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def cancel(hub, order_id: str):
    async with hub.admin() as admin:
        return await admin.post(f"/v1/orders/{order_id}/cancel", json={"reason": "customer called"})


async def test_cancelled_order_picked_offline_keeps_pick_and_sends_put_back_task_to_store_devices(hub, tmp_path):
    order = await post_order(hub, order_body("C-1", [("MILK-1L", 2)]))
    picker, other = await hub.device(tmp_path / "p"), await hub.device(tmp_path / "o")
    await picker.sync(), await other.sync()
    pick_all(picker, order["id"])  # offline
    assert (await cancel(hub, order["id"])).status_code == 200
    report = await picker.sync()
    assert report.rejected == []
    hub_order = await admin_get(hub, f"/v1/orders/{order['id']}")
    assert hub_order["status"] == "cancelled"
    moves = await admin_get(hub, "/v1/movements", order_id=order["id"])
    assert [m["qty"] for m in moves] == [-2]  # the pick stands in the ledger
    tasks = await admin_get(hub, "/v1/tasks", location="DEMO-1")
    assert [(t["kind"], t["details"]["qty"]) for t in tasks] == [("put_back", 2)]
    await other.sync()
    on_other = other.replica.query("SELECT kind, sentence FROM tasks")
    assert [r["kind"] for r in on_other] == ["put_back"] and "Put 2 × MILK-1L back" in on_other[0]["sentence"]
    conflicts = await admin_get(hub, "/v1/conflicts")
    assert [c["rule"] for c in conflicts] == ["cancel_vs_offline_pick"]


async def test_cancel_after_hub_saw_the_pick_stands_with_put_back(hub, tmp_path):
    order = await post_order(hub, order_body("C-2", [("COFFEE-250", 1)]))
    picker = await hub.device(tmp_path / "p")
    await picker.sync()
    pick_all(picker, order["id"])
    await picker.sync()
    assert (await cancel(hub, order["id"])).status_code == 200
    assert [c["rule"] for c in await admin_get(hub, "/v1/conflicts")] == ["cancel_after_pick"]


async def test_handover_offline_beats_a_hub_cancel_and_asks_for_refund_review(hub, tmp_path):
    order = await post_order(hub, order_body("C-3", [("TEA-GRN-20", 1)]))
    associate = await hub.device(tmp_path / "a", role="associate")
    await associate.sync()
    pick_all(associate, order["id"])
    await associate.sync()
    record(associate, "pickup.handed_over", {"order_id": order["id"], "lines": [{"line_no": 1, "qty": 1}], "code_verified": True})
    assert (await cancel(hub, order["id"])).status_code == 200  # hub cancels before the handover arrives
    await associate.sync()
    assert (await admin_get(hub, f"/v1/orders/{order['id']}"))["status"] == "handed_over"
    assert [t["kind"] for t in await admin_get(hub, "/v1/tasks", location="DEMO-1")] == ["put_back", "refund_review"]
    assert (await cancel(hub, order["id"])).status_code == 409  # goods are gone now


async def test_two_devices_picking_the_same_line_over_pick_and_put_back(hub, tmp_path):
    order = await post_order(hub, order_body("C-4", [("PASTA-FUS", 2)]))
    first, second = await hub.device(tmp_path / "1"), await hub.device(tmp_path / "2")
    await first.sync(), await second.sync()
    pick_all(first, order["id"])
    pick_all(second, order["id"])
    await first.sync()
    report = await second.sync()
    assert report.rejected == [] and report.applied == 1
    result = second.replica.query_one("SELECT result FROM outbox")["result"]
    assert '"put_back"' in result
    hub_order = await admin_get(hub, f"/v1/orders/{order['id']}")
    assert hub_order["lines"][0]["qty_picked"] == 2 and hub_order["status"] == "picked"
    assert sum(m["qty"] for m in await admin_get(hub, "/v1/movements", order_id=order["id"])) == -4
    assert [c["rule"] for c in await admin_get(hub, "/v1/conflicts")] == ["over_pick"]
    # The device sees the collision its own op had.
    async with __import__("httpx").AsyncClient(base_url="https://hub.test", transport=hub.transport,
                                               headers={"Authorization": f"Bearer {second.replica.get_meta('token')}"}) as c:
        mine = (await c.get("/v1/conflicts")).json()
    assert [c["rule"] for c in mine] == ["over_pick"]


async def test_empty_bin_short_after_another_device_picked_from_that_bin_asks_for_recount(hub, tmp_path):
    first_order = await post_order(hub, order_body("C-5", [("MILK-1L", 1)]))
    second_order = await post_order(hub, order_body("C-6", [("MILK-1L", 2)]))
    first, second = await hub.device(tmp_path / "1"), await hub.device(tmp_path / "2")
    await first.sync(), await second.sync()
    pick_all(first, first_order["id"])
    await first.sync()
    session = PickSession(second.replica, second_order["id"], "ben")
    session.scan(f"BIN:{session.current.bin}")
    session.short(ShortReason.EMPTY_BIN, picked_qty=0)
    await second.sync()
    kinds = [t["kind"] for t in await admin_get(hub, "/v1/tasks", location="DEMO-1")]
    assert kinds == ["recount", "reroute"]
    assert (await admin_get(hub, f"/v1/orders/{second_order['id']}"))["status"] == "short"


async def test_count_at_time_t_keeps_later_picks_on_top(hub, tmp_path):
    order = await post_order(hub, order_body("C-7", [("OATS-500", 2)]))
    counter, picker = await hub.device(tmp_path / "c"), await hub.device(tmp_path / "p")
    await counter.sync(), await picker.sync()
    oats_bin = order["lines"][0]["pick_bin"]
    before = sum(r["on_hand"] for r in await admin_get(hub, "/v1/stock", location="DEMO-1", sku="OATS-500"))
    record(counter, "count.recorded", {"bin": oats_bin, "sku": "OATS-500", "counted": before - 1})  # one unit missing at T
    # After T the picker takes 2. HLC orders events on different devices only as
    # well as their clocks agree, so give the picker a clock that is clearly later.
    clock_ahead_of(picker, counter)
    pick_all(picker, order["id"])
    await picker.sync()  # the pick reaches the hub first
    await counter.sync()
    after = sum(r["on_hand"] for r in await admin_get(hub, "/v1/stock", location="DEMO-1", sku="OATS-500"))
    assert after == before - 1 - 2
    conflict = (await admin_get(hub, "/v1/conflicts"))[0]
    assert conflict["rule"] == "count_reconciliation" and conflict["inputs"]["expected_at_count"] == before


async def test_concurrent_staging_edits_later_hlc_wins_and_loser_is_recorded(hub, tmp_path):
    order = await post_order(hub, order_body("C-8", [("SOAP-BAR", 1)]))
    early, late = await hub.device(tmp_path / "e"), await hub.device(tmp_path / "l")
    await early.sync(), await late.sync()
    record(early, "order.staging_set", {"order_id": order["id"], "place": "SHELF-1"})
    clock_ahead_of(late, early)
    record(late, "order.staging_set", {"order_id": order["id"], "place": "SHELF-9"})
    await late.sync()  # the later edit arrives first
    await early.sync()
    assert (await admin_get(hub, f"/v1/orders/{order['id']}"))["staging"] == "SHELF-9"
    conflict = (await admin_get(hub, "/v1/conflicts"))[0]
    assert conflict["rule"] == "last_writer_wins" and conflict["inputs"] == {"kept": "SHELF-9", "lost": "SHELF-1"}


async def test_return_on_refunded_line_stands_and_second_refund_is_refused(hub, tmp_path):
    order = await post_order(hub, order_body("C-9", [("BAT-AA-4", 2)]))
    store = await hub.device(tmp_path / "s", role="associate")
    await store.sync()
    pick_all(store, order["id"])
    returned = {"line_no": 1, "sku": "BAT-AA-4", "qty": 1, "condition": "new", "disposition": "restock", "bin": order["lines"][0]["pick_bin"]}
    record(store, "return.received", {"return_id": "R-1", "order_id": order["id"], "lines": [returned]})
    record(store, "refund.requested", {"order_id": order["id"], "line_no": 1, "qty": 1})
    record(store, "refund.requested", {"order_id": order["id"], "line_no": 1, "qty": 1})
    record(store, "return.received", {"return_id": "R-2", "order_id": order["id"], "lines": [returned]})
    record(store, "return.received", {"return_id": "R-3", "order_id": order["id"], "lines": [returned]})
    report = await store.sync()
    assert [r["reason_code"] for r in report.rejected] == ["nothing_to_refund"]
    line = (await admin_get(hub, f"/v1/orders/{order['id']}"))["lines"][0]
    assert (line["qty_returned"], line["qty_refunded"]) == (3, 1)
    assert [c["rule"] for c in await admin_get(hub, "/v1/conflicts")] == ["return_after_refund"]
    rejected = outbox.rejections(store.replica.conn)
    assert any(r["reason_code"] == "nothing_to_refund" for r in rejected)


async def test_log_replays_to_the_same_state_after_collisions(hub, tmp_path):
    orders = [await post_order(hub, order_body(f"V-{n}", [("PASTA-FUS", 1), ("CHOC-DARK", 2)])) for n in range(3)]
    first, second = await hub.device(tmp_path / "1"), await hub.device(tmp_path / "2")
    await first.sync(), await second.sync()
    pick_all(first, orders[0]["id"])
    pick_all(second, orders[0]["id"])  # over-pick
    pick_all(first, orders[1]["id"])
    await cancel(hub, orders[1]["id"])  # cancel vs offline pick
    record(second, "order.staging_set", {"order_id": orders[2]["id"], "place": "SHELF-2"})
    clock_ahead_of(first, second)
    record(first, "order.staging_set", {"order_id": orders[2]["id"], "place": "SHELF-3"})
    for device in (second, first, second):
        await device.sync()
    verdict = replay(hub.db)
    assert verdict.same, verdict.different_answers
    # two lines over-picked, two lines picked after the cancel, one lost staging edit
    assert verdict.counts["conflicts"] == 5 and verdict.counts["tasks"] == 4 and verdict.ops > 40
