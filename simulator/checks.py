"""The sync contract, checked against the hub database and every replica.

After every step: no oversell, every op's effect at most once and in device
order, no op lost. At quiescence: every replica equals the hub for its scope,
every outbox and overlay is empty, and the log replays to the same state."""

from __future__ import annotations

import json

from hub.domain.stock import commitments
from hub.verify import replay
from simulator import routing_checks
from simulator.world import SimDevice, SimHub
from sync.rules import PICKING_STATUSES

__all__ = ["after_step", "at_quiescence"]


# Routing's and revocation's checks run every this many steps (and at quiescence): each
# step's check of them cost a fifth of the schedule, and what they guard changes slowly.
EVERY = 10


def after_step(hub: SimHub, devices: list[SimDevice], step_no: int = EVERY - 1) -> list[str]:
    problems = _no_oversell(hub) + _exactly_once_in_order(hub, devices)
    if step_no % EVERY == EVERY - 1:
        problems += routing_checks.after_step(hub) + _revoked_stay_out(hub, devices)
    return problems


def _revoked_stay_out(hub: SimHub, devices: list[SimDevice]) -> list[str]:
    """A revoked handheld's log never grows, and it holds no claim on an order being picked
    (those were handed over)."""
    problems = []
    with hub.db.read() as conn:
        for device in (d for d in devices if d.revoked_seq is not None):
            last = conn.execute("SELECT COALESCE(MAX(device_seq), 0) FROM op_log WHERE device_id = :d",
                                {"d": device.device_id}).scalar_one()
            if last > device.revoked_seq:
                problems.append(f"{device.name}: revoked at op #{device.revoked_seq}, yet the hub applied up to #{last}")
            # A claim on an order no longer being picked stays where it was (nothing to hand over).
            claims = conn.execute("SELECT COUNT(*) FROM orders WHERE claimed_by = :d AND status IN :s",
                                  {"d": device.device_id, "s": sorted(PICKING_STATUSES)}).scalar_one()
            if claims:
                problems.append(f"{device.name}: revoked, yet it still holds {claims} claim(s) on orders being picked")
    return problems


def _no_oversell(hub: SimHub) -> list[str]:
    """Promises (reservations + allotments) never exceed on-hand less safety stock,
    beyond what facts took away afterwards (over-picks to put back, counts down)."""
    problems = []
    with hub.db.read() as conn:
        # One pass over all (location, SKU); the exact figures only where it looks short.
        short = conn.execute(
            "SELECT s.location, s.sku FROM (SELECT location, sku, SUM(on_hand) AS on_hand FROM stock GROUP BY location, sku) s "
            "LEFT JOIN (SELECT location, sku, SUM(qty) AS q FROM reservations GROUP BY location, sku) r ON r.location = s.location AND r.sku = s.sku "
            "LEFT JOIN (SELECT location, sku, SUM(granted - used - released) AS q FROM allotments GROUP BY location, sku) a ON a.location = s.location AND a.sku = s.sku "
            "LEFT JOIN stock_policy p ON p.location = s.location AND p.sku = s.sku "
            "WHERE s.on_hand - COALESCE(p.safety_stock, 0) - COALESCE(r.q, 0) - COALESCE(a.q, 0) < 0"
        ).all()
        for location, sku in short:
            c = commitments(conn, location, sku)
            deficit = _fact_deficit(conn, location, sku)
            if c.free + deficit < 0:
                problems.append(f"oversell at {location}/{sku}: reserved {c.reserved} + allotted {c.allotted} > "
                                f"on hand {c.on_hand} - safety {c.safety} (facts explain {deficit})")
    return problems


def _fact_deficit(conn, location: str, sku: str) -> int:
    counted_down = conn.execute(
        "SELECT COALESCE(-SUM(qty), 0) FROM movements WHERE location = :l AND sku = :s AND reason = 'count' AND qty < 0",
        {"l": location, "s": sku},
    ).scalar_one()
    put_back = sum(
        json.loads(r.details).get("qty", 0)
        for r in conn.execute("SELECT details FROM tasks WHERE location = :l AND kind IN ('put_back', 'escrow_over')", {"l": location})
        if json.loads(r.details).get("sku") == sku
    )
    return int(counted_down) + put_back


def _exactly_once_in_order(hub: SimHub, devices: list[SimDevice]) -> list[str]:
    problems = []
    with hub.db.read() as conn:
        twice = conn.execute(
            "SELECT op_id, COUNT(*) AS n FROM movements WHERE op_id IS NOT NULL AND reason IN ('pick', 'return', 'count') "
                 "GROUP BY op_id, bin, sku HAVING COUNT(*) > 1"
        ).all()
        problems += [f"op {r.op_id} moved stock {r.n} times" for r in twice]
        for device in devices:
            problems += _device_log_matches(conn, device)
    return problems


