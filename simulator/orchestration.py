"""Steps that make the hub route: orders posted with no location (the policy picks
one, or two with a split, or parks them), stock received that re-brokers parked
orders, a scheduled re-brokering pass, a store turning an order away, and the
routing policy switched to another version mid-schedule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from edge_app.workflows.rejects import reject_order
from hub.log import run_hub_command
from hub.routing_actions import rebroker, set_policy
from hub.seed import DEMO_ITEMS, DARK_STORE_RANGE
from simulator.sites import CUSTOMERS, NETWORK_ITEMS, POLICIES, SITES

if TYPE_CHECKING:
    from simulator.workload import World

__all__ = ["post_unrouted_order", "receive_stock", "rebroker_pass", "turn_away", "switch_policy"]

STORE_SKUS = [sku for sku, *_ in DEMO_ITEMS]
DARK_SKUS = [sku for sku, *_ in DARK_STORE_RANGE]


def _ship_to(w: "World") -> dict[str, Any]:
    postal_code, lat, lon = w.rng.choice(CUSTOMERS)
    return {"lines": [f"{w.rng.randint(1, 200)} Sim street"], "postal_code": postal_code, "country": "NL", "lat": lat, "lon": lon}


async def post_unrouted_order(w: "World") -> str | None:
    """A channel posts an order without saying where: the hub's policy routes it."""
    fulfilment = w.rng.choice(["ship", "ship", "ship", "pickup", "quick"])
    skus = DARK_SKUS if fulfilment == "quick" else STORE_SKUS
    lines = [{"sku": sku, "qty": w.rng.randint(1, 3)} for sku in w.rng.sample(skus, w.rng.randint(1, min(3, len(skus))))]
    if fulfilment == "ship" and w.rng.random() < 0.5:  # one item only another location holds: a split, or a wait
        lines.append({"sku": w.rng.choice(sorted(NETWORK_ITEMS)), "qty": w.rng.randint(1, 2)})
    w.orders_posted += 1
    body: dict[str, Any] = {
        "number": f"R-{w.orders_posted}", "channel": w.rng.choice(["webshop", "marketplace"]), "fulfilment": fulfilment,
        "promised_by": (datetime.now(timezone.utc) + timedelta(hours=w.rng.choice([2, 24, 48]))).isoformat(),
        "customer_name": "sim", "lines": lines, "priority": w.rng.randint(0, 2)}
    if fulfilment != "pickup":
        body["ship_to"] = _ship_to(w)
    async with w.hub.admin() as admin:
        response = await admin.post("/v1/orders", json=body)
    assert response.status_code in (200, 201), response.text
    answer = response.json()
    with w.hub.db.read() as conn:
        outcome = conn.execute("SELECT outcome FROM routing_decisions WHERE order_id = :o ORDER BY id LIMIT 1",
                               {"o": answer["id"]}).scalar() or "none"
    w.note(f"order_{outcome}")
    return (f"channel posts {body['number']} ({fulfilment}) unrouted: {lines} -> {outcome}, "
            f"{answer['status']} {answer.get('location') or ''}").rstrip()


def _awaited(w: "World") -> list[tuple[str, str | None]]:
    """(SKU, the location its order asked for, if any) for every SKU a parked order waits for."""
    with w.hub.db.read() as conn:
        return [(r.sku, r.requested_location) for r in conn.execute(
            "SELECT DISTINCT w.sku, d.requested_location FROM routing_waits w "
            "LEFT JOIN order_details d ON d.order_id = w.order_id ORDER BY w.sku, d.requested_location")]


async def receive_stock(w: "World") -> str | None:
    """A delivery arrives (a logged receipt), mostly of what a parked order waits for and where
    it asked for it: the parked orders waiting for that SKU are routed again."""
    waiting = _awaited(w)
    sku, asked = w.rng.choice(waiting) if waiting else (w.rng.choice(STORE_SKUS), None)
    location = asked or w.rng.choice(sorted(SITES))
    before = _parked(w)
    with w.hub.db.write() as conn:
        bins = [r.code for r in conn.execute("SELECT code FROM bins WHERE location = :l ORDER BY seq, code", {"l": location})]
        held = [r.bin for r in conn.execute("SELECT bin FROM stock WHERE location = :l AND sku = :s ORDER BY bin",
                                            {"l": location, "s": sku})]
        if not bins:
            return None
        bin_code = held[0] if held else w.rng.choice(bins)
        qty = w.rng.randint(2, 6)
        run_hub_command(conn, "stock.received", {"location": location, "bin": bin_code, "sku": sku, "qty": qty}, actor="simulator")
    after = _parked(w)
    w.note("receipt")
    if after < before:
        w.note("rebrokered_by_receipt")
    return f"hub receives {qty} x {sku} at {location}/{bin_code}: parked orders {before} -> {after}"


def _parked(w: "World") -> int:
    with w.hub.db.read() as conn:
        return int(conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'awaiting_stock'").scalar_one())


async def rebroker_pass(w: "World") -> str | None:
    before = _parked(w)
    with w.hub.db.write() as conn:
        message = rebroker(conn, datetime.now(timezone.utc), actor="simulator")
    w.note("rebroker_pass")
    if _parked(w) < before:
        w.note("rebrokered_by_pass")
    return f"hub re-brokers parked orders: {message}"


async def turn_away(w: "World") -> str | None:
    """An associate says the store cannot fill an order (or one line of it)."""
    device = w.device("associate")
    if device is None:
        return None
    rows = device.replica.query(
        "SELECT o.id, o.number, COUNT(*) AS lines FROM orders o JOIN order_lines_now l ON l.order_id = o.id "
        "WHERE o.status IN ('released', 'picking') GROUP BY o.id, o.number HAVING SUM(l.qty_picked) = 0 ORDER BY o.id")
    if not rows:
        return None
    order = w.rng.choice(rows)
    line_no = w.rng.randint(1, order["lines"]) if order["lines"] > 1 and w.rng.random() < 0.5 else None
    feedback = reject_order(device.replica, order["id"], "sim: cannot fill", device.name, role="associate", line_no=line_no)
    w.note("reject")
    return f"{device.name} turns away {order['number']}{f' line {line_no}' if line_no else ''}: {feedback.message}"


async def switch_policy(w: "World") -> str | None:
    name = w.rng.choice(sorted(POLICIES))
    with w.hub.db.write() as conn:
        view = set_policy(conn, POLICIES[name], f"sim: {name}", "simulator")
    w.note("policy_change")
    return f"routing policy set to {name} (version {view['version']})"
