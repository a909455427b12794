"""Pickups, returns, counts, moves and tasks through the real hub (both database
backends) and real device replicas; every scenario ends with the log replaying
to the same state."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from edge_app.workflows.picking import PickSession
from edge_app.workflows.pickups import PickupSession, extend_pickup, find_pickup, ready_pickups
from edge_app.workflows.returns import ReturnSession, find_order
from edge_app.workflows.signin import sign_in_pin
from edge_app.workflows.stock import CountSession, MoveSession, look_up
from edge_app.workflows.tasks import mark_done, open_tasks
from hub.actions import sweep_pickups as sweep
from hub.domain.pickups import pickup_code
from hub.verify import replay
from sync.kinds import Condition, CountReason, Disposition, RefusalReason
from tests.integration.test_pick_slice import BARCODE
from tests.walks import take_line

pytestmark = pytest.mark.anyio


def rows_payloads(hub, order_id: str) -> list[str]:
    """The logged `order.accepted` payloads of this order."""
    return [r["payload"] for r in rows(hub, "SELECT payload FROM op_log WHERE kind = 'order.accepted'")
            if json.loads(r["payload"])["id"] == order_id]


def rows(hub, sql: str, **params) -> list:
    with hub.db.read() as conn:
        return conn.execute(text(sql), params).mappings().all()


def order_by_number(hub, number: str) -> dict:
    return dict(rows(hub, "SELECT * FROM orders WHERE number = :n", n=number)[0])


def pick_all(device, order_id: str) -> None:
    session = PickSession(device.replica, order_id, "pat")
    while session.current is not None:
        assert take_line(session).ok


def assert_replays(hub) -> None:
    verdict = replay(hub.db)
    assert verdict.same, verdict.different_answers


async def picked_pickup(hub, tmp_path, number: str = "W-1001"):
    """An associate's device that sees `number` picked and ready for pickup."""
    device = await hub.device(tmp_path / "counter", role="associate")
    await device.sync()
    pick_all(device, order_by_number(hub, number)["id"])
    await device.sync()
    return device, order_by_number(hub, number)


async def test_pickup_code_is_assigned_at_acceptance_and_reaches_the_device(hub, tmp_path):
    order = order_by_number(hub, "W-1001")
    # Drawn at random by the hub and logged with the order, not derived from its id.
    assert order["pickup_code"] != pickup_code(order["id"]) and len(order["pickup_code"]) == 6
    logged = [json.loads(p)["pickup_code"] for p in rows_payloads(hub, order["id"])]
    assert logged == [order["pickup_code"]]
    assert order["pickup_by"] > order["promised_by"]
    assert order_by_number(hub, "W-1002")["pickup_code"] is None  # shipped orders have none
    device, _ = await picked_pickup(hub, tmp_path)
    assert [o.number for o in ready_pickups(device.replica)] == ["W-1001"]


async def test_customer_qr_hands_over_all_but_a_damaged_unit_which_goes_to_quarantine_not_the_shelf(hub, tmp_path):
    device, order = await picked_pickup(hub, tmp_path)
    found, verified = find_pickup(device.replica, f"PICKUP:W-1001:{order['pickup_code']}")
    assert verified and found.held == 6
    choc = next(line for line in found.lines if line.sku == "CHOC-DARK")
    session = PickupSession(device.replica, found.id, "alex", code_verified=True)
    feedback = session.hand_over(refused={choc.line_no: (1, RefusalReason.DAMAGED)})
    assert feedback.ok and "Handed over 5 units" in feedback.message and "1 damaged: take it to damage/quarantine" in feedback.message
    assert ready_pickups(device.replica) == []  # the local view knows before the hub does
    report = await device.sync()
    assert report.rejected == []
    hub_order = order_by_number(hub, "W-1001")
    assert hub_order["status"] == "handed_over"
    lines = {r["sku"]: r for r in rows(hub, "SELECT * FROM order_lines WHERE order_id = :o", o=order["id"])}
    assert (lines["CHOC-DARK"]["qty_handed_over"], lines["CHOC-DARK"]["qty_refused"]) == (2, 1)
    tasks = open_tasks(device.replica, "associate")
    assert [(t.kind, t.details["qty"]) for t in tasks] == [("quarantine", 1)] and "not back to the shelf" in tasks[0].sentence
    on_hand = rows(hub, "SELECT SUM(on_hand) AS n FROM stock WHERE sku = 'CHOC-DARK'")[0]["n"]
    assert mark_done(device.replica, tasks[0].id, "alex", "associate").ok
    await device.sync()
    assert rows(hub, "SELECT SUM(on_hand) AS n FROM stock WHERE sku = 'CHOC-DARK'")[0]["n"] == on_hand  # not back on hand
    assert_replays(hub)


