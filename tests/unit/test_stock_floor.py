"""Stock look-up, blind counts, bin moves and tasks against a replica; no hub involved."""

from __future__ import annotations

import json

import pytest

from edge_app.local.replica import Replica
from edge_app.workflows.stock import CountSession, MoveSession, look_up
from edge_app.workflows.tasks import mark_done, open_tasks
from sync.kinds import CountReason
from tests.unit.floor_store import COFFEE, MILK, ops, order, put, store


@pytest.fixture
def replica(tmp_path) -> Replica:
    r = store(tmp_path / "device")
    order(r, "o1", "W-1", [("MILK-1L", 3)], status="released")
    return r


def test_look_up_shows_bins_reserved_and_available(replica):
    stock = look_up(replica, MILK)
    assert (stock.bins, stock.on_hand, stock.reserved, stock.available) == ((("A-01-1", 20),), 20, 3, 17)


@pytest.mark.parametrize("raw, says", [("BIN:A-01-1", "bin label"), ("4000000000006", "No item has barcode"), ("", "could not be read")])
def test_look_up_refuses_what_is_not_an_item(replica, raw, says):
    with pytest.raises(Exception, match=says):
        look_up(replica, raw)


def counting(replica) -> CountSession:
    count = CountSession(replica, "alex")
    assert count.scan("BIN:A-01-1").ok and count.scan(MILK).ok
    return count


def test_a_matching_count_is_sent_at_once_without_showing_the_expected_number(replica):
    count = counting(replica)
    assert "20" not in count.prompt()
    assert count.submit(20).ok
    assert ops(replica) == [("count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": 20, "reason": None}, "alex")]


def test_a_small_difference_asks_for_a_reason_only(replica):
    count = counting(replica)
    assert not count.submit(19).ok and count.step == "reason"
    assert ops(replica) == []
    assert count.reason(CountReason.LOST).ok
    assert ops(replica)[0][1]["reason"] == "lost" and look_up(replica, MILK).on_hand == 19


def test_a_far_count_is_counted_again_before_anything_is_sent(replica):
    count = counting(replica)
    first = count.submit(12)
    assert not first.ok and count.step == "recount" and "20" not in first.message
    assert ops(replica) == []
    assert count.submit(20).ok  # the recount matches: nothing to explain
    assert ops(replica)[0][1]["counted"] == 20


def test_counting_refuses_scans_out_of_step(replica):
    count = CountSession(replica, "alex")
    assert not count.scan(MILK).ok and count.step == "bin"  # an item before a bin
    assert not count.submit(3).ok
    count = counting(replica)
    assert not count.scan(COFFEE).ok and count.step == "count"
    assert count.cancel().ok and count.step == "item"
    assert ops(replica) == []


def test_moves_refuse_more_than_the_bin_holds_and_the_same_bin(replica):
    move = MoveSession(replica, "alex")
    assert not move.scan(COFFEE).ok  # an item, not a bin
    assert move.scan("BIN:A-01-1").ok
    assert not move.scan(COFFEE).ok  # A-01-1 holds no coffee
    assert move.scan(MILK).ok
    assert not move.quantity(21).ok
    assert move.quantity(5).ok
    assert not move.scan("BIN:A-01-1").ok
    assert ops(replica) == []
    assert move.scan("BIN:A-02-1").ok
    assert ops(replica) == [("stock.moved", {"from_bin": "A-01-1", "to_bin": "A-02-1", "sku": "MILK-1L", "qty": 5}, "alex")]
    assert look_up(replica, MILK).bins == (("A-01-1", 15),)  # A-02-1 shows it once the hub has it


def task(replica, task_id, kind, for_role, details):
    put(replica, "task", str(task_id), {"id": task_id, "kind": kind, "for_role": for_role, "sentence": f"{kind} {task_id}",
                                        "details": details, "order_id": None, "status": "open"})


def test_tasks_are_listed_and_marked_done_once(replica):
    task(replica, 1, "put_back", "picker", {"sku": "MILK-1L", "bin": "A-01-1", "qty": 2})
    task(replica, 2, "recount", "supervisor", {"sku": "MILK-1L", "bin": "A-01-1"})
    assert [t.id for t in open_tasks(replica, "associate")] == [1, 2]
    assert not mark_done(replica, 2, "alex", "associate").ok
    assert mark_done(replica, 1, "alex", "associate").ok
    assert not mark_done(replica, 1, "alex", "associate").ok  # already done here
    assert [t.id for t in open_tasks(replica, "associate")] == [2]
    assert look_up(replica, MILK).on_hand == 22
    (kind, payload, _actor), = ops(replica)
    assert kind == "task.done" and payload["task_id"] == 1 and json.dumps(payload)


def test_a_put_back_without_a_bin_needs_one_scanned(replica):
    task(replica, 3, "put_back", "picker", {"sku": "MILK-1L", "bin": None, "qty": 1})
    assert "Scan the label" in mark_done(replica, 3, "alex", "associate").message
    assert mark_done(replica, 3, "alex", "associate", "BIN:A-01-1").ok
    assert ops(replica)[0][1]["bin"] == "A-01-1"


def test_a_twenty_digit_count_is_refused_with_what_was_typed(replica):
    from edge_app.workflows.stock import CountSession

    count = CountSession(replica, "ana")
    count.scan("BIN:A-01-1"), count.scan(MILK)
    refused = count.submit(10**20 - 1)
    assert not refused.ok and "99999999999999999999 is more than a bin holds" in refused.message
    assert replica.query_one("SELECT COUNT(*) AS n FROM outbox")["n"] == 0
