"""Goods receipt on the floor against a replica; no hub involved."""

from __future__ import annotations

from datetime import date

import pytest

from edge_app.local.replica import Replica
from edge_app.workflows.receiving import ReceiveSession
from edge_app.workflows.stock import look_up, on_hand
from sync.kinds import parse_payload
from tests.unit.floor_store import MILK, SOAP, ops, store


@pytest.fixture
def replica(tmp_path) -> Replica:
    return store(tmp_path / "device")


def receiving(replica, *scans: str) -> ReceiveSession:
    session = ReceiveSession(replica, "alex")
    for raw in ("BIN:A-01-1", *scans):
        assert session.scan(raw).ok, session.prompt()
    return session


def test_scan_bin_item_quantity_and_confirm_records_the_receipt_and_its_on_hand_at_once(replica):
    session = receiving(replica, MILK)
    assert session.step == "qty" and "Whole milk" in session.prompt()
    assert session.quantity(12).ok and session.step == "confirm"
    assert ops(replica) == []  # nothing is sent before the person confirms
    said = session.confirm()
    assert said.ok and "Received 12 × Whole milk 1 L into bin A-01-1 (now 32 there)" in said.message
    assert ops(replica) == [("goods.received", {"bin": "A-01-1", "sku": "MILK-1L", "qty": 12, "gtin": "04006381333931",
                                                "batch": None, "expiry": None, "reference": ""}, "alex")]
    assert on_hand(replica, "A-01-1", "MILK-1L") == 32 and look_up(replica, MILK).on_hand == 32
    assert session.last is not None and (session.last.qty, session.last.on_hand) == (12, 32)
    assert session.step == "item" and session.bin == "A-01-1"  # the next item goes into the same bin


def test_the_payload_the_workflow_writes_is_what_the_hub_reads():
    # The op's own model, as the hub parses it: a receipt's fields and bounds.
    parsed = parse_payload("goods.received", 2, {"bin": "A-01-1", "sku": "MILK-1L", "qty": 3, "gtin": "04006381333931",
                                                 "batch": "L7", "expiry": "2027-12-31", "reference": "DN-1"})
    assert parsed.expiry == date(2027, 12, 31)


def test_a_gs1_label_brings_its_batch_and_expiry_and_the_delivery_note_goes_with_every_item(replica):
    session = ReceiveSession(replica, "alex")
    assert session.set_reference(" DN-2026-0042 ").ok
    label = "(01)04006381333931(17)271231(10)LOT7"
    assert session.scan("BIN:A-02-1").ok
    said = session.scan(label)
    assert said.ok and "batch LOT7" in said.message and "2027-12-31" in said.message
    assert session.quantity(6).ok and session.confirm().ok
    assert session.scan(SOAP).ok and session.quantity(1).ok and session.confirm().ok
    (_k, first, _a), (_k2, second, _a2) = ops(replica)
    assert (first["sku"], first["batch"], first["expiry"], first["reference"]) == ("MILK-1L", "LOT7", "2027-12-31", "DN-2026-0042")
    assert (second["sku"], second["batch"], second["reference"]) == ("SOAP-BAR", None, "DN-2026-0042")
    for _kind, payload, _actor in ops(replica):
        parse_payload("goods.received", 2, payload)  # every payload written is one the hub accepts


@pytest.mark.parametrize("step_scans, raw, says", [
    ((), "BIN:Z-99-9", "There is no bin Z-99-9 here"),
    ((), "A-09", "There is no bin A-09 here"),
    (("BIN:A-01-1",), "4000000000006", "No item here has barcode 4000000000006. Put it aside and tell a supervisor"),
    (("BIN:A-01-1",), "5901234123458", "Invalid GTIN check digit"),
    (("BIN:A-01-1",), "", "could not be read"),
])
def test_an_unknown_bin_or_barcode_is_refused_with_what_to_do_and_nothing_is_sent(replica, step_scans, raw, says):
    session = ReceiveSession(replica, "alex")
    for scan in step_scans:
        assert session.scan(scan).ok
    said = session.scan(raw)
    assert not said.ok and says in said.message
    assert ops(replica) == []


@pytest.mark.parametrize("qty, says", [(None, "1 or more"), (0, "1 or more"), (-3, "1 or more"),
                                       (100_001, "more than one receipt takes")])
def test_a_quantity_out_of_bounds_is_refused_and_the_item_stays(replica, qty, says):
    session = receiving(replica, MILK)
    said = session.quantity(qty)
    assert not said.ok and says in said.message and session.step == "qty"
    assert ops(replica) == []


def test_cancel_forgets_the_item_and_a_bin_label_changes_the_bin(replica):
    session = receiving(replica, MILK)
    assert session.quantity(4).ok
    assert not session.scan("BIN:A-02-1").ok  # confirm or cancel first
    assert session.cancel().ok and session.step == "item" and ops(replica) == []
    assert session.scan("BIN:A-02-1").ok and session.bin == "A-02-1"
    assert not session.confirm().ok  # nothing to confirm


def test_a_delivery_note_with_a_control_character_is_refused(replica):
    session = ReceiveSession(replica, "alex")
    assert not session.set_reference("DN\x00-1").ok and session.reference == ""
    assert not session.set_reference("x" * 65).ok
