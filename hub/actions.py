"""What the API, the CLI and the console ask of the hub: each call turns a request
into hub commands run through the log, so every change is logged and replayed like
a device's op. The domain never imports this module."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from hub.api.reads import get_order
from hub.credentials import Device, revoke_device as _revoke_credentials
from hub.domain.escrow import ESCROW_ROLES
from hub.domain.orders import find_order
from hub.domain.pickups import READY_STATUSES, pickup_code, utc
from hub.domain.stock import commitments
from hub.log import run_hub_command
from hub.routing_actions import synced_signal
from hub.store.tx import Tx
from sync.models import OrderIn

__all__ = ["accept_order", "rebalance", "sweep_pickups", "revoke_device", "draw_pickup_code", "LEASE", "RECLAIM_GRACE",
           "ESCROW_ROLES"]

LEASE = timedelta(hours=2)  # how long a terminal's allotment lasts without a sync
RECLAIM_GRACE = timedelta(minutes=30)
DEMAND_WINDOW = 50  # recent reservation ops of a device that set its targets


def accept_order(conn: Tx, order: OrderIn, now_iso: str) -> tuple[dict[str, Any], bool]:
    """Store, route and reserve an order. Returns (order, created).

    Posting the same channel + number again returns the stored order unchanged,
    so a channel may retry safely. Raises Invalid for an unknown SKU or location."""
    existing = find_order(conn, order.channel, order.number)
    if existing is not None:
        return existing, False
    order_id = str(uuid.uuid4())
    payload = {"id": order_id, "created_at": now_iso, "order": order.model_dump(mode="json")}
    if order.fulfilment == "pickup":
        payload["pickup_code"] = draw_pickup_code()
    if (synced := synced_signal(conn)) is not None:  # routing: the policy filters on device syncs
        payload["synced"] = synced
    run_hub_command(conn, "order.accepted", payload, actor=f"channel:{order.channel}")
    return get_order(conn, order_id), True


def draw_pickup_code() -> str:
    """Six random characters a person can read aloud: unknown to anyone who only knows
    the order, unlike a code derived from its id."""
    return pickup_code(secrets.token_hex(16))


def revoke_device(conn: Tx, device_id: str, by: str, client: str = "") -> Device:
    """Refuse the device's token from now on, and take back the escrow units it held
    (a lost terminal promises nothing more). Raises NotFound.

    Ops the device recorded and had not pushed are never applied: the hub answers its
    token 401, and they stay in its outbox (`backroom edge status` shows them)."""
    device = _revoke_credentials(conn, device_id, by, client)
    rows = conn.execute("SELECT sku, granted - used - released AS outstanding FROM allotments "
                        "WHERE device_id = :d AND granted - used - released > 0 ORDER BY sku", {"d": device_id}).all()
    for r in rows:
        run_hub_command(conn, "allotment.reclaimed", {"device_id": device_id, "sku": r.sku, "qty": r.outstanding}, actor=by[:64])
    return device


def rebalance(conn: Tx, device: Device, now: datetime) -> int:
    """Top up, renew, retarget or reclaim this terminal's allotments; returns the
    number of commands issued. Call inside a write transaction."""
    if device.role not in ESCROW_ROLES:
        return 0
    issued = 0
    for sku, target in sorted(_targets(conn, device).items()):
        issued += _rebalance_sku(conn, device, sku, target, now)
    issued += _reclaim_expired(conn, now)
    return issued


def _targets(conn: Tx, device: Device) -> dict[str, int]:
    """Target per SKU: the location's escrow floor, or recent demand if higher."""
    targets = {r.sku: r.escrow_floor for r in conn.execute(
        "SELECT sku, escrow_floor FROM stock_policy WHERE location = :l AND escrow_floor > 0", {"l": device.location})}
    for r in conn.execute("SELECT sku FROM allotments WHERE device_id = :d", {"d": device.id}):
        targets.setdefault(r.sku, 0)
    demand: dict[str, int] = {}
    rows = conn.execute(
        "SELECT payload FROM op_log WHERE device_id = :d AND kind = 'reservation.requested' ORDER BY device_seq DESC LIMIT :n",
        {"d": device.id, "n": DEMAND_WINDOW},
    )
    for row in rows:
        for line in json.loads(row.payload)["lines"]:
            demand[line["sku"]] = demand.get(line["sku"], 0) + line["qty"]
    for sku, qty in demand.items():
        targets[sku] = max(targets.get(sku, 0), qty)
    return targets


def _rebalance_sku(conn: Tx, device: Device, sku: str, target: int, now: datetime) -> int:
    row = conn.execute(
        "SELECT granted - used - released AS outstanding, target, expires_at FROM allotments WHERE device_id = :d AND sku = :s",
        {"d": device.id, "s": sku},
    ).first()
    have = row.outstanding if row else 0
    top_up = max(0, min(target - have, commitments(conn, device.location, sku).free))
    renew = row is None or datetime.fromisoformat(row.expires_at) - now < LEASE / 2 or row.target != target
    if not top_up and not renew:
        return 0
    if row is None and not top_up:
        return 0
    run_hub_command(conn, "allotment.granted", {"device_id": device.id, "location": device.location, "sku": sku,
                                                "qty": top_up, "target": target, "expires_at": (now + LEASE).isoformat()})
    return 1


def _reclaim_expired(conn: Tx, now: datetime) -> int:
    """Leases expired longer than the grace period go back to the pool: a device
    that has been away that long no longer confirms orders from them."""
    rows = conn.execute(
        "SELECT device_id, sku, granted - used - released AS outstanding, expires_at FROM allotments WHERE granted - used - released > 0"
    ).all()
    issued = 0
    for r in rows:
        if datetime.fromisoformat(r.expires_at) + RECLAIM_GRACE < now:
            run_hub_command(conn, "allotment.reclaimed", {"device_id": r.device_id, "sku": r.sku, "qty": r.outstanding})
            issued += 1
    return issued


def sweep_pickups(conn: Tx, now: datetime) -> list[str]:
    """Expire every ready pickup order past its pickup-by time; returns their numbers.
    Each expiry is its own logged hub command carrying `now`."""
    now = utc(now)
    rows = conn.execute(
        f"SELECT id, number, pickup_by FROM orders WHERE fulfilment = 'pickup' AND pickup_by IS NOT NULL "
             f"AND status IN ({', '.join(repr(s) for s in READY_STATUSES)}) ORDER BY pickup_by, number",
    ).all()
    expired = []
    for row in rows:
        if datetime.fromisoformat(row.pickup_by) <= now:
            run_hub_command(conn, "pickup.expired", {"order_id": row.id, "at": now.isoformat()}, actor="sweep")
            expired.append(row.number)
    return expired
