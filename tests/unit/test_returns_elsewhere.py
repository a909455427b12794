"""Returns of another location's order on a replica that does not hold it: the hub
asked through a fake `ask`, or the return code read offline; no hub involved."""

from __future__ import annotations

import pytest

from edge_app.errors import HubUnreachable, Refused, UnknownBarcode
from edge_app.local.replica import Replica
from edge_app.workflows.returns import ReturnSession
from edge_app.workflows.returns_elsewhere import find_any_order, lookup_query, where_words
from sync.kinds import Condition, Disposition
from sync.return_codes import ReturnCode, ReturnCodeLine, make_return_code
from tests.unit.floor_store import ops, order, store

CODE = make_return_code(b"hub key" * 4, ReturnCode("k1", "web-9", "W-9", "WH-1", (ReturnCodeLine(1, "MILK-1L", 2),)))
ANSWER = {"order_id": "web-9", "number": "W-9", "location": "WH-1", "fulfilment": "ship", "status": "shipped",
          "lines": [{"line_no": 1, "sku": "MILK-1L", "name": "Whole milk 1 L", "sold": 2, "returned": 1, "refunded": 1}]}


@pytest.fixture
def replica(tmp_path) -> Replica:
    r = store(tmp_path / "device")
    order(r, "o1", "W-1", [("MILK-1L", 2)], status="shipped", picked=True)
    return r


def offline(_query):
    raise HubUnreachable("no network")


def test_an_order_on_this_device_never_asks_the_hub(replica):
    def ask(_query):
        raise AssertionError("asked the hub for an order this device holds")

    assert find_any_order(replica, "ORD:W-1", ask).source == "device"


def test_the_hub_is_asked_by_number_or_return_code_and_says_who_shipped_it(replica):
    asked = []
    found = find_any_order(replica, "ORD:W-9", lambda q: asked.append(q) or ANSWER)
    assert asked == [{"number": "ORD:W-9"}] and lookup_query(f" {CODE} ") == {"return_code": CODE}
    assert (found.source, found.shipped_by, found.lines[0].returnable) == ("hub", "WH-1", 1)
    assert where_words(replica, found) == "Order W-9 was shipped by WH-1; the return is recorded here at S1. Choose what comes back."


def test_offline_the_return_code_gives_the_lines_and_travels_with_the_op(replica):
    found = find_any_order(replica, CODE, offline)
    assert (found.source, found.shipped_by, found.lines[0].name, found.lines[0].sold) == ("return_code", "WH-1", "Whole milk 1 L", 2)
    session = ReturnSession(replica, "alex", found, "associate")
    assert session.add_line(1, 2, Condition.OPENED, Disposition.QUARANTINE).ok and session.submit().ok
    (kind, back, _), (_, refund, _) = ops(replica)
    assert kind == "return.received" and back["return_code"] == CODE and back["order_id"] == "web-9"
    assert refund == {"order_id": "web-9", "line_no": 1, "qty": 2, "return_id": back["return_id"]}
    assert find_any_order(replica, CODE, offline).lines[0].returnable == 0  # this device's own return counted


def test_a_return_looked_up_online_sends_no_code_and_a_same_store_refund_stays_as_it_was(replica):
    session = ReturnSession(replica, "alex", find_any_order(replica, "W-9", lambda q: ANSWER), "associate")
    assert session.add_line(1, 1, Condition.NEW, Disposition.QUARANTINE).ok and session.submit().ok
    session = ReturnSession(replica, "alex", find_any_order(replica, "W-1", None), "associate")
    assert session.add_line(1, 1, Condition.NEW, Disposition.QUARANTINE).ok and session.submit().ok
    returns, refunds = ops(replica, "return.received"), ops(replica, "refund.requested")
    assert ["return_code" in p for _k, p, _a in returns] == [False, False]
    assert ["return_id" in p for _k, p, _a in refunds] == [True, False]


@pytest.mark.parametrize("raw, ask, says", [
    ("W-404", offline, "The hub can't be asked now \\(offline\\): scan the return QR code"),
    ("W-404", None, "scan the return QR code"),
    ("RET1:k1:broken", offline, "does not read as one of ours"),
])
def test_what_nobody_can_find_is_refused_with_what_to_do(replica, raw, ask, says):
    with pytest.raises(Refused, match=says):
        find_any_order(replica, raw, ask)


def test_the_hubs_refusals_reach_the_person_unchanged(replica):
    def unknown(_query):
        raise UnknownBarcode("No order W-404 is known to the hub either.")

    with pytest.raises(UnknownBarcode, match="known to the hub either"):
        find_any_order(replica, "W-404", unknown)
    with pytest.raises(Refused, match="Nothing of order W-9 has reached the customer"):
        find_any_order(replica, "W-9", lambda q: {**ANSWER, "lines": [{**ANSWER["lines"][0], "sold": 0}]})
