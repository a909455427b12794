"""Steps about the handhelds themselves: two of them contending for the same order
(pick claims), one swapped mid-schedule (its work handed over, it is revoked and keeps
working offline: its later ops are refused, never applied), and one reset (its replica
restored from an earlier copy, or the app reinstalled) that must get back in step with
the hub without losing or repeating anything."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from edge_app.local.replica import Replica
from edge_app.workflows.pick_list import open_orders
from edge_app.workflows.picking import claim_order, release_claim
from simulator.world import SimDevice

if TYPE_CHECKING:
    from simulator.workload import World

__all__ = ["contend", "swap_handheld", "copy_handheld", "reset_handheld", "IDENTITY"]

# What a reinstalled app gets back from its enrolment backup: who it is, not what it did.
IDENTITY = ("device_id", "token", "hub_url", "insecure", "ca_file", "location", "role", "device_name")


def _working(w: "World") -> list[SimDevice]:
    return [d for d in w.devices if d.revoked_seq is None]


async def contend(w: "World") -> str | None:
    """Two handhelds of one location ask for the same order; now and then one lets go."""
    by_location: dict[str, list[SimDevice]] = {}
    for d in _working(w):
        by_location.setdefault(d.location, []).append(d)
    pairs = [ds for _loc, ds in sorted(by_location.items()) if len(ds) >= 2]
    if not pairs:
        return None
    first, second = w.rng.sample(w.rng.choice(pairs), 2)
    shared = sorted({o.id for o in open_orders(first.replica)} & {o.id for o in open_orders(second.replica)})
    if not shared:
        return None
    order_id = w.rng.choice(shared)
    if w.rng.random() < 0.3:
        release_claim(first.replica, order_id, first.name)
        w.note("claim_released")
        return f"{first.name} lets go of {order_id[:8]}"
    a, b = claim_order(first.replica, order_id, first.name), claim_order(second.replica, order_id, second.name)
    w.note("claim_contended")
    return f"{first.name} and {second.name} both claim {order_id[:8]}: {a.state} / {b.state}"


def _hub_last(w: "World", device: SimDevice) -> int:
    with w.hub.db.read() as conn:
        return int(conn.execute("SELECT COALESCE(MAX(device_seq), 0) FROM op_log WHERE device_id = :d",
                                {"d": device.device_id}).scalar_one())


async def swap_handheld(w: "World") -> str | None:
    """Once a schedule, early enough for the new handheld to work: an administrator hands
    one handheld's work to a newly enrolled one of the same role, which revokes it."""
    if w.swapped or not w.steps // 10 <= w.step_no <= w.steps // 2:
        return None
    # One that has done some work (its later work is what the hub must refuse).
    candidates = [d for d in _working(w) if d.reset_mark is None
                  and d.replica.query_one("SELECT COUNT(*) AS n FROM outbox")["n"]]
    if not candidates:
        return None
    old = w.rng.choice(candidates)
    new = SimDevice(f"{old.name}-new", old.folder.parent / f"{old.name}-new", old.location, old.role)
    await new.enroll(w.hub, w.network)
    await new.bootstrap(tries=3)
    async with w.hub.admin() as admin:
        answer = await admin.post(f"/v1/devices/{old.device_id}/hand-over", json={"to": new.device_id})
    assert answer.status_code == 200, answer.text
    old.revoked_seq = _hub_last(w, old)
    w.devices.append(new)
    w.swapped = True
    w.handheld_disaster_at = w.step_no
    w.note("device_revoked")
    moved = answer.json()
    return f"{old.name} is swapped for {new.name} and revoked (its claims, allotments and tasks handed over: {moved.get('message', '')})"


async def copy_handheld(w: "World") -> str | None:
    """A handheld's replica is copied (a backup of the device), to be restored later."""
    device = w.rng.choice(_working(w))
    device.replica.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = device.folder.parent / f"{device.name}-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(device.folder, copy)
    device.has_copy = True
    return f"{device.name}'s replica is copied"


async def reset_handheld(w: "World") -> str | None:
    """Once a schedule, once it has done some work: a handheld's replica goes back to
    its copy, or the app is reinstalled with only its identity. Ops it numbered and never
    sent are gone with the old disk; everything else must come out right."""
    if w.reset or w.step_no < w.steps // 3:
        return None
    candidates = _working(w)
    device = w.rng.choice(candidates)
    numbered = device.replica.query_one("SELECT COALESCE(MAX(device_seq), 0) AS n FROM outbox")["n"]
    device.ops_before_reset = device.replica.query_one("SELECT COUNT(*) AS n FROM outbox")["n"]
    device.reset_mark = max(_hub_last(w, device), int(numbered))
    identity = {k: device.replica.get_meta(k) for k in IDENTITY}
    await device.close()
    shutil.rmtree(device.folder)
    copy = device.folder.parent / f"{device.name}-copy"
    if device.has_copy:
        shutil.copytree(copy, device.folder)
        how = "restored from its copy"
    else:
        fresh = Replica(device.folder)
        for key, value in identity.items():
            if value is not None:
                fresh.set_meta(key, value)
        fresh.set_meta("next_seq", "1")
        fresh.set_meta("cursor", "0")
        fresh.close()
        how = "reinstalled (identity only)"
    device.replica = Replica(device.folder)
    device.held_after_reset = device.replica.query_one("SELECT COUNT(*) AS n FROM outbox")["n"]
    device.connect(w.network)
    device.reset_unsynced = True
    w.reset = True
    w.handheld_disaster_at = w.step_no
    w.note("device_reset")
    return f"{device.name} is reset: {how}, the hub holds up to #{device.reset_mark}"
