"""The simulator: hundreds of seeded fault schedules against the real hub and
device code keep every invariant, and the checks do catch broken code."""

from __future__ import annotations

import os
from contextlib import nullcontext
from datetime import datetime, timezone

import pytest

import hub.domain.brokering
import hub.domain.picking
import hub.domain.routing
import hub.feed
import hub.hand_over
from hub.domain.routing_rules import Route
from simulator.run import STEPS, run_many, run_schedule
from simulator.sites import WAREHOUSE

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
    kinds: dict[str, int] = {}
    for r in results:
        for kind, n in r.step_counts.items():
            kinds[kind] = kinds.get(kind, 0) + n
    # The hub routed across the network (splits, parks), re-brokered parked orders, stores
    # turned orders away, the policy changed; handhelds contended for orders, and most
    # schedules swapped (revoked) one handheld and reset another.
    assert {"order_routed", "order_split", "order_parked", "receipt", "rebroker_pass", "reject", "policy_change",
            "claim_contended", "claim_released", "revoked_sync_refused"} <= set(kinds), kinds
    assert kinds.get("rebrokered_by_receipt", 0) + kinds.get("rebrokered_by_pass", 0) > 0, kinds
    assert min(kinds["device_revoked"], kinds["device_reset"]) >= SCHEDULES // 2, kinds


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


# -- routing, claims and handhelds (simulator.orchestration, simulator.handhelds) -------------------
# Each breaks one thing the routing checks guard and runs one short seeded schedule that exercises it.
def _violations(seed: int, steps: int) -> list[str]:
    return run_schedule(seed, devices=4, steps=steps).violations


def test_checks_catch_a_parked_order_that_keeps_its_reservations(monkeypatch):
    monkeypatch.setattr(hub.domain.routing, "release_order", lambda conn, order_id: None)
    # Only an order taken back whole from its location (a reject, a reassign) meets the
    # fault, and not every short schedule has one: the first of a few seeds that does
    # (seeds 5, 7 and 8 of 1-8 had one when the demo catalogue last changed).
    caught = (any("holds" in v and "reservation(s)" in v for v in _violations(seed=seed, steps=100))
              for seed in range(1, 13))
    assert any(caught)


def test_checks_catch_routing_that_reserves_where_nothing_was_ever_stocked(monkeypatch):
    real_load = hub.domain.routing.load_network

    def phantom_stock(conn, skus, at, synced=None):
        network = real_load(conn, skus, at, synced)
        for sku in skus:  # the warehouse "holds" every SKU: a bug in reading free stock
            network.free.setdefault((WAREHOUSE, sku), 50)
        return network

    monkeypatch.setattr(hub.domain.routing, "load_network", phantom_stock)
    # and the hub's own guard at commit is off, as the simulator's check must not rely on it
    monkeypatch.setattr(hub.domain.routing, "promising", lambda conn, location, skus: nullcontext())
    assert any("never stocked" in v for v in _violations(seed=2, steps=40))


def test_checks_catch_a_linked_order_that_loses_its_promise(monkeypatch):
    real_spawn = hub.domain.routing.spawn_child

    def later_promise(conn, parent_id, reason):
        child = real_spawn(conn, parent_id, reason)
        conn.execute("UPDATE orders SET promised_by = '2099-01-01T00:00:00+00:00' WHERE id = :c", {"c": child})
        return child

    monkeypatch.setattr(hub.domain.routing, "spawn_child", later_promise)
    monkeypatch.setattr(hub.domain.brokering, "spawn_child", later_promise)
    assert any("its root" in v for v in _violations(seed=2, steps=40))


def test_checks_catch_a_decision_whose_explanation_leaves_a_location_out(monkeypatch):
    real_record = hub.domain.routing.record_decision

    def forgetful(conn, order_id, version, trigger, at, route, op_id):
        route = Route(route.outcome, route.rule, route.shipments, route.candidates[1:])
        return real_record(conn, order_id, version, trigger, at, route, op_id)

    monkeypatch.setattr(hub.domain.routing, "record_decision", forgetful)
    assert any("does not name" in v for v in _violations(seed=1, steps=20))


def test_checks_catch_routing_decisions_that_do_not_replay(monkeypatch):
    real_record = hub.domain.routing.record_decision

    def wall_clock(conn, order_id, version, trigger, at, route, op_id):  # a decision stamped by the clock, not the op
        return real_record(conn, order_id, version, trigger, datetime.now(timezone.utc), route, op_id)

    monkeypatch.setattr(hub.domain.routing, "record_decision", wall_clock)
    assert any("log replay differs" in v for v in _violations(seed=1, steps=20))


def test_checks_catch_a_swapped_handheld_that_is_not_revoked(monkeypatch):
    monkeypatch.setattr(hub.hand_over, "revoke_device", lambda conn, device_id, by, client="": None)
    assert any("revoked at op" in v for v in _violations(seed=2, steps=100))
