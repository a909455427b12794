"""Goods receipt on the floor through the real hub (SQLite and PostgreSQL): received
offline, synced, in the hub's stock and ledger, on a second handheld through the feed;
who may send it; poison payloads; every scenario replays to the same state."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from edge_app.workflows.receiving import ReceiveSession
from edge_app.workflows.stock import look_up, on_hand
from hub.seed import DARK_STORE
from hub.verify import replay
from tests.integration.test_authority import op, push
from tests.integration.test_poison_ops import Pusher, api  # noqa: F401 - the `api` fixture
from tests.integration.test_pick_slice import BARCODE

pytestmark = pytest.mark.anyio

MILK_LABEL = "(01)04006381333931(17)271231(10)LOT-7"  # GS1-128 on a case of milk: GTIN, expiry, batch


def rows(hub, sql: str, **params) -> list[dict]:
    with hub.db.read() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]


def good(bin_code: str = "A-01-1", **changes) -> dict:
    return {"bin": bin_code, "sku": "MILK-1L", "qty": 6, "reference": "DN-1", **changes}


async def test_a_receipt_made_offline_reaches_the_hub_ledger_and_a_second_handheld(hub, tmp_path):
    counter = await hub.device(tmp_path / "counter", role="associate")
    picker = await hub.device(tmp_path / "picker", role="picker")
    await counter.sync()
    await picker.sync()
    before = on_hand(counter.replica, "A-01-1", "MILK-1L")
    assert before > 0 and look_up(picker.replica, BARCODE["MILK-1L"]).on_hand >= before

    # Offline: nothing is pushed, yet the counter's own view has the units at once.
    session = ReceiveSession(counter.replica, "A1")
    assert session.set_reference("DN-2026-7").ok
    for step in (session.scan("BIN:A-01-1"), session.scan(MILK_LABEL), session.quantity(24), session.confirm()):
        assert step.ok, step.message
    assert on_hand(counter.replica, "A-01-1", "MILK-1L") == before + 24
    assert rows(hub, "SELECT * FROM goods_receipts") == []

    await counter.sync()
    stock, = rows(hub, "SELECT on_hand FROM stock WHERE location = 'DEMO-1' AND bin = 'A-01-1' AND sku = 'MILK-1L'")
    assert stock["on_hand"] == before + 24
    movement, = rows(hub, "SELECT m.location, m.bin, m.sku, m.qty, m.reason FROM movements m "
                          "JOIN goods_receipts g ON g.op_id = m.op_id")
    assert movement == {"location": "DEMO-1", "bin": "A-01-1", "sku": "MILK-1L", "qty": 24, "reason": "receipt"}
    receipt, = rows(hub, "SELECT bin, sku, qty, gtin, batch, expiry, reference, actor FROM goods_receipts")
    assert receipt == {"bin": "A-01-1", "sku": "MILK-1L", "qty": 24, "gtin": "04006381333931", "batch": "LOT-7",
                       "expiry": "2027-12-31", "reference": "DN-2026-7", "actor": "A1"}
    assert on_hand(counter.replica, "A-01-1", "MILK-1L") == before + 24  # hub state now, not the overlay twice

    await picker.sync()  # the other handheld learns it through the feed
    assert on_hand(picker.replica, "A-01-1", "MILK-1L") == before + 24
    assert replay(hub.db).same


async def test_only_counter_staff_may_receive_and_only_into_a_bin_of_their_own_location(hub, tmp_path):
    picker = await hub.device(tmp_path / "picker", role="picker")
    counter = await hub.device(tmp_path / "counter", role="associate")
    away = await hub.device(tmp_path / "away", location=DARK_STORE, role="supervisor")
    refused, = await push(hub, picker, [op(picker, "goods.received", good(), 1)])
    assert (refused["status"], refused["reason_code"]) == ("rejected", "role_not_allowed")
    # An associate's handheld, but the actor is a picker operator of the store: refused too.
    by_picker, by_associate = await push(hub, counter, [op(counter, "goods.received", good(), 1, actor="P1"),
                                                        op(counter, "goods.received", good(), 2, actor="A1")])
    assert (by_picker["reason_code"], by_associate["status"]) == ("role_not_allowed", "applied")
    # A bin of another location is answered as if it did not exist; the queue moves on.
    elsewhere, unknown, home = await push(hub, away, [op(away, "goods.received", good("A-01-1"), 1),
                                                      op(away, "goods.received", good("NO-SUCH-BIN"), 2),
                                                      op(away, "goods.received", good("DS-01"), 3)])
    assert [r["reason_code"] for r in (elsewhere, unknown)] == ["unknown_bin", "unknown_bin"]
    assert home["status"] == "applied"
    assert [(r["location"], r["bin"]) for r in rows(hub, "SELECT location, bin FROM goods_receipts ORDER BY location")] == [
        ("DEMO-1", "A-01-1"), ("DEMO-DS", "DS-01")]
    assert replay(hub.db).same


async def test_an_unknown_sku_is_received_all_the_same_and_a_supervisor_is_asked_to_identify_it(hub, tmp_path):
    counter = await hub.device(tmp_path / "counter", role="associate")
    result, = await push(hub, counter, [op(counter, "goods.received", good(sku="NOT-IN-CATALOGUE", qty=3), 1)])
    assert result["status"] == "applied"
    task, = result["compensations"]
    assert task["kind"] == "identify" and "NOT-IN-CATALOGUE" in task["sentence"]
    stock, = rows(hub, "SELECT on_hand FROM stock WHERE bin = 'A-01-1' AND sku = 'NOT-IN-CATALOGUE'")
    assert stock["on_hand"] == 3
    conflict, = rows(hub, "SELECT rule, outcome FROM conflicts")
    assert conflict == {"rule": "receipt_unknown_sku", "outcome": "receipt stands; identify task"}
    assert rows(hub, "SELECT for_role, status FROM tasks WHERE kind = 'identify'") == [{"for_role": "supervisor", "status": "open"}]
    assert replay(hub.db).same


def test_poison_receipts_are_refused_with_a_reason_and_the_queue_moves_on(hub, api):  # noqa: F811
    counter = Pusher(hub, api, "associate")
    results = counter.push(
        ("goods.received", good(qty=2**63)),
        ("goods.received", good(qty=100_001)),
        ("goods.received", good(qty=0)),
        ("goods.received", good(sku="MILK\x00-1L")),
        ("goods.received", good(reference="DN\x00")),
        ("goods.received", good(batch="L\x1b[2J")),
        ("goods.received", good(gtin="4006381333931\x00")),
        ("goods.received", good(expiry="9999-12-31")),
        ("goods.received", good(reference="x" * 10_000)),
        ("goods.received", {**good(), "extra": 1}),
        ("goods.received", good()),
    )
    assert [r["reason_code"] for r in results[:-1]] == ["malformed_payload"] * 10
    assert all(r["message"].startswith("payload.") for r in results[:-1])  # each names its field
    assert results[-1]["status"] == "applied"
    assert rows(hub, "SELECT COUNT(*) AS n FROM goods_receipts") == [{"n": 1}]
    assert replay(hub.db).same