def _device_log_matches(conn, device: SimDevice) -> list[str]:
    device_id = device.device_id
    logged = {r.device_seq: r.op_id for r in conn.execute(
        "SELECT device_seq, op_id FROM op_log WHERE device_id = :d", {"d": device_id})}
    if logged and sorted(logged) != list(range(1, len(logged) + 1)):
        return [f"{device.name}: hub applied its ops out of order or with a gap: {sorted(logged)[:20]}"]
    outbox = {r["device_seq"]: (r["op_id"], r["state"]) for r in device.replica.query("SELECT device_seq, op_id, state FROM outbox")}
    # A reset replica lacks what its old disk numbered (up to its mark) and numbers after the hub's last.
    mark = device.reset_mark or 0
    if outbox and not mark and sorted(outbox) != list(range(1, len(outbox) + 1)):
        return [f"{device.name}: outbox lost ops: sequence {sorted(outbox)[:20]}"]
    problems = []
    for seq, op_id in logged.items():
        if (seq not in outbox or outbox[seq][0] != op_id) and seq > mark:
            problems.append(f"{device.name}: hub applied op #{seq} that the device does not hold")
    for seq, (op_id, state) in outbox.items():
        if state != "pending" and logged.get(seq) != op_id and not (device.behind_restore and seq not in logged):
            problems.append(f"{device.name}: op #{seq} marked {state} but the hub has no record of it")
    return problems


async def at_quiescence(hub: SimHub, devices: list[SimDevice], rounds: int = 20) -> list[str]:
    """Heal everything, sync until quiet, then compare replicas with the hub."""
    working = [d for d in devices if d.revoked_seq is None]
    for _ in range(rounds):
        busy = False
        for device in working:
            report = await device.agent.sync_once()
            device.behind_restore = device.reset_unsynced = False
            busy |= report.pushed > 0 or report.outbox_depth > 0
        if not busy:
            break
    for device in working:
        await device.agent.sync_once()  # a last pull after everyone's last push
    problems = after_step(hub, devices) + routing_checks.at_quiescence(hub)
    for device in working:
        problems += _replica_equals_hub(hub, device)
    verdict = replay(hub.db)
    if not verdict.same:
        problems.append(f"log replay differs: {verdict.original[:12]} vs {verdict.replayed[:12]} {verdict.different_answers[:3]}")
    return problems


def _replica_equals_hub(hub: SimHub, device: SimDevice) -> list[str]:
    r = device.replica
    problems = []
    if r.query_one("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")["n"]:
        problems.append(f"{device.name}: outbox not empty at quiescence")
    for table in ("line_effects", "stock_effects", "escrow_effects", "order_effects"):
        if r.query_one(f"SELECT COUNT(*) AS n FROM {table}")["n"]:
            problems.append(f"{device.name}: pending effects left in {table}")
    with hub.db.read() as conn:
        hub_stock = {(x.bin, x.sku): x.on_hand for x in conn.execute(
            "SELECT bin, sku, on_hand FROM stock WHERE location = :l", {"l": device.location})}
        hub_lines = {(x.order_id, x.line_no): tuple(x[2:]) for x in conn.execute(
            "SELECT l.order_id, l.line_no, l.qty_picked, l.qty_short, l.qty_handed_over, l.qty_returned, l.qty_refunded, o.status "
                 "FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.location = :l", {"l": device.location})}
        hub_allot = {x.sku: x.outstanding for x in conn.execute(
            "SELECT sku, granted - used - released AS outstanding FROM allotments WHERE device_id = :d", {"d": device.device_id})}
        hub_tasks = {x.id: x.status for x in conn.execute("SELECT id, status FROM tasks WHERE location = :l", {"l": device.location})}
    dev_stock = {(x["bin"], x["sku"]): x["on_hand"] for x in r.query("SELECT bin, sku, on_hand FROM stock_now")}
    dev_lines = {(x["order_id"], x["line_no"]): (x["qty_picked"], x["qty_short"], x["qty_handed_over"], x["qty_returned"], x["qty_refunded"], x["status"])
                 for x in r.query("SELECT l.*, o.status FROM order_lines l JOIN orders o ON o.id = l.order_id")}
    dev_allot = {x["sku"]: x["outstanding"] for x in r.query("SELECT sku, outstanding FROM allotments")}
    dev_tasks = {x["id"]: x["status"] for x in r.query("SELECT id, status FROM tasks")}
    for name, hub_side, dev_side in (("stock", hub_stock, dev_stock), ("order lines", hub_lines, dev_lines),
                                     ("allotments", hub_allot, dev_allot), ("tasks", hub_tasks, dev_tasks)):
        if hub_side != dev_side:
            diff = {k: (hub_side.get(k), dev_side.get(k)) for k in set(hub_side) | set(dev_side) if hub_side.get(k) != dev_side.get(k)}
            problems.append(f"{device.name}: {name} differ from hub (hub, device): {dict(list(diff.items())[:4])}")
    return problems