async def test_a_wrong_pickup_code_is_refused_and_records_nothing(hub, tmp_path):
    device, order = await picked_pickup(hub, tmp_path)
    seq_before = device.replica.get_meta("next_seq")
    wrong = "ZZZZ22" if order["pickup_code"] != "ZZZZ22" else "ZZZZ33"
    with pytest.raises(Exception, match="does not match order W-1001"):
        find_pickup(device.replica, f"PICKUP:W-1001:{wrong}")
    session = PickupSession(device.replica, order["id"], "alex")
    assert not session.hand_over().ok  # no code checked yet
    assert not session.verify(wrong).ok and not session.code_verified
    assert device.replica.get_meta("next_seq") == seq_before


async def test_no_show_is_expired_by_the_sweep_and_its_units_come_back_through_put_back_tasks(hub, tmp_path):
    device, order = await picked_pickup(hub, tmp_path, "Q-3001")
    when = datetime.fromisoformat(order["pickup_by"])
    with hub.db.write() as conn:
        assert sweep(conn, when - timedelta(minutes=1)) == []
        assert sweep(conn, when + timedelta(minutes=1)) == ["Q-3001"]
    assert order_by_number(hub, "Q-3001")["status"] == "expired"
    await device.sync()
    assert ready_pickups(device.replica) == []
    tasks = open_tasks(device.replica, "associate")
    assert sorted(t.details["sku"] for t in tasks) == ["RICE-BAS", "TOM-CAN"]
    tom = next(t for t in tasks if t.details["sku"] == "TOM-CAN")
    bin_code = tom.details["bin"]
    before = look_up(device.replica, BARCODE["TOM-CAN"]).on_hand
    assert mark_done(device.replica, tom.id, "alex", "associate").ok
    assert look_up(device.replica, BARCODE["TOM-CAN"]).on_hand == before + 3
    assert [t.id for t in open_tasks(device.replica, "associate")] != [] and tom.id not in [t.id for t in open_tasks(device.replica)]
    await device.sync()
    assert rows(hub, "SELECT status FROM tasks WHERE id = :i", i=tom.id)[0]["status"] == "done"
    moves = rows(hub, "SELECT bin, qty FROM movements WHERE reason = 'put_back'")
    assert [(m["bin"], m["qty"]) for m in moves] == [(bin_code, 3)]
    assert look_up(device.replica, BARCODE["TOM-CAN"]).on_hand == before + 3  # same after the hub confirmed it
    assert_replays(hub)


async def test_handover_recorded_offline_after_the_hub_expired_the_order_stands_and_withdraws_put_backs(hub, tmp_path):
    device, order = await picked_pickup(hub, tmp_path, "Q-3001")
    session = PickupSession(device.replica, order["id"], "alex")
    assert session.verify(order["pickup_code"].lower()).ok
    assert session.hand_over().ok  # offline: the hub expires it meanwhile
    with hub.db.write() as conn:
        sweep(conn, datetime.fromisoformat(order["pickup_by"]) + timedelta(days=1))
    assert (await device.sync()).rejected == []
    assert order_by_number(hub, "Q-3001")["status"] == "handed_over"
    assert [r["status"] for r in rows(hub, "SELECT status FROM tasks WHERE order_id = :o", o=order["id"])] == ["cancelled", "cancelled"]
    assert "handover_vs_expiry" in [r["rule"] for r in rows(hub, "SELECT rule FROM conflicts")]
    assert open_tasks(device.replica) == []
    assert_replays(hub)


