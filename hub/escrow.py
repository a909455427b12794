"""Escrow: each terminal holds allotments (leases) of units per (location, SKU)
that only it may reserve from, so it can confirm orders offline without the hub
overselling them to other channels meanwhile.

Only the holder gives units back (`allotment.released`), except when a lease
has been expired for longer than the grace period: then the hub reclaims it.
Every grant, reclaim and reservation is a logged op, checked against the
invariant reserved + allotted <= on_hand - safety."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, ConfigDict, Field

from hub.devices import Device
from hub.feed import emit
from hub.followups import settled
from hub.log import Context, Outcome, hub_payload, register, run_hub_command
from hub.orders import create_order
from hub.stock import commitments, promising
from hub.tx import Tx
from sync.hlc import Timestamp
from sync.kinds import AllotmentReleased, ReservationRequested
from sync.models import Op, OrderIn
from sync.rules import Conflict, Decision

__all__ = ["ESCROW_ROLES", "LEASE", "RECLAIM_GRACE", "rebalance", "outstanding", "device_scope"]

ESCROW_ROLES = ("terminal",)
LEASE = timedelta(hours=2)
RECLAIM_GRACE = timedelta(minutes=30)
DEMAND_WINDOW = 50  # recent reservation ops of a device that set its targets


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicySet(_Command):
    location: str
    sku: str
    safety_stock: int = Field(ge=0)
    escrow_floor: int = Field(ge=0)


class AllotmentGranted(_Command):
    device_id: str
    location: str
    sku: str
    qty: int = Field(ge=0)  # 0 renews the lease or changes the target only
    target: int = Field(ge=0)
    expires_at: str


class AllotmentReclaimed(_Command):
    device_id: str
    sku: str
    qty: int = Field(gt=0)


def device_scope(device_id: str) -> str:
    """The change-feed scope of one device's own rows (its allotments)."""
    return f"device:{device_id}"


def outstanding(conn: Tx, device_id: str, sku: str) -> int:
    row = conn.execute(
        "SELECT granted - used - released FROM allotments WHERE device_id = :d AND sku = :s",
        {"d": device_id, "s": sku},
    ).scalar()
    return int(row or 0)


def _emit_allotment(conn: Tx, device_id: str, sku: str) -> None:
    row = conn.execute(
        "SELECT location, granted - used - released AS outstanding, target, expires_at FROM allotments WHERE device_id = :d AND sku = :s",
        {"d": device_id, "s": sku},
    ).first()
    emit(conn, device_scope(device_id), "allotment", sku,
         {"sku": sku, "outstanding": row.outstanding, "target": row.target, "expires_at": row.expires_at})


@register("stock.policy_set", hub_payload(PolicySet))
def policy_set(conn: Tx, _ctx: Context, _op: Op, p: PolicySet) -> Outcome:
    conn.execute(
        "INSERT INTO stock_policy (location, sku, safety_stock, escrow_floor) VALUES (:location, :sku, :safety_stock, :escrow_floor) "
        "ON CONFLICT (location, sku) DO UPDATE SET safety_stock = excluded.safety_stock, escrow_floor = excluded.escrow_floor",
        p.model_dump(),
    )
    return Outcome()


@register("allotment.granted", hub_payload(AllotmentGranted))
def allotment_granted(conn: Tx, _ctx: Context, _op: Op, p: AllotmentGranted) -> Outcome:
    if p.qty and p.qty > commitments(conn, p.location, p.sku).free:
        return Outcome.refused("insufficient_stock", f"cannot grant {p.qty} × {p.sku}: not free at {p.location}")
    with promising(conn, p.location, [p.sku]):
        _grant(conn, p)
    _emit_allotment(conn, p.device_id, p.sku)
    return Outcome()


