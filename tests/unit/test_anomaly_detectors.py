"""The anomaly detectors on small hand-built windows: what each finds, what it leaves
alone, and the evidence it gives in words and numbers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hub.insight.detectors import (BooksWrong, CountSeen, DeviceSeen, LineSeen, OrderSeen, Window, bin_accuracy,
                                   books_wrong, detect, device_trouble, robust_spread, short_spikes, stuck_orders)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


def counts(bin_code: str, variances: list[int], location: str = "S1", sku: str = "MILK") -> list[CountSeen]:
    return [CountSeen(location, bin_code, sku, v, ago(days=len(variances) - i)) for i, v in enumerate(variances)]


def test_a_bin_counted_off_the_books_again_and_again_is_flagged_with_its_variances():
    others = counts("A-01", [0, 0, 0, 0, 1]) + counts("A-02", [0, 0, 0, 0, 0]) + counts("A-04", [0, 0, 0, 0, 0])
    seen = counts("A-03", [-2, -3, 0, -2]) + others
    [found] = bin_accuracy(seen)
    assert found.kind == "bin_accuracy" and found.location == "S1" and found.subject == "A-03/MILK"
    assert found.evidence == ("3 of 4 counts of MILK in bin A-03 were off the books (accuracy 25 %, S1's other bins "
                              "93 %); variances -2, -3, -2, net -7 units")
    assert found.numbers == {"bin": "A-03", "sku": "MILK", "counts": 4, "off": 3, "accuracy": 0.25,
                             "location_accuracy": 0.933, "net_variance": -7}
    assert found.key == "bin_accuracy:S1:A-03/MILK"


def test_a_bin_off_once_or_counted_once_is_not_flagged():
    assert bin_accuracy(counts("A-01", [0, 3, 0, 0]) + counts("A-02", [-1]) + counts("A-03", [0, 0, 0])) == []


def test_books_caught_wrong_twice_in_one_bin_is_flagged_with_what_the_books_said():
    books = [BooksWrong("S1", "B-01", "EGGS", "short_after_pick_from_bin", 3, 2, ago(hours=5)),
             BooksWrong("S1", "B-01", "EGGS", "move_beyond_on_hand", 1, 4, ago(hours=2)),
             BooksWrong("S1", "B-02", "EGGS", "short_after_pick_from_bin", 2, 1, ago(hours=1))]
    [found] = books_wrong(books)
    assert found.subject == "B-01/EGGS"
    assert found.evidence == ("1 short of EGGS from bin B-01 while the books showed 3 on hand; "
                              "1 move out of it beyond on hand (4 of 1)")
    assert found.numbers == {"bin": "B-01", "sku": "EGGS", "shorts": 1, "moves": 1, "units": 6}


def lines(sku: str, location: str, per_day: int, shorts_by_day: dict[int, int]) -> list[LineSeen]:
    """`per_day` lines a day for 8 days (day 0: the last 24 h), `shorts_by_day[d]` of them short."""
    out = []
    for day in range(8):
        for i in range(per_day):
            at = NOW - timedelta(days=day) - timedelta(hours=1 + i * 20 / per_day)
            out.append(LineSeen(location, sku, i < shorts_by_day.get(day, 0), at))
    return out


def test_a_skus_short_rate_far_above_its_own_days_is_a_spike_and_says_where():
    usual = {d: 1 for d in range(1, 8)}  # one short in 40 lines a day: 2.5 %
    found = short_spikes(lines("BREAD", "S1", 40, {0: 12, **usual}) + lines("MILK", "S1", 40, {0: 1, **usual}), NOW)
    spikes = {f.subject: f for f in found}
    assert set(spikes) == {"BREAD", "location"}  # the location's rate rose too (all of it BREAD)
    bread = spikes["BREAD"]
    assert bread.location is None and bread.numbers["locations"] == ["S1"]
    assert bread.numbers["shorts"] == 12 and bread.numbers["lines"] == 40 and bread.numbers["baseline"] == 0.025
    assert bread.evidence == ("BREAD: 12 shorts in 40 lines in the last 24 h (30 %), against its usual 2 % "
                              "(median day 2 %, spread 2 %) over the 7 days before")


def test_a_past_spike_day_is_left_out_of_the_usual_rate():
    usual = {d: 1 for d in range(1, 8)}
    found = short_spikes(lines("BREAD", "S1", 40, {**usual, 3: 20, 0: 8}), NOW)
    bread = next(f for f in found if f.subject == "BREAD")
    assert bread.numbers["baseline"] == 0.025  # day 3's 20 shorts are not what BREAD is usually like


def test_a_sku_that_is_always_short_is_not_a_spike_nor_one_without_a_baseline():
    always = lines("SOAP", "S1", 40, {d: 10 for d in range(8)})
    new = [line for line in lines("NEW", "S2", 40, {0: 10}) if NOW - line.at < timedelta(days=2)]
    assert short_spikes(always + new, NOW) == []


def test_an_order_without_progress_for_long_is_stuck_and_a_moving_one_is_not():
    orders = [OrderSeen("o1", "W-1", "S1", "picking", ago(minutes=80)), OrderSeen("o2", "W-2", "S1", "released", ago(minutes=10))]
    [found] = stuck_orders(orders, NOW)
    assert found.subject == "order/o1" and found.numbers == {"order_id": "o1", "number": "W-1", "status": "picking",
                                                              "idle_min": 80}
    assert found.evidence == "order W-1 has been picking at S1 for 80 min with no pick, short or status change (last 10:40)"


def test_devices_with_an_ageing_queue_many_refusals_or_a_clock_ahead_are_flagged():
    fine = [DeviceSeen(f"d{i}", f"hh{i}", "S1", ago(minutes=1), 0, timedelta(0), i % 2, timedelta(seconds=1)) for i in range(6)]
    queue = DeviceSeen("dq", "hand-7", "S1", ago(minutes=20), 7, timedelta(minutes=5), 0, None)
    refusing = DeviceSeen("dr", "hand-8", "S1", ago(minutes=1), 0, timedelta(0), 9, None)
    clock = DeviceSeen("dc", "hand-9", "S1", ago(minutes=1), 0, timedelta(0), 0, timedelta(minutes=7))
    found = {(f.kind, f.subject): f for f in device_trouble([*fine, queue, refusing, clock], NOW)}
    assert set(found) == {("device_queue", "device/dq"), ("device_refusals", "device/dr"), ("device_clock", "device/dc")}
    assert found["device_queue", "device/dq"].evidence == (
        "hand-7 (dq) at S1 holds 7 unsent ops, the oldest 25 min old; last seen 20 min ago")
    assert found["device_refusals", "device/dr"].evidence == "hand-8 (dr) at S1 had 9 ops refused lately; the fleet's median is 0"
    assert found["device_clock", "device/dc"].evidence.startswith("hand-9 (dc)'s clock runs 7 min ahead of the hub's")


def test_detect_runs_every_detector_and_an_empty_window_finds_nothing():
    assert detect(Window(), NOW) == []
    window = Window(orders=[OrderSeen("o1", "W-1", "S1", "packing", ago(hours=3))])
    assert [f.kind for f in detect(window, NOW)] == ["stuck_order"]


def test_robust_spread_ignores_one_wild_day():
    median, spread = robust_spread([0.02, 0.03, 0.02, 0.025, 0.9])
    assert median == 0.025 and spread < 0.01


def test_a_finding_the_command_would_refuse_is_left_out_and_control_characters_are_blanked():
    from hub.insight.anomalies import _raise_payload
    from hub.insight.detectors import Finding

    bell = Finding("device_queue", "S1", "device/d1", "hand\x07-7 holds 3 unsent ops", {"unsent": 3})
    assert _raise_payload(bell, NOW.isoformat())["evidence"] == "hand -7 holds 3 unsent ops"
    assert _raise_payload(Finding("nonsense", "S1", "x", "words", {}), NOW.isoformat()) is None
