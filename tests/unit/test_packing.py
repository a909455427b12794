"""The packing workflow against a replica: find by tote or number, scan-verify
every unit, carton type, weight, close, label, hand to carrier, restart mid-carton."""

from __future__ import annotations

import pytest

from devices.gs1 import parse_sscc
from edge_app.errors import Refused
from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.workflows import wip
from edge_app.workflows.pack_labels import carton_label_png, packing_slip_png
from edge_app.workflows.packing import PackSession, find_order, orders_to_pack, orders_to_ship
from sync.models import OpResult, OpStatus
from tests.unit.floor_store import CHOC, COFFEE, MILK, SOAP, ops, order, store


@pytest.fixture
def replica(tmp_path):
    r = store(tmp_path / "device")
    order(r, "o1", "W-1", [("MILK-1L", 2), ("SOAP-BAR", 1)], status="picked", picked=True, tote="T1")
    order(r, "o2", "W-2", [("COFFEE-250", 1)], status="picking")
    order(r, "o3", "W-3", [("COFFEE-250", 1)], status="picked", picked=True, fulfilment="pickup")
    return r


def session(replica) -> PackSession:
    return PackSession(replica, find_order(replica, "TOTE:T1"), "K1")


def test_only_picked_ship_orders_wait_for_packing(replica):
    assert [o.number for o in orders_to_pack(replica)] == ["W-1"]


@pytest.mark.parametrize("scan", ["TOTE:T1", "tote:t1", "ORD:W-1", "W-1", " w-1 "])
def test_an_order_is_found_by_its_tote_or_its_number(replica, scan):
    assert find_order(replica, scan).id == "o1"


@pytest.mark.parametrize("scan, says", [
    ("TOTE:T9", "Tote T9 holds no order waiting to be packed"),
    ("W-2", "Order W-2 is picking, not waiting to be packed"),
    ("NOPE-1", "No order or tote has code NOPE-1"),
    ("TOTE:", "Scan the tote label or the order number"),
])
def test_an_unknown_tote_or_an_order_not_ready_is_refused_with_what_to_do(replica, scan, says):
    with pytest.raises(Refused, match=says):
        find_order(replica, scan)


def test_every_unit_is_scanned_into_the_carton(replica):
    s = session(replica)
    assert s.step == "scan"
    for code in (MILK, MILK, SOAP):
        assert s.scan(code).ok
    assert s.step == "carton"
    assert ops(replica) == []  # nothing recorded until the carton is closed


def test_an_over_scan_is_refused_and_changes_nothing(replica):
    s = session(replica)
    s.scan(MILK), s.scan(MILK)
    feedback = s.scan(MILK)
    assert not feedback.ok
    assert feedback.message == "Over-scan: all 2 × Whole milk 1 L are packed already. Take this one out of the carton."
    assert s.in_carton == {1: 2}


@pytest.mark.parametrize("scan, says", [
    (COFFEE, "Wrong item: Ground coffee is not in order W-1. Keep it out of the carton and give it to your supervisor."),
    ("4000000000006", "No item has barcode 4000000000006"),
    ("", "Nothing was scanned"),
])
def test_a_wrong_item_or_unknown_barcode_is_refused_and_changes_nothing(replica, scan, says):
    s = session(replica)
    feedback = s.scan(scan)
    assert not feedback.ok and says in feedback.message
    assert s.in_carton == {}


def test_closing_needs_units_and_a_carton_type(replica):
    s = session(replica)
    assert "empty" in s.close_carton().message
    s.scan(SOAP)
    assert not s.close_carton().ok and "carton type" in s.close_carton().message
    assert ops(replica) == []


def test_weight_is_computed_from_unit_weights_and_the_carton_tare(replica):
    s = session(replica)
    s.scan(MILK), s.scan(SOAP)
    s.choose_carton("S")
    assert s.computed_weight_g() == 180 + 1030 + 110


def test_closing_a_carton_records_one_fact_with_an_sscc_and_its_contents(replica):
    s = session(replica)
    for code in (MILK, MILK, SOAP):
        s.scan(code)
    s.choose_carton("M")
    assert s.step == "weigh"
    feedback = s.close_carton(weight_g=2500)
    assert feedback.ok and "2.50 kg" in feedback.message
    [(kind, payload, actor)] = ops(replica)
    assert kind == "pack.carton_closed" and actor == "K1"
    assert parse_sscc(payload["carton_id"]).sscc == payload["carton_id"]
    assert payload["contents"] == [{"line_no": 1, "sku": "MILK-1L", "qty": 2}, {"line_no": 2, "sku": "SOAP-BAR", "qty": 1}]
    assert s.step == "ship"
    assert orders_to_pack(replica) == [] and [o.number for o in orders_to_ship(replica)] == ["W-1"]


