"""One test per conflict rule: pure functions of (state, op)."""

import pytest

from sync.rules import (
    LineState,
    settle_attribute,
    settle_cancel,
    settle_count,
    settle_handover,
    settle_pick,
    settle_refund,
    settle_return,
    settle_short,
)


def test_cancelled_order_picked_offline_keeps_the_pick_and_creates_put_back_task():
    d = settle_pick(LineState(qty=2), "cancelled", 2, "MILK", "A-1")
    assert d.apply_qty == 0 and d.refusal is None
    assert [t.kind for t in d.tasks] == ["put_back"] and d.tasks[0].details["qty"] == 2
    assert d.conflict.rule == "cancel_vs_offline_pick"


def test_second_device_picking_a_filled_line_is_an_over_pick_with_put_back():
    d = settle_pick(LineState(qty=3, picked=2), "picking", 3, "MILK", "A-1")
    assert d.apply_qty == 1
    assert d.tasks[0].kind == "put_back" and d.tasks[0].details["qty"] == 2
    assert d.conflict.rule == "over_pick"


def test_pick_within_the_line_is_no_conflict():
    d = settle_pick(LineState(qty=3), "released", 2, "MILK", "A-1")
    assert d.apply_qty == 2 and not d.tasks and d.conflict is None


def test_empty_bin_short_while_ledger_shows_units_asks_for_recount_and_reroute():
    d = settle_short(LineState(qty=2), "picking", 2, "empty_bin", bin_on_hand=5, sku="MILK", bin_code="A-1")
    assert d.apply_qty == 2
    assert [t.kind for t in d.tasks] == ["recount", "reroute"]
    assert d.conflict.rule == "short_after_pick_from_bin"


def test_empty_bin_short_matching_the_ledger_only_reroutes():
    d = settle_short(LineState(qty=2), "picking", 2, "empty_bin", bin_on_hand=0, sku="MILK", bin_code="A-1")
    assert [t.kind for t in d.tasks] == ["reroute"] and d.conflict is None


def test_cancel_after_pick_stands_and_puts_picked_units_back():
    d = settle_cancel("picking", {1: ("MILK", "A-1", 2), 2: ("TEA", "B-1", 0)})
    assert d.refusal is None and [t.details["qty"] for t in d.tasks] == [2]
    assert d.conflict.rule == "cancel_after_pick"


@pytest.mark.parametrize("status, code", [("handed_over", "already_handed_over"), ("shipped", "already_handed_over"), ("cancelled", "already_cancelled")])
def test_cancel_is_refused_once_the_goods_are_gone_or_already_cancelled(status, code):
    assert settle_cancel(status, {}).refusal == code


def test_handover_after_hub_cancel_stands_and_asks_for_refund_review():
    d = settle_handover("cancelled", 3)
    assert d.apply_qty == 3 and [t.kind for t in d.tasks] == ["refund_review"]
    assert d.conflict.rule == "handover_vs_cancel"


def test_count_is_a_snapshot_adjusted_against_expected_at_count_time():
    d = settle_count(counted=7, expected_at_count=10, threshold=2, sku="MILK", bin_code="A-1")
    assert d.apply_qty == -3 and [t.kind for t in d.tasks] == ["recount"]
    assert d.conflict.rule == "count_reconciliation"
    small = settle_count(counted=9, expected_at_count=10, threshold=2, sku="MILK", bin_code="A-1")
    assert small.apply_qty == -1 and small.tasks == ()
    assert settle_count(10, 10, 2, "MILK", "A-1").conflict is None


def test_later_edit_by_hlc_wins_and_the_loser_is_recorded_whatever_the_arrival_order():
    early, late = ("P-01", "000000000000100:000000:a"), ("P-07", "000000000000200:000000:b")
    late_arrives_second = settle_attribute(early, late)
    early_arrives_second = settle_attribute(late, early)
    assert late_arrives_second.apply_qty == 1 and late_arrives_second.conflict.inputs == {"kept": "P-07", "lost": "P-01"}
    assert early_arrives_second.apply_qty == 0 and early_arrives_second.conflict.inputs == {"kept": "P-07", "lost": "P-01"}


def test_return_on_an_already_refunded_line_stands_and_asks_for_refund_review():
    d = settle_return(LineState(qty=2, picked=2, returned=0, refunded=2), 1, "MILK")
    assert d.apply_qty == 1 and [t.kind for t in d.tasks] == ["refund_review"]
    assert d.conflict.rule == "return_after_refund"
    assert settle_return(LineState(qty=2, picked=2), 1, "MILK").tasks == ()


def test_refund_is_refused_beyond_returned_and_unrefunded_units():
    assert settle_refund(LineState(qty=2, picked=2, returned=1, refunded=0), 1).refusal is None
    assert settle_refund(LineState(qty=2, picked=2, returned=1, refunded=1), 1).refusal == "nothing_to_refund"


@pytest.mark.parametrize("decision", [
    settle_count(counted=2, expected_at_count=17, threshold=2, sku="MILK", bin_code="A-1"),
    settle_short(LineState(qty=3), "released", 3, "empty_bin", 17, "MILK", "A-1"),
], ids=["count far off", "short from a full bin"])
def test_a_recount_task_never_tells_the_counter_the_books_quantity(decision):
    [task] = [t for t in decision.tasks if t.kind == "recount"]
    assert "17" not in task.sentence and "17" not in str(task.details)


def test_a_fact_naming_an_unknown_sku_stands_and_asks_for_a_catalogue_review():
    from sync.rules import Decision, unknown_sku_fact

    decided = unknown_sku_fact(Decision(apply_qty=3), "NEW-1", "A-01-1", known=False)
    assert decided.apply_qty == 3 and decided.refusal is None
    assert [t.kind for t in decided.tasks] == ["catalogue_review"] and decided.conflict.rule == "unknown_sku"
    assert unknown_sku_fact(Decision(apply_qty=3), "MILK-1L", "A-01-1", known=True) == Decision(apply_qty=3)