def _grant(conn: Tx, p: AllotmentGranted) -> None:
    conn.execute(
        "INSERT INTO allotments (device_id, location, sku, granted, used, released, target, expires_at) "
        "VALUES (:d, :l, :s, :q, 0, 0, :t, :e) ON CONFLICT (device_id, sku) DO UPDATE SET "
        "granted = allotments.granted + excluded.granted, target = excluded.target, expires_at = excluded.expires_at",
        {"d": p.device_id, "l": p.location, "s": p.sku, "q": p.qty, "t": p.target, "e": p.expires_at},
    )


@register("allotment.reclaimed", hub_payload(AllotmentReclaimed))
def allotment_reclaimed(conn: Tx, ctx: Context, op: Op, p: AllotmentReclaimed) -> Outcome:
    qty = min(p.qty, outstanding(conn, p.device_id, p.sku))
    _release(conn, p.device_id, p.sku, qty)
    location = conn.execute("SELECT location FROM allotments WHERE device_id = :d AND sku = :s", {"d": p.device_id, "s": p.sku}).scalar()
    decision = Decision(conflict=Conflict("escrow_reclaimed", {"device_id": p.device_id, "sku": p.sku, "qty": qty}, "lease expired past grace; units back in the pool"))
    return settled(conn, Context(p.device_id, location), op, decision, location)


@register("allotment.released")
def allotment_released(conn: Tx, ctx: Context, _op: Op, p: AllotmentReleased) -> Outcome:
    _release(conn, ctx.device_id, p.sku, min(p.qty, outstanding(conn, ctx.device_id, p.sku)))
    return Outcome()


def _release(conn: Tx, device_id: str, sku: str, qty: int) -> None:
    if qty <= 0:
        return
    conn.execute("UPDATE allotments SET released = released + :q WHERE device_id = :d AND sku = :s", {"q": qty, "d": device_id, "s": sku})
    _emit_allotment(conn, device_id, sku)


@register("reservation.requested")
def reservation_requested(conn: Tx, ctx: Context, op: Op, p: ReservationRequested) -> Outcome:
    if conn.execute("SELECT 1 FROM orders WHERE id = :o", {"o": p.order_id}).first():
        return Outcome.refused("duplicate_order", f"order {p.order_id} exists already")
    need: dict[str, int] = {}
    for i, line in enumerate(p.lines):
        if conn.execute("SELECT 1 FROM items WHERE sku = :s", {"s": line.sku}).first() is None:
            return Outcome.refused("unknown_sku", f"payload.lines.{i}.sku: unknown SKU {line.sku!r}")
        need[line.sku] = need.get(line.sku, 0) + line.qty
    from_escrow = p.from_allotment and all(outstanding(conn, ctx.device_id, s) >= q for s, q in need.items())
    if not from_escrow:
        short = {s: commitments(conn, ctx.location, s).free for s, q in need.items() if commitments(conn, ctx.location, s).free < q}
        if short:
            code = "escrow_lapsed" if p.from_allotment else "insufficient_stock"
            return Outcome.refused(code, "not enough stock: " + ", ".join(f"{s} has {max(f, 0)} free" for s, f in sorted(short.items())))
    order = OrderIn(number=p.number, channel=f"terminal:{ctx.device_id[:8]}", fulfilment=p.fulfilment,
                    promised_by=p.promised_by, customer_name=p.customer_name, location=ctx.location,
                    lines=[{"sku": l.sku, "qty": l.qty} for l in p.lines])
    created_at = datetime.fromtimestamp(Timestamp.decode(op.hlc).wall_ms / 1000, timezone.utc).isoformat()
    with promising(conn, ctx.location, need):
        if from_escrow:
            # Units move from the device's allotment into the order's reservation.
            for sku, qty in need.items():
                conn.execute("UPDATE allotments SET used = used + :q WHERE device_id = :d AND sku = :s",
                             {"q": qty, "d": ctx.device_id, "s": sku})
        create_order(conn, p.order_id, created_at, order, ctx.location)
    if from_escrow:
        for sku in need:
            _emit_allotment(conn, ctx.device_id, sku)
    return Outcome(message="reserved from this device's allotment" if from_escrow else "reserved from the store's free stock")


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
