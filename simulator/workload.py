"""What happens on the floor and in the channels during a schedule: orders
arrive, devices pick, short, hand over, take returns, count, edit staging, take
orders at the terminal, sync, crash; the hub restarts; partitions come and go.
Each action returns a line for the step log, or None if it found nothing to do."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from edge_app.errors import EdgeError, Refused
from edge_app.local import outbox
from edge_app.workflows.pick_list import open_orders
from edge_app.workflows.picking import PickSession
from edge_app.workflows.quick_orders import take_order
from hub.seed import DARK_STORE, DARK_STORE_RANGE, DEMO_ITEMS, DEMO_LOCATION
from simulator.handhelds import contend, copy_handheld, reset_handheld, swap_handheld
from simulator.network import Network
from simulator.orchestration import post_unrouted_order, rebroker_pass, receive_stock, switch_policy, turn_away
from simulator.world import SimDevice, SimHub
from sync.kinds import ShortReason

__all__ = ["World", "ACTIONS"]

STORE_SKUS = [sku for sku, *_ in DEMO_ITEMS]
DARK_SKUS = [sku for sku, *_ in DARK_STORE_RANGE]


class World:
    def __init__(self, rng: random.Random, hub: SimHub, devices: list[SimDevice], network: Network, steps: int = 300):
        self.rng, self.hub, self.devices, self.network = rng, hub, devices, network
        self.orders_posted = 0
        self.step_no, self.steps = 0, steps
        self.swapped = self.reset = False  # each at most once a schedule
        # A hub restore may not undo a swap or a reset (the revocation, the hub's record of the
        # reset device's ops): it goes back only to a backup taken after them.
        self.handheld_disaster_at = self.backed_up_at = -1
        self.counts: dict[str, int] = {}  # step kinds and faults beyond the network's, for the summaries

    def note(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def device(self, *roles: str) -> SimDevice | None:
        candidates = [d for d in self.devices if not roles or d.role in roles]
        return self.rng.choice(candidates) if candidates else None


async def post_order(w: World) -> str | None:
    location = w.rng.choice([DEMO_LOCATION, DEMO_LOCATION, DARK_STORE])
    skus = STORE_SKUS if location == DEMO_LOCATION else DARK_SKUS
    lines = [{"sku": sku, "qty": w.rng.randint(1, 4)} for sku in w.rng.sample(skus, w.rng.randint(1, min(3, len(skus))))]
    w.orders_posted += 1
    body = {"number": f"S-{w.orders_posted}", "channel": w.rng.choice(["webshop", "marketplace", "quickapp"]),
            "fulfilment": w.rng.choice(["pickup", "ship"] if location == DEMO_LOCATION else ["quick"]),
            "promised_by": (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat(),
            "customer_name": "sim", "location": location, "lines": lines}
    async with w.hub.admin() as admin:
        response = await admin.post("/v1/orders", json=body)
    assert response.status_code in (200, 201), response.text
    return f"channel posts {body['number']} to {location}: {lines} -> {response.json()['status']}"


async def cancel_order(w: World) -> str | None:
    async with w.hub.admin() as admin:
        orders = (await admin.get("/v1/orders", params={"limit": 1000})).json()
        open_ = [o for o in orders if o["status"] in ("released", "picking", "picked", "short")]
        if not open_:
            return None
        order = w.rng.choice(open_)
        response = await admin.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "sim"})
    return f"channel cancels {order['number']} -> {response.status_code}"


def _open_order(w: World, device: SimDevice):
    orders = open_orders(device.replica)
    return w.rng.choice(orders) if orders else None


def _barcode(device, sku: str) -> str:
    row = device.replica.query_one("SELECT code FROM barcodes WHERE sku = ? ORDER BY code", (sku,))
    return row["code"] if row else sku  # a typed SKU is read as the item too


async def pick(w: World) -> str | None:
    device = w.device("picker", "terminal", "associate")
    order = _open_order(w, device)
    if order is None:
        return None
    session = PickSession(device.replica, order.id, device.name)
    line = session.current
    if line is None or line.bin is None:
        return None
    session.scan(f"BIN:{line.bin}")
    qty = w.rng.randint(1, line.open_qty)
    feedback = session.scan(_barcode(device, line.sku))  # one unit first: nothing is picked unverified
    if session.step == "count":
        feedback = session.confirm(qty)
    return f"{device.name} picks {qty} x {line.sku} for {order.number}: {feedback.message}"


async def short(w: World) -> str | None:
    device = w.device("picker", "terminal")
    order = _open_order(w, device)
    if order is None:
        return None
    session = PickSession(device.replica, order.id, device.name)
    line = session.current
    if line is None:
        return None
    reason = w.rng.choice(list(ShortReason))
    feedback = session.short(reason, picked_qty=0)
    return f"{device.name} shorts {line.sku} on {order.number} ({reason.value}): {feedback.message}"


def _record(device: SimDevice, kind: str, payload: dict) -> None:
    with device.replica.transaction() as conn:
        outbox.record_op(conn, kind, payload, device.name, outbox.PendingEffect())


async def hand_over(w: World) -> str | None:
    device = w.device("associate")
    if device is None:
        return None
    rows = device.replica.query(
        "SELECT o.id, o.number FROM orders o WHERE o.fulfilment = 'pickup' AND o.status IN ('picked', 'short', 'cancelled')"
    )
    if not rows:
        return None
    order = w.rng.choice(rows)
    lines = [{"line_no": r["line_no"], "qty": r["qty_picked"]} for r in device.replica.query(
        "SELECT line_no, qty_picked FROM order_lines_now WHERE order_id = ? AND qty_picked > 0", (order["id"],))]
    if not lines:
        return None
    _record(device, "pickup.handed_over", {"order_id": order["id"], "lines": lines, "code_verified": True})
    return f"{device.name} hands over {order['number']}"


async def take_return(w: World) -> str | None:
    device = w.device("associate")
    if device is None:
        return None
    rows = device.replica.query(
        "SELECT l.order_id, l.line_no, l.sku, l.pick_bin FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE o.status = 'handed_over' AND l.qty_handed_over > 0 AND l.pick_bin IS NOT NULL"
    )
    if not rows:
        return None
    line = w.rng.choice(rows)
    _record(device, "return.received", {"return_id": str(uuid.uuid4()), "order_id": line["order_id"], "lines": [
        {"line_no": line["line_no"], "sku": line["sku"], "qty": 1, "condition": "new", "disposition": "restock", "bin": line["pick_bin"]}]})
    if w.rng.random() < 0.5:
        _record(device, "refund.requested", {"order_id": line["order_id"], "line_no": line["line_no"], "qty": 1})
    return f"{device.name} takes back 1 x {line['sku']}"


async def count(w: World) -> str | None:
    device = w.device("picker", "terminal")
    rows = device.replica.query("SELECT bin, sku, on_hand FROM stock_now")
    if not rows:
        return None
    row = w.rng.choice(rows)
    counted = max(0, row["on_hand"] + w.rng.choice([0, 0, -1, 1, -3]))
    _record(device, "count.recorded", {"bin": row["bin"], "sku": row["sku"], "counted": counted})
    return f"{device.name} counts {row['sku']} in {row['bin']}: {counted}"


async def stage(w: World) -> str | None:
    device = w.device("picker", "associate")
    rows = device.replica.query("SELECT id, number FROM orders WHERE location = ?", (device.location,))
    if not rows:
        return None
    order = w.rng.choice(rows)
    shelf = f"SHELF-{w.rng.randint(1, 9)}"
    _record(device, "order.staging_set", {"order_id": order["id"], "place": shelf})
    return f"{device.name} stages {order['number']} at {shelf}"


async def terminal_order(w: World) -> str | None:
    device = w.device("terminal")
    if device is None:
        return None
    lines = [(sku, w.rng.randint(1, 3)) for sku in w.rng.sample(DARK_SKUS, w.rng.randint(1, 2))]
    taken = take_order(device.replica, lines, "walk-in", device.name)
    return f"{device.name} takes {taken.number} {lines}: {'guaranteed' if taken.guaranteed else 'pending'}"


# A revoked handheld tries this many times, then shows "revoked" and stops: each try is a
# failed authentication, and ten a minute from one address lock out every device behind it.
REVOKED_TRIES = 3


async def sync(w: World) -> str | None:
    device = w.device()
    if device.revoked_seq is not None and device.refusals >= REVOKED_TRIES:
        return None
    try:
        report = await device.agent.sync_once()
    except EdgeError as exc:
        if device.revoked_seq is not None:
            w.note("revoked_sync_refused")
            device.refusals += 1
        return f"{device.name} sync fails: {str(exc)[:60]}"
    device.behind_restore = device.reset_unsynced = False
    steps = f", out of step: {report.out_of_step} (re-sent {report.resent})" if report.out_of_step else ""
    return f"{device.name} syncs: pushed {report.pushed}, rejected {len(report.rejected)}, pulled {report.pulled}{steps}"


async def crash_device(w: World) -> str | None:
    device = w.device()
    await device.crash(w.network)
    return f"{device.name} crashes and restarts"


async def restart_hub(w: World) -> str | None:
    w.hub.restart()
    w.network.hub_transport = w.hub.transport
    return "hub restarts"


async def back_up_hub(w: World) -> str | None:
    w.hub.back_up()
    w.backed_up_at = w.step_no
    return "hub is backed up"


async def restore_hub(w: World) -> str | None:
    """Once a schedule: the hub goes back to its last backup (devices have dropped
    nothing: they keep answered ops and send them again)."""
    if w.hub.restores or not w.hub.backup.exists() or w.backed_up_at < w.handheld_disaster_at:
        return None
    w.hub.restore()
    w.network.hub_transport = w.hub.transport
    for device in w.devices:
        device.behind_restore = True
    w.note("hub_restore")
    return "hub is restored from its backup"


async def partition(w: World) -> str | None:
    if w.network.partitioned:
        w.network.partitioned.clear()
        return "partition heals"
    cut = {d.name for d in w.rng.sample(w.devices, w.rng.randint(1, len(w.devices)))}
    w.network.partitioned |= cut
    return f"partition cuts off {sorted(cut)}"


async def deliver_late(w: World) -> str | None:
    delivered = await w.network.deliver_delayed(w.rng.randint(1, 3))
    return f"network delivers {delivered} delayed request(s)" if delivered else None


# (action, weight)
ACTIONS = [
    (post_order, 5), (cancel_order, 1), (pick, 10), (short, 2), (hand_over, 2), (take_return, 1),
    (count, 1), (stage, 1), (terminal_order, 3), (sync, 12), (crash_device, 1), (restart_hub, 1),
    (partition, 1), (deliver_late, 2), (back_up_hub, 1), (restore_hub, 1),
    # routing and re-brokering across the network (simulator.orchestration)
    (post_unrouted_order, 3), (receive_stock, 2), (rebroker_pass, 1), (turn_away, 1), (switch_policy, 1),
    # the handhelds themselves (simulator.handhelds)
    (contend, 2), (swap_handheld, 1), (copy_handheld, 1), (reset_handheld, 1),
]


async def step(w: World) -> str | None:
    action = w.rng.choices([a for a, _ in ACTIONS], weights=[wt for _, wt in ACTIONS])[0]
    try:
        return await action(w)
    except Refused as exc:
        return f"{action.__name__} refused: {exc}"
