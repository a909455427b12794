"""SLA risk as a pure function of the floor's state and the time (hub.insight.risk.assess)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hub.insight.risk import Floor, FloorState, OpenOrder, assess

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def order(order_id: str, minutes: int, units: int, location: str = "S1", status: str = "released") -> OpenOrder:
    return OpenOrder(order_id, f"N-{order_id}", location, status, "pickup", NOW + timedelta(minutes=minutes), units)


def risks(orders, floors):
    return {r.order_id: r for r in assess(FloorState(orders, floors), NOW)}


def test_an_order_behind_a_backlog_at_the_current_rate_is_at_risk_and_says_why():
    found = risks([order("A", 60, 10), order("B", 70, 20)], {"S1": Floor(picks_per_hour=30)})
    assert found["A"].level == "ok" and found["A"].reason == ""
    assert found["B"].level == "at_risk"
    assert "10 units ahead at 30/h" in found["B"].reason and "promised 13:10" in found["B"].reason


def test_an_order_that_cannot_be_done_by_its_promise_is_late():
    found = risks([order("A", 60, 90)], {"S1": Floor(picks_per_hour=60)})
    assert found["A"].level == "late" and found["A"].done_by == NOW + timedelta(minutes=90)


def test_an_order_past_its_promise_is_late_and_says_how_long_ago():
    found = risks([order("A", -12, 3)], {"S1": Floor(picks_per_hour=60)})
    assert found["A"].level == "late" and found["A"].reason.startswith("promised 11:48, 12 min ago")


def test_nobody_picking_with_the_promise_near_is_a_risk():
    found = risks([order("A", 45, 5), order("B", 300, 5, location="S2")], {})
    assert found["A"].level == "at_risk" and "no picks at S1 in the last 15 min, 5 units to go" in found["A"].reason
    assert found["B"].level == "ok"  # hours away: nobody need pick yet


def test_handhelds_offline_with_unsent_ops_put_near_orders_at_risk():
    floor = Floor(picks_per_hour=120, devices=3, offline=2, offline_for=timedelta(minutes=12), unsent_ops=3)
    found = risks([order("A", 50, 2), order("B", 240, 2)], {"S1": floor})
    assert found["A"].level == "at_risk" and "3 ops unsynced, handhelds offline 12 min" in found["A"].reason
    assert found["B"].level == "ok"


def test_an_order_waiting_for_stock_says_so():
    found = risks([order("A", 20, 2, location=None, status="awaiting_stock")], {})  # type: ignore[arg-type]
    assert found["A"].level == "at_risk" and "waiting for stock" in found["A"].reason
