"""The pickup workflow against a replica holding a small store; no hub involved."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from edge_app.errors import Refused
from edge_app.local.replica import Replica
from edge_app.workflows.pickups import (
    PickupSession,
    extend_pickup,
    find_pickup,
    ready_pickups,
    search_pickups,
)
from sync.kinds import RefusalReason
from tests.unit.floor_store import BIN_OF, ops, put, store

CODE = "K7P2QX"
PICKUP_BY = "2026-11-27T10:00:00+00:00"


def pickup_order(replica, order_id="o1", number="W-1", status="picked", customer="Ana Lopez", handed=0):
    lines = [("MILK-1L", 2), ("CHOC-DARK", 3)]
    put(replica, "order", order_id, {
        "id": order_id, "number": number, "channel": "web", "fulfilment": "pickup", "promised_by": "2026-11-24T10:00:00+00:00",
        "customer_name": customer, "location": "S1", "status": status, "created_at": "2026-11-24T06:00:00+00:00",
        "staging": None, "pickup_code": CODE, "pickup_by": PICKUP_BY,
        "lines": [{"line_no": i, "sku": sku, "qty": qty, "pick_bin": BIN_OF[sku], "qty_picked": qty, "qty_short": 0,
                   "qty_handed_over": handed, "qty_refused": 0} for i, (sku, qty) in enumerate(lines, start=1)],
    })


@pytest.fixture
def replica(tmp_path) -> Replica:
    r = store(tmp_path / "device")
    pickup_order(r)
    pickup_order(r, "o2", "W-2", status="picking", customer="Ben Okafor")
    return r


def test_only_picked_pickup_orders_show_as_ready(replica):
    assert [o.number for o in ready_pickups(replica)] == ["W-1"]


@pytest.mark.parametrize("raw, verified", [(f"PICKUP:W-1:{CODE}", True), ("ORD:W-1", False), ("w-1", False), ("lopez", False)])
def test_a_pickup_is_found_by_qr_order_number_or_name(replica, raw, verified):
    order, checked = find_pickup(replica, raw)
    assert order.number == "W-1" and checked is verified


@pytest.mark.parametrize("raw, says", [
    ("PICKUP:W-1:AAAA22", "does not match order W-1"),
    ("ORD:W-2", "still being picked"),
    ("W-9", "No ready pickup matches"),
    ("", "Nothing was scanned"),
])
def test_mis_scans_and_wrong_codes_are_refused_with_what_to_do(replica, raw, says):
    with pytest.raises(Refused, match=says):
        find_pickup(replica, raw)
    assert ops(replica) == []


def test_search_by_part_of_a_name_lists_ready_orders(replica):
    assert [o.number for o in search_pickups(replica, "ANA")] == ["W-1"]
    assert search_pickups(replica, "okafor") == []  # W-2 is not ready


def test_handover_needs_the_code_checked_first_and_a_wrong_code_records_nothing(replica):
    session = PickupSession(replica, "o1", "alex")
    refused = session.hand_over()
    assert not refused.ok and "Check the pickup code first" in refused.message
    assert not session.verify("K7P2QY").ok
    assert not session.verify("PICKUP:W-2:K7P2QX").ok  # another order's QR
    assert ops(replica) == []
    assert session.verify(CODE.lower()).ok


def test_partial_handover_keeps_the_rest_waiting_and_records_refusals(replica):
    session = PickupSession(replica, "o1", "alex", code_verified=True)
    feedback = session.hand_over(take={1: 2, 2: 1}, refused={2: (1, RefusalReason.DAMAGED)})
    assert feedback.ok and "1 still waiting" in feedback.message
    (kind, payload, actor), = ops(replica)
    assert kind == "pickup.handed_over" and actor == "alex"
    assert payload["lines"] == [{"line_no": 1, "qty": 2}, {"line_no": 2, "qty": 1}]
    assert payload["refused"] == [{"line_no": 2, "qty": 1, "reason": "damaged"}]
    assert ready_pickups(replica)[0].held == 1


def test_handing_over_more_than_waits_is_refused(replica):
    session = PickupSession(replica, "o1", "alex", code_verified=True)
    feedback = session.hand_over(take={1: 3})
    assert not feedback.ok and "Only 2 × Whole milk 1 L wait" in feedback.message
    assert ops(replica) == []


def test_a_handover_survives_a_restart_and_the_order_is_no_longer_ready(replica, tmp_path):
    assert PickupSession(replica, "o1", "alex", code_verified=True).hand_over().ok
    replica.close()
    again = Replica(tmp_path / "device")
    assert ready_pickups(again) == []
    assert [k for k, _p, _a in ops(again)] == ["pickup.handed_over"]
    # A restarted counter screen asks for the code again before anything else.
    assert not PickupSession(again, "o1", "alex").verify("WRONG2").ok


def test_a_refused_handover_op_puts_the_order_back_in_the_list(replica):
    PickupSession(replica, "o1", "alex", code_verified=True).hand_over()
    with replica.transaction() as conn:
        conn.execute("UPDATE outbox SET state = 'rejected'")
    assert [o.number for o in ready_pickups(replica)] == ["W-1"]


def test_extension_is_for_supervisors_and_must_be_later(replica):
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    later = datetime.fromisoformat(PICKUP_BY) + timedelta(days=1)
    assert "Only a supervisor" in extend_pickup(replica, "o1", later, "alex", "associate", now).message
    assert "later than" in extend_pickup(replica, "o1", later - timedelta(days=2), "sam", "supervisor", now).message
    assert ops(replica) == []
    assert extend_pickup(replica, "o1", later, "sam", "supervisor", now).ok
    assert ready_pickups(replica)[0].pickup_by == later.isoformat()


def test_a_pickup_says_where_it_waits_and_which_lines_came_up_short(tmp_path):
    replica = store(tmp_path / "d")
    put(replica, "order", "o9", {
        "id": "o9", "number": "W-9", "channel": "web", "fulfilment": "pickup", "promised_by": "2026-11-24T10:00:00+00:00",
        "customer_name": "Cy", "location": "S1", "status": "short", "created_at": "2026-11-24T06:00:00+00:00",
        "staging": "L-04", "tote": "T7", "pickup_code": CODE, "pickup_by": PICKUP_BY,
        "lines": [{"line_no": 1, "sku": "MILK-1L", "qty": 3, "pick_bin": "A-01-1", "qty_picked": 2, "qty_short": 1,
                   "qty_handed_over": 0, "qty_refused": 0}],
    })
    order, _verified = find_pickup(replica, "W-9")
    assert order.waits_at == "shelf L-04 · tote T7"
    assert [(line.sku, line.held, line.short) for line in order.lines] == [("MILK-1L", 2, 1)] and order.short == 1
