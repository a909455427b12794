"""Batch (cluster) picking against a replica: totes, one walk in pick-path order,
mis-scans, wrong tote, short, skip, offline and a restart mid-batch."""

from __future__ import annotations

import pytest

from edge_app.local.replica import Replica
from edge_app.workflows import wip
from edge_app.workflows.packing import find_order
from edge_app.workflows.picking import BatchPickSession
from sync.kinds import ShortReason
from tests.unit.floor_store import COFFEE, MILK, SOAP, ops, order, store


@pytest.fixture
def replica(tmp_path):
    r = store(tmp_path / "device")
    order(r, "o1", "W-1", [("COFFEE-250", 1), ("MILK-1L", 2)])
    order(r, "o2", "W-2", [("SOAP-BAR", 1), ("MILK-1L", 1)])
    return r


@pytest.fixture
def batch(replica) -> BatchPickSession:
    s = BatchPickSession(replica, ["o1", "o2"], "P1")
    s.scan("TOTE:T1"), s.scan("TOTE:T2")
    return s


def test_each_order_gets_a_scanned_tote_first(replica):
    s = BatchPickSession(replica, ["o1", "o2"], "P1")
    assert s.step == "tote" and "order W-1" in s.prompt()
    assert s.scan("TOTE:T1").ok and "order W-2" in s.prompt()
    assert not s.scan("TOTE:T1").ok  # one tote per order
    assert not s.scan("BIN:A-01-1").ok
    s.scan("TOTE:T2")
    assert s.totes == {"o1": "T1", "o2": "T2"} and s.step == "bin"


def test_the_walk_goes_through_the_bins_in_pick_path_order_across_the_batch(batch):
    assert [(l.bin, l.order_id) for l in batch.lines()] == [
        ("A-01-1", "o1"), ("A-01-1", "o2"), ("A-02-1", "o1"), ("A-03-1", "o2")]


def test_bin_item_tote_records_a_pick_with_the_tote(batch, replica):
    assert batch.scan("BIN:A-01-1").ok
    batch.scan(MILK)
    assert batch.step == "count"
    assert batch.scan(MILK).ok and batch.step == "put" and "tote T1" in batch.prompt()
    assert batch.scan("TOTE:T1").ok
    [(kind, payload, actor)] = ops(replica)
    assert kind == "pick.confirmed" and payload["tote"] == "T1" and payload["qty"] == 2 and actor == "P1"
    assert batch.current.order_id == "o2" and batch.step == "item"  # the same bin: one stop, no second bin scan


def test_the_wrong_tote_is_refused_and_names_whose_tote_it_is(batch, replica):
    batch.scan("BIN:A-01-1"), batch.scan(MILK), batch.scan(MILK)
    feedback = batch.scan("TOTE:T2")
    assert not feedback.ok and feedback.message == "Wrong tote: T2 (order W-2). These go into tote T1."
    assert ops(replica) == [] and batch.step == "put"


@pytest.mark.parametrize("step_scans, scan, says", [
    ([], "BIN:A-02-1", "Wrong bin: you scanned A-02-1. Go to bin A-01-1."),
    ([], MILK, "That is an item. Scan the label of bin A-01-1 first."),
    (["BIN:A-01-1"], COFFEE, "Wrong item: that is Ground coffee. This line needs Whole milk 1 L; put it back."),
    (["BIN:A-01-1"], "4000000000006", "No item has barcode 4000000000006"),
    (["BIN:A-01-1"], "TOTE:T1", "Scan Whole milk 1 L first, then the tote."),
    (["BIN:A-01-1", MILK, MILK], MILK, "Already 2 in hand; this line needs no more."),
])
def test_mis_scans_are_refused_with_what_to_do_and_change_nothing(batch, replica, step_scans, scan, says):
    for s in step_scans:
        batch.scan(s)
    before = batch.state()
    feedback = batch.scan(scan)
    assert not feedback.ok and says in feedback.message
    assert batch.state() == before and ops(replica) == []


def test_a_typed_count_then_the_tote(batch, replica):
    batch.scan("BIN:A-01-1")
    assert not batch.confirm(2).ok  # nothing scanned yet: no count can be typed
    batch.scan(MILK)
    assert not batch.confirm(3).ok
    assert batch.confirm(2).ok and batch.step == "put"
    batch.scan("TOTE:T1")
    assert ops(replica)[0][1]["qty"] == 2


def test_short_with_units_in_hand_records_the_pick_and_the_short(batch, replica):
    batch.scan("BIN:A-01-1"), batch.scan(MILK)
    feedback = batch.short(ShortReason.DAMAGED)
    assert feedback.ok and "Put 1 into tote T1" in feedback.message
    assert [(k, p["qty"]) for k, p, _a in ops(replica)] == [("pick.confirmed", 1), ("pick.shorted", 1)]


def test_a_skipped_line_comes_back_at_the_end(batch):
    assert batch.skip().ok
    assert batch.current.order_id == "o2"
    batch.scan("BIN:A-01-1"), batch.scan(MILK), batch.scan("TOTE:T2")
    batch.scan("BIN:A-02-1"), batch.scan(COFFEE), batch.scan("TOTE:T1")
    batch.scan("BIN:A-03-1"), batch.scan(SOAP), batch.scan("TOTE:T2")
    assert (batch.current.order_id, batch.current.bin) == ("o1", "A-01-1")


def test_skip_with_units_in_hand_is_refused(batch):
    batch.scan("BIN:A-01-1"), batch.scan(MILK)
    assert not batch.skip().ok


def test_a_whole_batch_offline_then_the_packer_finds_each_order_by_its_tote(batch, replica):
    for scans in (["BIN:A-01-1", MILK, MILK, "TOTE:T1"], [MILK, "TOTE:T2"],
                  ["BIN:A-02-1", COFFEE, "TOTE:T1"], ["BIN:A-03-1", SOAP]):
        for s in scans:
            assert batch.scan(s).ok, s
    assert batch.scan("TOTE:T2").step == "done"
    assert len(ops(replica)) == 4  # all waiting in the outbox
    # the hub marks the orders picked; until then the local view already says "picked" per line
    for order_id in ("o1", "o2"):
        replica.conn.execute("UPDATE orders SET status = 'picked' WHERE id = ?", (order_id,))
    assert find_order(replica, "TOTE:T2").id == "o2"


def test_a_restart_mid_line_resumes_at_the_same_step_with_the_units_in_hand(batch, replica, tmp_path):
    batch.scan("BIN:A-01-1"), batch.scan(MILK)
    wip.save(replica, "P1", "batch", batch.state())
    replica.close()
    again = Replica(tmp_path / "device")
    restored = BatchPickSession.restore(again, wip.load(again, "P1", "batch"), "P1")
    assert restored.step == "count" and restored.scanned_units == 1 and restored.totes == {"o1": "T1", "o2": "T2"}
    assert restored.scan(MILK).ok and restored.step == "put"


def test_a_restart_after_a_line_was_finished_elsewhere_moves_on(batch, replica, tmp_path):
    batch.scan("BIN:A-01-1"), batch.scan(MILK)
    state = batch.state()
    replica.conn.execute("UPDATE order_lines SET qty_picked = qty WHERE order_id = 'o1' AND sku = 'MILK-1L'")
    restored = BatchPickSession.restore(replica, state, "P1")
    assert restored.current.order_id == "o2" and restored.step == "item" and restored.scanned_units == 0


def test_a_batch_holds_one_to_six_orders(replica):
    with pytest.raises(ValueError):
        BatchPickSession(replica, [], "P1")
