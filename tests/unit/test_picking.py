"""The pick workflow against a replica holding a small store; no hub involved."""

from __future__ import annotations

import pytest

from edge_app.local.hub_state import apply_change
from edge_app.local.replica import Replica
from edge_app.workflows.pick_list import open_orders, pick_list
from edge_app.workflows.picking import PickSession
from sync.kinds import ShortReason
from sync.models import Change

MILK, COFFEE, SOAP = "4006381333931", "4006381333955", "4006381334013"


def change(seq, entity, key, data):
    return Change(seq=seq, entity=entity, key=key, data=data)


@pytest.fixture
def replica(tmp_path) -> Replica:
    r = Replica(tmp_path / "device")
    r.set_meta("device_id", "dev-1")
    with r.transaction() as conn:
        for seq, (sku, name, code) in enumerate([("MILK-1L", "Whole milk 1 L", MILK), ("COFFEE-250", "Ground coffee", COFFEE), ("SOAP-BAR", "Soap bar", SOAP)]):
            apply_change(conn, change(seq, "item", sku, {"sku": sku, "name": name, "unit_weight_g": 100, "barcodes": [code]}))
        for code, seq in (("A-01-1", 11), ("A-02-1", 21), ("A-03-1", 31)):
            apply_change(conn, change(10, "bin", code, {"code": code, "seq": seq}))
        apply_change(conn, change(20, "order", "o1", {
            "id": "o1", "number": "W-1", "channel": "web", "fulfilment": "pickup", "promised_by": "2026-11-24T10:00:00+00:00",
            "customer_name": "Ana", "location": "S1", "status": "released", "created_at": "2026-11-24T06:00:00+00:00",
            "lines": [
                {"line_no": 1, "sku": "COFFEE-250", "qty": 1, "pick_bin": "A-02-1", "qty_picked": 0, "qty_short": 0, "short_reason": None},
                {"line_no": 2, "sku": "MILK-1L", "qty": 3, "pick_bin": "A-01-1", "qty_picked": 0, "qty_short": 0, "short_reason": None},
            ],
        }))
        for bin_code, sku in (("A-01-1", "MILK-1L"), ("A-02-1", "COFFEE-250")):
            apply_change(conn, change(30, "stock", f"{bin_code}|{sku}", {"location": "S1", "bin": bin_code, "sku": sku, "on_hand": 10}))
    return r


def outbox_size(replica) -> int:
    return replica.query_one("SELECT COUNT(*) AS n FROM outbox")["n"]


def test_pick_list_walks_bins_in_pick_path_order(replica):
    assert [line.bin for line in pick_list(replica, "o1")] == ["A-01-1", "A-02-1"]


def test_session_starts_at_the_first_bin_on_the_path(replica):
    session = PickSession(replica, "o1", "ana")
    assert session.current.sku == "MILK-1L" and session.step == "bin"
    assert "A-01-1" in session.prompt()


@pytest.mark.parametrize("scan, says", [
    ("BIN:A-02-1", "Wrong bin: you scanned A-02-1. Go to bin A-01-1."),
    (MILK, "That is an item. Scan the label of bin A-01-1 first."),
    ("", "Nothing was scanned"),
])
def test_wrong_bin_is_refused_and_changes_nothing(replica, scan, says):
    session = PickSession(replica, "o1", "ana")
    feedback = session.scan(scan)
    assert not feedback.ok and says in feedback.message
    assert session.step == "bin" and outbox_size(replica) == 0


