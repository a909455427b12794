"""The arithmetic of fulfilment analytics on small hand-built orders, picks and
refusals (hub.insight.analytics.analyse)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from hub.errors import Invalid
from hub.insight.analytics import COLUMNS, OrderTimes, PickHour, Refusals, analytics_csv, analyse, date_range

DAY = date(2026, 12, 4)
T0 = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


def order(n: int, picked: int, packed: int | None, done: int | None, promised: int, units=4, short=0, stage="shipped"):
    """Minutes after T0 for each stage (None: not reached)."""
    stages = {"picked": T0 + timedelta(minutes=picked)}
    if packed is not None:
        stages["packed"] = T0 + timedelta(minutes=packed)
    if done is not None:
        stages[stage] = T0 + timedelta(minutes=done)
    return OrderTimes(f"O-{n}", "ST-1", T0, T0 + timedelta(minutes=promised), stages, units, short)


def test_stage_times_on_time_and_short_rate_of_one_day():
    orders = [order(1, 10, 20, 30, 60), order(2, 20, 40, 90, 60, short=1),
              order(3, 30, None, 50, 60, stage="handed_over")]
    [row] = analyse(orders, [], [], DAY, DAY)
    assert row["location"] == "ST-1" and row["day"] == "2026-12-04"
    assert row["orders_finished"] == 3 and row["on_time_rate"] == round(2 / 3, 3)  # O-2 done at 90 > 60
    assert row["cycle_min"] == 50.0  # median of 30, 90, 50
    assert row["to_pick_min"] == 20.0 and row["to_pack_min"] == 15.0  # medians of 10,20,30 and 10,20
    assert row["to_handover_min"] == 20.0  # 10, 50 and (no packing) 20 after picking
    assert row["orders_picked"] == 3 and row["short_rate"] == round(1 / 12, 3)


def test_pick_rate_is_units_per_hour_with_picks_and_refusals_per_location():
    picks = [PickHour("ST-1", T0, 30, 20), PickHour("ST-1", T0 + timedelta(hours=2), 10, 10),
             PickHour("ST-2", T0, 5, 5)]
    rows = analyse([], picks, [Refusals("ST-2", DAY, 3)], DAY, DAY)
    st1, st2 = rows
    assert (st1["units_picked"], st1["pick_lines"], st1["picking_hours"], st1["units_per_hour"]) == (40, 30, 2, 20.0)
    assert st1["refusals"] == 0 and st1["on_time_rate"] is None and st1["short_rate"] is None
    assert (st2["units_per_hour"], st2["refusals"]) == (5.0, 3)


def test_a_figure_belongs_to_the_day_its_stage_ended_and_days_outside_are_left_out():
    late = order(1, 10, 20, 60 * 24, 60)  # finished the next day
    rows = analyse([late], [PickHour("ST-1", T0 - timedelta(days=1), 9, 9)], [], DAY, DAY)
    [row] = rows
    assert row["to_pick_min"] == 10.0 and row["orders_finished"] == 0 and row["units_picked"] == 0
    [next_day] = analyse([late], [], [], DAY + timedelta(days=1), DAY + timedelta(days=1))
    assert next_day["orders_finished"] == 1 and next_day["on_time_rate"] == 0.0 and next_day["to_pick_min"] is None


def test_csv_has_the_columns_and_empty_cells_for_no_figure():
    text = analytics_csv(analyse([], [PickHour("ST-1", T0, 6, 3)], [], DAY, DAY))
    header, line = text.splitlines()
    assert header.split(",") == list(COLUMNS)
    assert line == "ST-1,2026-12-04,0,0,,,,,,6,3,1,6.0,0,0,0,,0"


def test_date_range_defaults_to_two_weeks_and_refuses_backwards_or_too_long():
    assert date_range(None, None, DAY) == (DAY - timedelta(days=13), DAY)
    with pytest.raises(Invalid, match="after"):
        date_range(DAY, DAY - timedelta(days=1), DAY)
    with pytest.raises(Invalid, match="at most 92 days"):
        date_range(DAY - timedelta(days=100), DAY, DAY)


def test_a_stage_before_acceptance_gives_no_time_rather_than_a_negative_one():
    skewed = order(1, -30, 10, 20, 60)  # the handheld's clock half an hour behind the hub's
    [row] = analyse([skewed], [], [], DAY, DAY)
    assert row["to_pick_min"] is None and row["to_pack_min"] == 40.0 and row["cycle_min"] == 20.0
    assert row["orders_picked"] == 1 and row["orders_finished"] == 1