def test_an_order_may_go_in_two_cartons(replica):
    s = session(replica)
    s.scan(MILK), s.choose_carton("S"), s.close_carton()
    assert s.step == "scan" and [o.units_to_pack for o in orders_to_pack(replica)] == [2]
    s.scan(MILK), s.scan(SOAP), s.choose_carton("S"), s.close_carton()
    assert s.step == "ship" and len(ops(replica, "pack.carton_closed")) == 2


def test_label_and_packing_slip_render_as_png(replica):
    s = session(replica)
    s.scan(SOAP)
    s.choose_carton("ENV")
    s.close_carton()
    for png in (carton_label_png(replica, s.order, s.last_carton), packing_slip_png(replica, s.order, s.last_carton)):
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_handing_to_the_carrier_records_the_cartons_and_the_order_leaves_the_lists(replica):
    s = session(replica)
    assert not s.hand_to_carrier().ok  # nothing packed yet
    for code in (MILK, MILK, SOAP):
        s.scan(code)
    s.choose_carton("M")
    s.close_carton()
    carton = s.last_carton["carton_id"]
    feedback = s.hand_to_carrier("DHL")
    assert feedback.ok and feedback.step == "done"
    kind, payload, _actor = ops(replica)[-1]
    assert kind == "shipment.handed_to_carrier" and payload == {"order_id": "o1", "carrier": "DHL", "cartons": [carton]}
    assert orders_to_ship(replica) == []


def test_a_carton_the_hub_refused_no_longer_counts_as_packed(replica):
    s = session(replica)
    s.scan(SOAP), s.choose_carton("S"), s.close_carton()
    op = outbox.pending_ops(replica.conn, 10)[0]
    with replica.transaction() as conn:
        outbox.apply_results(conn, [OpResult(op_id=op.op_id, device_seq=op.device_seq, status=OpStatus.REJECTED,
                                             reason_code="out_of_scope", message="no")])
    assert [o.units_to_pack for o in orders_to_pack(replica)] == [3]


def test_a_restart_mid_carton_resumes_with_the_units_already_scanned(replica, tmp_path):
    s = session(replica)
    s.scan(MILK), s.choose_carton("S")
    wip.save(replica, "K1", "pack", s.state())
    replica.close()
    again = Replica(tmp_path / "device")
    restored = PackSession.restore(again, wip.load(again, "K1", "pack"), "K1")
    assert restored.in_carton == {1: 1} and restored.carton_type.code == "S"
    assert restored.scan(MILK).ok and not restored.scan(MILK).ok  # the third milk is an over-scan
    assert wip.latest(again, "K1") == "pack" and wip.latest(again, "P1") is None


def test_a_chocolate_that_is_in_no_line_is_a_wrong_item_even_in_the_right_bin(replica):
    assert "Wrong item" in session(replica).scan(CHOC).message


def test_an_order_picked_here_offline_can_be_packed_before_the_hub_has_heard_of_it(tmp_path):
    from edge_app.workflows.picking import PickSession

    r = store(tmp_path / "offline")
    order(r, "o9", "W-9", [("SOAP-BAR", 1)], status="released")
    assert orders_to_pack(r) == []
    picking = PickSession(r, "o9", "P1")
    picking.scan("BIN:A-03-1"), picking.scan(SOAP)
    assert [o.number for o in orders_to_pack(r)] == ["W-9"]  # the hub still says released
    s = PackSession(r, find_order(r, "W-9"), "K1")
    s.scan(SOAP), s.choose_carton("ENV"), s.close_carton()
    assert s.step == "ship" and [k for k, _p, _a in ops(r)] == ["pick.confirmed", "pack.carton_closed"]


def test_a_weight_typed_with_twenty_digits_is_refused_and_nothing_is_recorded(replica):
    s = session(replica)
    s.scan(MILK)
    s.choose_carton("M")
    refused = s.close_carton(weight_g=10**20)
    assert not refused.ok and f"you typed {10**20} g" in refused.message and ops(replica) == []


def test_an_order_number_no_barcode_can_carry_gives_a_label_error_not_a_crash(replica):
    from devices.errors import DeviceError
    from edge_app.workflows.pack_labels import carton_label_png
    from tests.unit.floor_store import order as put_order

    put_order(replica, "o7", "#1001", [("MILK-1L", 1)], status="picked", picked=True)
    s = PackSession(replica, find_order(replica, "#1001"), "K1")
    s.scan(MILK), s.choose_carton("S")
    assert s.close_carton(weight_g=1200).ok  # the carton is a fact whatever its number
    with pytest.raises(DeviceError, match="#1001"):  # the screen shows this sentence (edge_app.ui.screens.pack)
        carton_label_png(replica, s.order, s.last_carton)