def test_wrong_item_and_unknown_barcode_are_refused_with_what_to_do(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1")
    wrong = session.scan(COFFEE)
    unknown = session.scan("0000000000000")
    assert not wrong.ok and "that is Ground coffee. This line needs Whole milk 1 L" in wrong.message
    assert not unknown.ok and "No item has barcode 0000000000000" in unknown.message
    assert outbox_size(replica) == 0 and session.scanned_units == 0


def test_typed_bin_code_without_prefix_is_accepted(replica):
    session = PickSession(replica, "o1", "ana")
    assert session.scan("a-01-1").ok


def test_scanning_each_unit_confirms_the_line_when_complete(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1")
    session.scan(MILK), session.scan(MILK)
    assert outbox_size(replica) == 0
    done = session.scan(MILK)
    assert done.ok and "Picked 3" in done.message
    assert session.current.sku == "COFFEE-250" and session.step == "bin"
    op = replica.query_one("SELECT kind, payload FROM outbox")
    assert op["kind"] == "pick.confirmed" and '"qty": 3' in op["payload"]


def test_count_for_multiples_and_over_quantity_refused(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1")
    session.scan(MILK)
    too_many = session.confirm(5)
    assert not too_many.ok and too_many.message.startswith("Only 3 more needed on this line; you typed 5.")
    assert outbox_size(replica) == 0
    assert session.confirm(2).ok
    line = {l.line_no: l for l in pick_list(replica, "o1")}[2]
    assert line.picked == 2 and line.open_qty == 1


def test_local_view_includes_pending_picks_and_stock_moves(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1"), session.scan(MILK)
    session.confirm(3)
    on_hand = replica.query_one("SELECT on_hand FROM stock_now WHERE bin = 'A-01-1' AND sku = 'MILK-1L'")["on_hand"]
    assert on_hand == 7
    assert replica.query_one("SELECT on_hand FROM stock WHERE bin = 'A-01-1'")["on_hand"] == 10  # hub state untouched


def test_short_pick_records_picked_units_and_the_shortfall_with_reason(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1")
    session.scan(MILK)
    feedback = session.short(ShortReason.EMPTY_BIN)
    assert feedback.ok and "Reported 2" in feedback.message
    ops = [(r["device_seq"], r["kind"]) for r in replica.query("SELECT device_seq, kind FROM outbox ORDER BY device_seq")]
    assert ops == [(1, "pick.confirmed"), (2, "pick.shorted")]


def test_skipped_line_comes_back_after_the_others(replica):
    session = PickSession(replica, "o1", "ana")
    session.skip()
    assert session.current.sku == "COFFEE-250"
    session.scan("BIN:A-02-1")
    session.scan(COFFEE)
    assert session.current.sku == "MILK-1L"


def test_finished_order_leaves_the_open_list(replica):
    assert [o.number for o in open_orders(replica)] == ["W-1"]
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1"), session.scan(MILK), session.confirm(3)
    session.scan("BIN:A-02-1"), session.scan(COFFEE)
    assert session.step == "done" and open_orders(replica) == []


def test_an_action_that_fails_midway_leaves_no_op_and_no_effect(replica, monkeypatch):
    import edge_app.local.outbox as outbox

    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1"), session.scan(MILK)

    real_set_meta, calls = outbox._set_meta, []

    def power_cut_after_the_op_row(conn, key, value):
        calls.append(key)
        if key == "next_seq":  # written after the outbox row, before the effects
            raise OSError("power cut")
        real_set_meta(conn, key, value)

    monkeypatch.setattr(outbox, "_set_meta", power_cut_after_the_op_row)
    with pytest.raises(OSError):
        session.confirm(2)
    assert "next_seq" in calls
    assert outbox_size(replica) == 0
    assert replica.query_one("SELECT COUNT(*) AS n FROM line_effects")["n"] == 0
    assert replica.get_meta("next_seq") is None  # the sequence did not advance either


def test_committed_action_survives_reopening_the_replica(replica, tmp_path):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1"), session.scan(MILK)
    session.confirm(1)
    replica.close()
    reopened = Replica(tmp_path / "device")
    assert reopened.query_one("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")["n"] == 1
    assert {l.line_no: l.picked for l in pick_list(reopened, "o1")}[2] == 1


@pytest.mark.parametrize("scans", [[], ["BIN:A-01-1"]], ids=["before the bin", "before the item"])
def test_a_typed_count_is_refused_until_the_bin_and_one_unit_are_scanned(replica, scans):
    session = PickSession(replica, "o1", "ana")
    for code in scans:
        session.scan(code)
    refused = session.confirm(4)
    assert not refused.ok and "then you can type" in refused.message
    assert outbox_size(replica) == 0 and not session.counting
    session.scan("BIN:A-01-1"), session.scan(MILK)
    assert session.counting and session.confirm(3).ok


def test_a_short_counting_units_never_scanned_is_refused(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1")
    refused = session.short(ShortReason.EMPTY_BIN, picked_qty=2)
    assert not refused.ok and outbox_size(replica) == 0
    assert session.short(ShortReason.EMPTY_BIN, picked_qty=0).ok  # the whole line short needs no unit


def test_skip_with_units_in_hand_is_refused_and_keeps_them(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1"), session.scan(MILK)
    refused = session.skip()
    assert not refused.ok and "You hold 1 × Whole milk 1 L" in refused.message
    assert session.current.sku == "MILK-1L" and session.scanned_units == 1 and outbox_size(replica) == 0


def test_a_typed_sku_is_read_as_the_item_on_the_pick_walk(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1")
    assert session.scan("milk-1l").ok and session.scanned_units == 1


def test_a_gs1_label_with_the_item_gtin_is_read_as_the_item(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1")
    assert session.scan("]C101" + "0" + MILK + "10LOT7").ok


def test_the_next_line_in_the_same_bin_is_the_same_stop(tmp_path):
    from tests.unit.floor_store import CHOC, SOAP, order, store

    replica = store(tmp_path / "d")  # soap and chocolate both live in A-03-1
    order(replica, "o9", "W-9", [("SOAP-BAR", 1), ("CHOC-DARK", 2)])
    session = PickSession(replica, "o9", "ana")
    session.scan("BIN:A-03-1")
    first = session.scan(SOAP)
    assert first.ok and session.step == "item" and "Same bin A-03-1" in first.message
    assert session.scan(CHOC).ok and session.step == "count"  # not refused as a wrong item, no second bin scan


def test_a_walk_resumes_where_it_was_saved(replica):
    session = PickSession(replica, "o1", "ana")
    session.scan("BIN:A-01-1"), session.scan(MILK)
    again = PickSession.restore(replica, session.state(), "ana")
    assert again.step == "count" and again.scanned_units == 1 and again.scan(MILK).ok
