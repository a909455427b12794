"""The return workflow against a replica holding a small store; no hub involved."""

from __future__ import annotations

import pytest

from edge_app.errors import Refused
from edge_app.local.replica import Replica
from edge_app.workflows.returns import ReturnSession, find_order, search_orders
from edge_app.workflows.stock import look_up
from sync.kinds import Condition, Disposition
from tests.unit.floor_store import MILK, SOAP, ops, order, store


@pytest.fixture
def replica(tmp_path) -> Replica:
    r = store(tmp_path / "device")
    order(r, "o1", "W-1", [("MILK-1L", 2), ("SOAP-BAR", 1)], status="shipped", picked=True)
    order(r, "o2", "W-2", [("MILK-1L", 1)], status="released")
    return r


@pytest.mark.parametrize("raw", ["ORD:W-1", "w-1", "Customer W-1"])
def test_the_original_order_is_found_by_receipt_barcode_number_or_name(replica, raw):
    assert find_order(replica, raw).number == "W-1"


@pytest.mark.parametrize("raw, says", [("ORD:W-2", "Nothing of order W-2"), ("ORD:W-404", "No order W-404"), ("  ", "Nothing was scanned")])
def test_orders_that_cannot_come_back_are_refused(replica, raw, says):
    with pytest.raises(Refused, match=says):
        find_order(replica, raw)


def test_search_lists_only_orders_with_something_sold(replica):
    assert [o.number for o in search_orders(replica, "W-")] == ["W-1"]


def test_returning_more_than_was_sold_is_refused_across_choices(replica):
    session = ReturnSession(replica, "alex", find_order(replica, "W-1"), "associate")
    assert session.add_line(1, 1, Condition.NEW, Disposition.RESTOCK, "BIN:A-01-1").ok
    over = session.add_line(1, 2, Condition.OPENED, Disposition.QUARANTINE)
    assert not over.ok and "Only 1 × Whole milk 1 L can come back" in over.message
    assert session.returnable(1) == 1


@pytest.mark.parametrize("condition, disposition, bin_raw, says", [
    (Condition.DAMAGED, Disposition.RESTOCK, "BIN:A-01-1", "can't go back on the shelf"),
    (Condition.NEW, Disposition.RESTOCK, "", "Scan the label of the bin"),
    (Condition.NEW, Disposition.RESTOCK, MILK, "There is no bin"),
    (Condition.NEW, Disposition.RESTOCK, "BIN:Z-99", "There is no bin Z-99"),
])
def test_restocking_needs_a_sellable_unit_and_a_real_bin(replica, condition, disposition, bin_raw, says):
    session = ReturnSession(replica, "alex", find_order(replica, "W-1"), "associate")
    feedback = session.add_line(1, 1, condition, disposition, bin_raw)
    assert not feedback.ok and says in feedback.message and session.chosen == []


def test_submit_records_the_return_and_a_refund_request_per_line_in_one_go(replica):
    before = look_up(replica, MILK).on_hand
    session = ReturnSession(replica, "alex", find_order(replica, "W-1"), "associate")
    session.add_line(1, 1, Condition.OPENED, Disposition.RESTOCK, "BIN:A-01-1")
    session.add_line(1, 1, Condition.DEFECTIVE, Disposition.RETURN_TO_VENDOR)
    session.add_line(2, 1, Condition.DAMAGED, Disposition.DAMAGE)
    assert session.submit().ok
    kinds = [(k, p.get("qty")) for k, p, _a in ops(replica)]
    assert kinds == [("return.received", None), ("refund.requested", 2), ("refund.requested", 1)]
    assert look_up(replica, MILK).on_hand == before + 1  # only the restocked unit
    assert [line.returnable for line in find_order(replica, "W-1").lines] == [0, 0]


def test_a_return_without_receipt_is_refused_to_an_associate_and_sends_no_refund(replica):
    with pytest.raises(Refused, match="needs a supervisor"):
        ReturnSession(replica, "alex", None, "associate")
    session = ReturnSession(replica, "sam", None, "supervisor")
    assert not session.add_item("4000000000006", 1, Condition.NEW, Disposition.QUARANTINE).ok
    assert session.add_item(SOAP, 1, Condition.NEW, Disposition.QUARANTINE).ok
    assert session.submit().ok
    assert [k for k, _p, _a in ops(replica)] == ["return.received"]


def test_nothing_chosen_records_nothing(replica):
    assert not ReturnSession(replica, "alex", find_order(replica, "W-1"), "associate").submit().ok
    assert ops(replica) == []
