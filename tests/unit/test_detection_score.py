"""The scored detection benchmark's arithmetic on a tiny case: recall over the faulty
units, false alarms over the healthy ones, flags on no unit counted as false alarms,
and a finding mapped to the unit the generator names."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from benchmarks.detection import NOW, Score, run_network, score, unit_of
from benchmarks.detection_floor import generate
from hub.insight.detectors import Finding


def test_recall_and_false_alarms_of_a_tiny_case():
    units = {f"b{i}" for i in range(10)}
    s = score(units, faulty={"b0", "b1"}, flagged={"b0", "b5", "elsewhere"})
    assert (s.faulty, s.caught, s.healthy, s.false_alarms) == (2, 1, 8, 2)
    assert s.recall == 0.5 and s.false_alarm_rate == 0.25


def test_no_fault_has_no_recall_and_no_healthy_unit_no_false_alarm_rate():
    assert Score().recall is None and Score().false_alarm_rate == 0.0
    total = Score()
    total.add(score({"a", "b"}, {"a"}, {"a"}))
    total.add(score({"c", "d"}, {"c"}, set()))
    assert total.recall == 0.5 and total.false_alarm_rate == 0.0


@pytest.mark.parametrize("finding, unit", [
    (Finding("bin_accuracy", "S1", "B-1/MILK", "", {"bin": "B-1", "sku": "MILK"}), "S1/B-1/MILK"),
    (Finding("short_spike", None, "MILK", "", {}), "MILK"),
    (Finding("short_spike", "S1", "location", "", {}), "location:S1"),
    (Finding("stuck_order", "S1", "order/o-1", "", {}), "o-1"),
    (Finding("device_queue", "S1", "device/d-1", "", {}), "d-1"),
])
def test_a_finding_maps_to_its_unit(finding, unit):
    assert unit_of(finding) == unit


def test_one_generated_network_is_seeded_and_its_faults_are_units_of_their_class():
    one, two = (generate(random.Random(5), NOW, "T-") for _ in range(2))
    assert one.faults == two.faults and len(one.window.lines) == len(two.window.lines)
    assert one.faults.bins <= one.bins and one.faults.skus <= one.skus and one.faults.devices <= one.devices
    assert one.faults.orders <= one.order_ids
    assert all(timedelta(0) <= NOW - datetime.fromisoformat(at) < timedelta(hours=8) for at in one.orders)
    scores = run_network(one)
    assert scores["store handhelds offline"].faulty == len(one.faults.devices) > 0