async def test_only_a_supervisor_extends_a_pickup_and_the_hub_refuses_an_earlier_date(hub, tmp_path):
    device, order = await picked_pickup(hub, tmp_path)
    later = datetime.fromisoformat(order["pickup_by"]) + timedelta(days=2)
    assert "Only a supervisor" in extend_pickup(device.replica, order["id"], later, "alex", "associate").message
    sam = sign_in_pin(device.replica, "S1", "999999")
    assert extend_pickup(device.replica, order["id"], later, sam.operator_id, sam.role).ok
    assert ready_pickups(device.replica)[0].pickup_by == later.astimezone(timezone.utc).isoformat()
    assert (await device.sync()).rejected == []
    assert datetime.fromisoformat(order_by_number(hub, "W-1001")["pickup_by"]) == later
    # A second device, not yet synced, asks for less: the hub refuses and says why.
    other = await hub.device(tmp_path / "other", role="supervisor")
    await other.sync()
    other.replica.set_meta("cursor", "0")
    with other.replica.transaction() as conn:
        conn.execute("UPDATE orders SET pickup_by = ? WHERE id = ?", (order["pickup_by"], order["id"]))
    sign_in_pin(other.replica, "S1", "999999")
    assert extend_pickup(other.replica, order["id"], later - timedelta(hours=1), "S1", "supervisor").ok
    report = await other.sync()
    assert [r["reason_code"] for r in report.rejected] == ["not_later"]
    assert_replays(hub)


async def test_return_with_receipt_restocks_refunds_and_refuses_more_than_was_sold(hub, tmp_path):
    device = await hub.device(tmp_path / "counter", role="associate")
    await device.sync()
    pick_all(device, order_by_number(hub, "W-1002")["id"])  # a shipped order: picked is sold
    await device.sync()
    order = find_order(device.replica, "ORD:W-1002")
    oil = next(line for line in order.lines if line.sku == "OLIVE-OIL")
    session = ReturnSession(device.replica, "alex", order, "associate")
    over = session.add_line(oil.line_no, 2, Condition.NEW, Disposition.RESTOCK, "BIN:A-01-1")
    assert not over.ok and "Only 1 × Olive oil 750 ml can come back" in over.message
    damaged = session.add_line(oil.line_no, 1, Condition.DAMAGED, Disposition.RESTOCK, "BIN:A-01-1")
    assert not damaged.ok and "can't go back on the shelf" in damaged.message
    assert session.add_line(oil.line_no, 1, Condition.OPENED, Disposition.RESTOCK, "BIN:A-01-1").ok
    assert session.submit().ok
    assert find_order(device.replica, "W-1002").lines[oil.line_no - 1].returnable == 0
    assert (await device.sync()).rejected == []
    line = rows(hub, "SELECT * FROM order_lines WHERE order_id = :o AND line_no = :n", o=order.id, n=oil.line_no)[0]
    assert (line["qty_returned"], line["qty_refunded"]) == (1, 1)
    assert [(m["bin"], m["qty"]) for m in rows(hub, "SELECT * FROM movements WHERE reason = 'return'")] == [("A-01-1", 1)]
    assert_replays(hub)


async def test_a_return_without_receipt_is_for_supervisors_and_sends_no_refund(hub, tmp_path):
    device = await hub.device(tmp_path / "counter", role="associate")
    await device.sync()
    with pytest.raises(Exception, match="needs a supervisor"):
        ReturnSession(device.replica, "alex", None, "associate")
    sign_in_pin(device.replica, "S1", "999999")
    session = ReturnSession(device.replica, "S1", None, "supervisor")
    assert session.add_item(BARCODE["SOAP-BAR"], 2, Condition.DEFECTIVE, Disposition.RETURN_TO_VENDOR).ok
    assert session.submit().ok
    assert (await device.sync()).rejected == []
    kinds = [r["kind"] for r in rows(hub, "SELECT kind FROM op_log WHERE device_id <> 'hub'")]
    assert kinds == ["return.received"]
    assert_replays(hub)


