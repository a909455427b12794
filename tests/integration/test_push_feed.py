"""A grouped push publishes what the tables hold, and a re-send racing its
original into the same transaction is applied once."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from hub.api.push import push
from hub.credentials import Device
from hub.feed import order_snapshot
from sync.models import Op, OpStatus
from tests.integration.test_hub_api import pick_op
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


async def _device(hub, tmp_path) -> Device:
    replica = (await hub.device(tmp_path / "d")).replica
    return Device(replica.get_meta("device_id"), "handheld", replica.get_meta("location"), "picker")


def _last_changes(hub, entity: str) -> dict[str, dict]:
    with hub.db.read() as tx:
        rows = tx.execute("SELECT key, data FROM changes WHERE entity = :e ORDER BY seq", {"e": entity}).all()
    return {r.key: json.loads(r.data) for r in rows}


def _assert_feed_matches_tables(hub, order_id: str) -> None:
    with hub.db.read() as tx:
        assert _last_changes(hub, "order")[order_id] == order_snapshot(tx, order_id)
        stock = {f"{r.bin}|{r.sku}": r.on_hand for r in tx.execute("SELECT bin, sku, on_hand FROM stock").all()}
    for key, change in _last_changes(hub, "stock").items():
        assert change["on_hand"] == stock[key], key


def _short_op(device_id: str, seq: int, order: dict, line_no: int) -> dict:
    op = pick_op(device_id, seq, order, line_no=line_no)
    op["kind"] = "pick.shorted"
    op["payload"] = {**op["payload"], "reason": "damaged"}
    return op


async def test_an_order_picked_in_a_grouped_push_is_published_as_the_tables_hold_it(hub, tmp_path):
    order = await post_order(hub, order_body("F-1", [("MILK-1L", 2), ("TOM-CAN", 1)]))
    device = await _device(hub, tmp_path)
    ops = [pick_op(device.id, 1, order, 1), pick_op(device.id, 2, order, 1), pick_op(device.id, 3, order, 2)]

    results = await push(hub.db, device, [Op.model_validate(op) for op in ops])

    assert [r.status for r in results] == [OpStatus.APPLIED] * 3
    _assert_feed_matches_tables(hub, order["id"])
    assert _last_changes(hub, "order")[order["id"]]["status"] == "picked"


async def test_a_short_after_picks_in_the_same_push_is_published_as_the_tables_hold_it(hub, tmp_path):
    order = await post_order(hub, order_body("F-2", [("MILK-1L", 2), ("TOM-CAN", 1)]))
    device = await _device(hub, tmp_path)
    # picks (held in memory), then a short the handler writes to the tables, then a pick again
    ops = [pick_op(device.id, 1, order, 1), _short_op(device.id, 2, order, 2), pick_op(device.id, 3, order, 1)]

    results = await push(hub.db, device, [Op.model_validate(op) for op in ops])

    assert [r.status for r in results] == [OpStatus.APPLIED] * 3
    _assert_feed_matches_tables(hub, order["id"])
    published = _last_changes(hub, "order")[order["id"]]
    assert (published["status"], published["lines"][1]["qty_short"]) == ("short", 1)


async def test_a_resend_racing_its_original_into_one_transaction_is_applied_once(hub, tmp_path):
    order = await post_order(hub, order_body("F-3", [("MILK-1L", 3)]))
    device = await _device(hub, tmp_path)
    ops = [Op.model_validate(pick_op(device.id, seq, order, 1)) for seq in (1, 2)]
    gate, started = threading.Event(), threading.Event()

    def hold(tx):  # keeps the writer busy so both copies queue into the next transaction
        started.set()
        gate.wait(5)

    holding = hub.db.group_commit.submit(hold)
    assert started.wait(5)
    both = asyncio.gather(push(hub.db, device, ops), push(hub.db, device, ops))
    while hub.db.group_commit.queued() < 2:
        await asyncio.sleep(0.01)
    gate.set()
    first, again = await both
    holding.result(5)

    assert [r.status for r in first] == [OpStatus.APPLIED] * 2
    assert [r.status for r in again] == [OpStatus.DUPLICATE] * 2
    assert [r.change_seq for r in again] == [r.change_seq for r in first]
    with hub.db.read() as tx:
        assert tx.execute("SELECT COUNT(*) FROM movements WHERE order_id = :o", {"o": order["id"]}).scalar_one() == 2
        assert tx.execute("SELECT last_seq FROM devices WHERE id = :d", {"d": device.id}).scalar_one() == 2
