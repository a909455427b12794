"""Days of cover, the stock-out forecast, the risk level and transfer suggestions,
on small hand-built holdings (hub.insight.inventory's pure part)."""

from __future__ import annotations

from datetime import date

import pytest

from hub.insight.inventory import (
    Holding,
    cover_of,
    covers_page,
    days_of_cover,
    level_of,
    rank,
    stock_out_date,
    suggest,
)

TODAY = date(2026, 12, 5)


@pytest.mark.parametrize("available, per_day, days", [
    (36, 12.0, 3.0),
    (0, 12.0, 0.0),
    (-4, 2.0, 0.0),  # more promised than held: nothing left, not negative days
    (10, 0.0, None),  # no demand: no end in sight
    (7, 2.0, 3.5),
])
def test_days_of_cover_is_available_over_daily_demand(available, per_day, days):
    assert days_of_cover(available, per_day) == days


def test_stock_out_date_is_today_plus_whole_days_of_cover():
    assert stock_out_date(TODAY, 36, 12.0) == date(2026, 12, 8)
    assert stock_out_date(TODAY, 7, 2.0) == date(2026, 12, 8)  # 3.5 days: gone during the 4th
    assert stock_out_date(TODAY, 0, 1.0) == TODAY
    assert stock_out_date(TODAY, 5, 0.0) is None


@pytest.mark.parametrize("days, available, level", [
    (0.0, 0, "out"), (2.9, 5, "critical"), (3.0, 5, "low"), (6.9, 5, "low"), (7.0, 5, "ok"),
    (28.0, 5, "ok"), (28.1, 5, "surplus"), (None, 5, "surplus"), (None, 0, "ok"),
])
def test_level_follows_days_of_cover(days, available, level):
    assert level_of(days, available) == level


def test_cover_counts_reserved_and_safety_out_and_says_why_in_words():
    # 14 days of picks at 12/day; 50 on hand, 10 reserved, 4 safety: 36 available, 3 days
    cover = cover_of(Holding("ST-1", "OATS-500", 50, 10, 4, 168), TODAY)
    assert cover.available == 36 and cover.per_day == 12.0 and cover.days == 3.0
    assert cover.out_by == date(2026, 12, 8) and cover.level == "low"
    assert cover.reason == "OATS-500 at ST-1: 3 days of cover at 12/day; out by 2026-12-08"


def test_a_location_with_nothing_to_promise_is_out_with_its_figures():
    cover = cover_of(Holding("ST-1", "OATS-500", 5, 5, 0, 28), TODAY)
    assert cover.level == "out" and cover.out_by == TODAY
    assert "nothing to promise at 2/day (on hand 5, reserved 5, safety 0)" in cover.reason


def test_surplus_gives_to_the_neediest_and_keeps_its_own_target_cover():
    needy = cover_of(Holding("ST-1", "OATS-500", 6, 0, 0, 28), TODAY)  # 2/day, 3 days: wants 28 - 6 = 22
    less = cover_of(Holding("ST-2", "OATS-500", 2, 0, 0, 14), TODAY)  # 1/day, 2 days: wants 14 - 2 = 12
    donor = cover_of(Holding("WH-1", "OATS-500", 100, 0, 0, 14), TODAY)  # 1/day, 100 days: keeps 14, spares 86
    idle = cover_of(Holding("WH-2", "OATS-500", 10, 0, 0, 0), TODAY)  # nobody picks there: spares 10
    found = suggest([needy, less, donor, idle])
    assert [(s.from_location, s.to_location, s.qty) for s in found] == [("WH-1", "ST-2", 12), ("WH-1", "ST-1", 22)]
    assert "can spare 86 and keep 14 days" in found[0].reason


def test_no_suggestion_without_a_surplus_and_none_between_skus():
    a = cover_of(Holding("ST-1", "OATS-500", 1, 0, 0, 28), TODAY)
    b = cover_of(Holding("WH-1", "MILK-1L", 500, 0, 0, 14), TODAY)
    ok = cover_of(Holding("ST-2", "OATS-500", 30, 0, 0, 28), TODAY)  # 15 days: not surplus
    assert suggest([a, b, ok]) == []


def test_pages_list_the_worst_first_and_the_cursor_continues_without_repeats():
    covers = sorted((cover_of(Holding(f"L-{n}", "SKU", n, 0, 0, 14), TODAY) for n in range(10)), key=rank)
    assert covers[0].level == "out"
    first, cursor = covers_page(covers, limit=4)
    second, cursor2 = covers_page(covers, after=cursor, limit=4)
    third, end = covers_page(covers, after=cursor2, limit=4)
    assert [c.location for c in first + second + third] == [c.location for c in covers] and end is None
    assert covers_page(covers, level="out")[0] == [covers[0]]


def test_units_in_transit_to_a_receiver_count_against_its_need():
    needy = cover_of(Holding("ST-1", "OATS-500", 6, 0, 0, 28, incoming=20), TODAY)  # wants 22, 20 on the way
    donor = cover_of(Holding("WH-1", "OATS-500", 100, 0, 0, 14), TODAY)
    assert needy.level == "low" and needy.reason.endswith("; 20 in transit")
    assert [(s.qty) for s in suggest([needy, donor])] == [2]


def test_the_memo_answers_again_until_its_time_is_up_or_it_is_told_to_forget():
    from hub.insight.inventory import InventoryRisk, RiskMemo

    now = [0.0]
    memo = RiskMemo(ttl=30, clock=lambda: now[0])
    answers = iter([InventoryRisk([], []), InventoryRisk([], []), InventoryRisk([], [])])
    first = memo.get(("k",), lambda: next(answers))
    now[0] = 29.9
    assert memo.get(("k",), lambda: next(answers)) is first
    assert memo.get(("other",), lambda: next(answers)) is not first  # another caller's view is its own
    memo.forget()
    assert memo.get(("k",), lambda: next(answers)) is not first


def test_units_promised_beyond_what_is_held_are_wanted_on_top_of_the_target():
    oversold = cover_of(Holding("ST-1", "OATS-500", 5, 9, 0, 14), TODAY)  # 1/day, 4 promised beyond on hand
    donor = cover_of(Holding("WH-1", "OATS-500", 100, 0, 0, 0), TODAY)
    assert oversold.level == "out" and oversold.available == -4
    assert [s.qty for s in suggest([oversold, donor])] == [18]  # 14 days at 1/day, and the 4
