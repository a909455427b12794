"""The simulator: hundreds of seeded fault schedules against the real hub and
device code keep every invariant, and the checks do catch broken code."""

from __future__ import annotations

import os

import pytest

import hub.domain.picking
import hub.feed
from simulator.run import STEPS, run_many, run_schedule

# Fewer, longer schedules than the 300 of 60 steps CI ran before, in about the same
# time (a 300-step schedule, with a hub restore, costs ~4.4 of 60 steps): at 60 steps most schedules exercised almost nothing (a device in four did no
# work); at 300 every device records ops in every schedule.
SCHEDULES = int(os.environ.get("BACKROOM_SIM_SCHEDULES", "50"))


@pytest.mark.timeout(1200)  # ~3 min on an idle machine; far more on a loaded one
def test_seeded_fault_schedules_keep_the_sync_contract():
    results = run_many(seed=1, schedules=SCHEDULES, devices=4, steps=STEPS)
    broken = [r for r in results if r.violations]
    assert not broken, "\n".join([f"seed {r.seed}: {r.violations[:3]}" for r in broken[:5]])
    print("ops per schedule:", [r.ops for r in results])
    idle = [(r.seed, name) for r in results for name, n in r.ops_by_device.items() if n == 0]
    assert not idle, f"devices that did no work: {idle[:10]}"
    assert min(r.ops for r in results) >= 30
    faults = {}
    for r in results:
        for kind, n in r.faults.items():
            faults[kind] = faults.get(kind, 0) + n
    # The schedules did exercise every kind of fault, and real work got through.
    assert {"request_dropped", "response_lost", "duplicated", "delayed_delivered", "partitioned"} <= set(faults)
    assert any("crashes" in line for r in results for line in r.steps)
    assert any("hub restarts" in line for r in results for line in r.steps)
    # The hub was restored from its backup, and devices sent it what it had lost.
    assert sum(1 for r in results for line in r.steps if "restored from its backup" in line) >= SCHEDULES // 4
    assert any("hub_behind_device" in line for r in results for line in r.steps)


def test_a_schedule_replays_the_same_steps_from_its_seed():
    first, again = run_schedule(4242), run_schedule(4242)
    assert [line.split(":")[0] for line in first.steps] == [line.split(":")[0] for line in again.steps]


def test_checks_catch_a_hub_that_applies_a_pick_twice(monkeypatch):
    real_move = hub.domain.picking.stage_movement

    def move_twice(conn, movement):
        real_move(conn, movement)
        return real_move(conn, movement)

    monkeypatch.setattr(hub.domain.picking, "stage_movement", move_twice)
    results = run_many(seed=1, schedules=10, devices=4, steps=60)
    assert any("moved stock 2 times" in v for r in results for v in r.violations)


def test_checks_catch_a_change_feed_that_loses_a_change(monkeypatch):
    real_pull = hub.feed.pull

    def lossy_pull(conn, location, since, limit, device_scope=""):
        page = real_pull(conn, location, since, limit, device_scope)
        stock = [c for c in page.changes if c.entity == "stock"]
        if stock:
            page.changes.remove(stock[-1])
        return page

    monkeypatch.setattr("hub.api.app.pull", lossy_pull)
    results = run_many(seed=1, schedules=10, devices=4, steps=60)
    assert any("stock differ from hub" in v for r in results for v in r.violations)
