"""A line's reservation counts down as its units are picked or shorted and stays at
0 while its order is open (deleting it cost three B-tree writes per fully picked
line); the order's rows go when it is cancelled. Holds are read as sums, so a row
at 0 holds nothing."""

from __future__ import annotations

import pytest

from hub.api import push as ops
from hub.credentials import Device
from hub.seed import DEMO_LOCATION
from sync.models import Op
from tests.integration.test_hub_api import pick_op
from tests.integration.test_pick_slice import order_body, post_order, reserved

pytestmark = pytest.mark.anyio


async def _device(hub, tmp_path) -> Device:
    enrolled = await hub.device(tmp_path / "d")
    return Device(enrolled.replica.get_meta("device_id"), "handheld", DEMO_LOCATION, "picker")


def _holds(hub, order_id: str) -> dict[int, int]:
    with hub.db.read() as tx:
        return dict(tx.execute("SELECT line_no, qty FROM reservations WHERE order_id = :o", {"o": order_id}).tuples())


def _short_op(device_id: str, seq: int, order: dict, line_no: int, qty: int) -> dict:
    op = pick_op(device_id, seq, order, line_no=line_no, qty=qty, kind="pick.shorted")
    op["payload"]["reason"] = "damaged"
    return op


async def test_a_fully_picked_line_holds_zero_and_an_over_pick_does_not_go_below(hub, tmp_path):
    milk_before, rice_before = await reserved(hub, "MILK-1L"), await reserved(hub, "RICE-BAS")
    order = await post_order(hub, order_body("H-1", [("MILK-1L", 2), ("RICE-BAS", 3)]))
    device = await _device(hub, tmp_path)

    answers = await ops.push(hub.db, device, [Op(**pick_op(device.id, seq, order, line_no=1)) for seq in (1, 2, 3)]
                             + [Op(**pick_op(device.id, 4, order, line_no=2))])

    assert [a.status.value for a in answers] == ["applied"] * 4
    assert _holds(hub, order["id"]) == {1: 0, 2: 2}  # the third unit of line 1 was an over-pick
    assert await reserved(hub, "MILK-1L") == milk_before
    assert await reserved(hub, "RICE-BAS") == rice_before + 2


async def test_a_short_counts_the_hold_down_to_zero_not_below(hub, tmp_path):
    order = await post_order(hub, order_body("H-2", [("RICE-BAS", 3)]))
    device = await _device(hub, tmp_path)

    answers = await ops.push(hub.db, device, [Op(**pick_op(device.id, 1, order)), Op(**_short_op(device.id, 2, order, 1, 2))])

    assert [a.status.value for a in answers] == ["applied", "applied"]
    assert _holds(hub, order["id"]) == {1: 0}


async def test_cancelling_an_order_removes_its_holds_at_zero_and_above(hub, tmp_path):
    order = await post_order(hub, order_body("H-3", [("MILK-1L", 1), ("RICE-BAS", 2)]))
    device = await _device(hub, tmp_path)
    await ops.push(hub.db, device, [Op(**pick_op(device.id, 1, order, line_no=1))])
    assert _holds(hub, order["id"]) == {1: 0, 2: 2}

    async with hub.admin() as admin:
        assert (await admin.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "customer"})).status_code == 200

    assert _holds(hub, order["id"]) == {}