async def test_blind_count_far_off_is_recounted_and_reasoned_then_adjusts_the_hub(hub, tmp_path):
    device = await hub.device(tmp_path / "counter", role="associate")
    await device.sync()
    item = look_up(device.replica, BARCODE["MILK-1L"])
    (bin_code, expected), = item.bins
    count = CountSession(device.replica, "alex")
    assert count.scan(f"BIN:{bin_code}").ok and count.scan(BARCODE["MILK-1L"]).ok
    first = count.submit(expected - 5)
    assert not first.ok and count.step == "recount" and str(expected) not in first.message
    assert not count.submit(expected - 4).ok and count.step == "reason"
    assert count.reason(CountReason.DAMAGED).ok
    assert look_up(device.replica, BARCODE["MILK-1L"]).on_hand == expected - 4
    assert (await device.sync()).rejected == []
    moves = rows(hub, "SELECT qty, reason FROM movements WHERE bin = :b AND sku = 'MILK-1L' AND reason LIKE 'count%'", b=bin_code)
    assert [(m["qty"], m["reason"]) for m in moves] == [(-4, "count:damaged")]
    assert [t.kind for t in open_tasks(device.replica, "supervisor")] == ["recount"]
    assert_replays(hub)


async def test_moving_stock_writes_two_movements_and_the_bins_follow(hub, tmp_path):
    device = await hub.device(tmp_path / "counter", role="associate")
    await device.sync()
    (from_bin, held), = look_up(device.replica, BARCODE["OATS-500"]).bins
    to_bin = "A-03-2" if from_bin != "A-03-2" else "A-03-1"
    move = MoveSession(device.replica, "alex")
    assert move.scan(f"BIN:{from_bin}").ok and move.scan(BARCODE["OATS-500"]).ok
    assert not move.quantity(held + 1).ok and move.step == "qty"
    assert move.quantity(4).ok
    assert not move.scan(f"BIN:{from_bin}").ok  # the same bin again
    assert move.scan(f"BIN:{to_bin}").ok
    assert (await device.sync()).rejected == []
    moved = rows(hub, "SELECT bin, qty FROM movements WHERE reason = 'move' ORDER BY id")
    assert [(m["bin"], m["qty"]) for m in moved] == [(from_bin, -4), (to_bin, 4)]
    assert dict(look_up(device.replica, BARCODE["OATS-500"]).bins) == {from_bin: held - 4, to_bin: 4}
    assert_replays(hub)


async def test_supervisor_tasks_are_refused_to_associates_and_closed_by_a_supervisor(hub, tmp_path):
    device = await hub.device(tmp_path / "counter", role="associate")
    await device.sync()
    count = CountSession(device.replica, "alex")
    (bin_code, expected), = look_up(device.replica, BARCODE["COFFEE-250"]).bins
    count.scan(f"BIN:{bin_code}"), count.scan(BARCODE["COFFEE-250"]), count.submit(expected + 9), count.submit(expected + 9)
    assert count.reason(CountReason.FOUND).ok
    await device.sync()
    recount, = open_tasks(device.replica, "associate")
    refused = mark_done(device.replica, recount.id, "alex", "associate")
    assert not refused.ok and "for a supervisor" in refused.message
    sign_in_pin(device.replica, "S1", "999999")
    assert mark_done(device.replica, recount.id, "S1", "supervisor").ok
    await device.sync()
    assert rows(hub, "SELECT status FROM tasks WHERE id = :i", i=recount.id)[0]["status"] == "done"
    assert open_tasks(device.replica, "supervisor") == []
    assert_replays(hub)


async def test_backroom_hub_sweep_expires_due_pickups_and_says_which(hub, hub_db_url, tmp_path):
    from click.testing import CliRunner

    from hub.cli import hub as hub_cli

    _device, order = await picked_pickup(hub, tmp_path, "Q-3001")
    early = CliRunner().invoke(hub_cli, ["sweep", "--db", hub_db_url, "--now", order["promised_by"]])
    assert early.exit_code == 0 and "expired 0 pickup orders" in early.output
    late = (datetime.fromisoformat(order["pickup_by"]) + timedelta(hours=1)).isoformat()
    done = CliRunner().invoke(hub_cli, ["sweep", "--db", hub_db_url, "--now", late])
    assert done.exit_code == 0 and "expired 1 pickup order: Q-3001" in done.output, done.output
    assert order_by_number(hub, "Q-3001")["status"] == "expired"
    bad = CliRunner().invoke(hub_cli, ["sweep", "--db", hub_db_url, "--now", "tomorrow"])
    assert bad.exit_code != 0 and "not an ISO 8601 time" in bad.output
