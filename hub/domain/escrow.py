"""Escrow: each terminal holds allotments (leases) of units per (location, SKU)
that only it may reserve from, so it can confirm orders offline without the hub
overselling them to other channels meanwhile.

Only the holder gives units back (`allotment.released`), except when a lease
has been expired for longer than the grace period: then the hub reclaims it.
Every grant, reclaim and reservation is a logged op, checked against the
invariant reserved + allotted <= on_hand - safety."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from hub.commands import AllotmentGranted, AllotmentReclaimed, PolicySet
from hub.domain.followups import settled
from hub.domain.orders import create_order
from hub.domain.pickups import pickup_code
from hub.domain.stock import commitments, promising
from hub.escrow_evidence import evidence_for
from hub.feed import device_scope, emit
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.hlc import Timestamp
from sync.kinds import AllotmentReleased, ReservationRequested
from sync.models import Op, OrderIn
from sync.rules import Conflict, Decision, Task

__all__ = ["ESCROW_ROLES", "outstanding", "policy_set", "allotment_granted", "allotment_reclaimed",
           "allotment_released", "reservation_requested", "draw_allotment", "hand_allotment"]

ESCROW_ROLES = ("terminal",)


def outstanding(conn: Tx, device_id: str, sku: str) -> int:
    row = conn.execute(
        "SELECT granted - used - released FROM allotments WHERE device_id = :d AND sku = :s",
        {"d": device_id, "s": sku},
    ).scalar()
    return int(row or 0)


def _emit_allotment(conn: Tx, device_id: str, sku: str) -> None:
    row = conn.execute(
        "SELECT location, granted, granted - used - released AS outstanding, target, expires_at FROM allotments "
        "WHERE device_id = :d AND sku = :s",
        {"d": device_id, "s": sku},
    ).one()
    # The hub's signed word for what it granted in all, which the device hands back with the
    # orders it confirms from the allotment: a hub restored from an older backup honours them.
    evidence = evidence_for(conn, device_id, row.location, sku, int(row.granted), row.expires_at)
    emit(conn, device_scope(device_id), "allotment", sku,
         {"sku": sku, "outstanding": row.outstanding, "target": row.target, "expires_at": row.expires_at,
          "evidence": evidence})


def policy_set(conn: Tx, _ctx: Context, _op: Op, p: PolicySet) -> Outcome:
    conn.execute(
        "INSERT INTO stock_policy (location, sku, safety_stock, escrow_floor) VALUES (:location, :sku, :safety_stock, :escrow_floor) "
        "ON CONFLICT (location, sku) DO UPDATE SET safety_stock = excluded.safety_stock, escrow_floor = excluded.escrow_floor",
        p.model_dump(),
    )
    return Outcome()


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


def allotment_reclaimed(conn: Tx, ctx: Context, op: Op, p: AllotmentReclaimed) -> Outcome:
    qty = min(p.qty, outstanding(conn, p.device_id, p.sku))
    _release(conn, p.device_id, p.sku, qty)
    location = conn.execute("SELECT location FROM allotments WHERE device_id = :d AND sku = :s", {"d": p.device_id, "s": p.sku}).scalar()
    decision = Decision(conflict=Conflict("escrow_reclaimed", {"device_id": p.device_id, "sku": p.sku, "qty": qty}, "lease expired past grace; units back in the pool"))
    return settled(conn, Context(p.device_id, location, ctx.role), op, decision, location)


def allotment_released(conn: Tx, ctx: Context, _op: Op, p: AllotmentReleased) -> Outcome:
    _release(conn, ctx.device_id, p.sku, min(p.qty, outstanding(conn, ctx.device_id, p.sku)))
    return Outcome()


def _release(conn: Tx, device_id: str, sku: str, qty: int) -> None:
    if qty <= 0:
        return
    conn.execute("UPDATE allotments SET released = released + :q WHERE device_id = :d AND sku = :s", {"q": qty, "d": device_id, "s": sku})
    _emit_allotment(conn, device_id, sku)


def reservation_requested(conn: Tx, ctx: Context, op: Op, p: ReservationRequested) -> Outcome:
    channel = f"terminal:{ctx.device_id[:8]}"
    if conn.execute("SELECT 1 FROM orders WHERE id = :o OR (channel = :c AND number = :n)",
                    {"o": p.order_id, "c": channel, "n": p.number}).first():
        return Outcome.refused("duplicate_order", f"order {p.order_id} or number {p.number} exists already")
    need: dict[str, int] = {}
    for i, line in enumerate(p.lines):
        if conn.execute("SELECT 1 FROM items WHERE sku = :s", {"s": line.sku}).first() is None:
            return Outcome.refused("unknown_sku", f"payload.lines.{i}.sku: unknown SKU {line.sku!r}")
        need[line.sku] = need.get(line.sku, 0) + line.qty
    regranted = _regrant_forgotten(conn, ctx, op, p, need)
    from_escrow = p.from_allotment and all(outstanding(conn, ctx.device_id, s) >= q for s, q in need.items())
    if not from_escrow:
        short = {s: commitments(conn, ctx.here, s).free for s, q in need.items() if commitments(conn, ctx.here, s).free < q}
        if short:
            code = "escrow_lapsed" if p.from_allotment else "insufficient_stock"
            return Outcome.refused(code, "not enough stock: " + ", ".join(f"{s} has {max(f, 0)} free" for s, f in sorted(short.items())))
    order = OrderIn(number=p.number, channel=channel, fulfilment=p.fulfilment,
                    promised_by=p.promised_by, customer_name=p.customer_name, location=ctx.location,
                    lines=[{"sku": l.sku, "qty": l.qty} for l in p.lines])
    created_at = datetime.fromtimestamp(Timestamp.decode(op.hlc).wall_ms / 1000, timezone.utc).isoformat()
    with promising(conn, ctx.here, need):
        if from_escrow:
            # Units move from the device's allotment into the order's reservation.
            for sku, qty in need.items():
                conn.execute("UPDATE allotments SET used = used + :q WHERE device_id = :d AND sku = :s",
                             {"q": qty, "d": ctx.device_id, "s": sku})
        create_order(conn, p.order_id, created_at, order, ctx.location, pickup_code(op.op_id))
    if from_escrow:
        for sku in need:
            _emit_allotment(conn, ctx.device_id, sku)
    message = "reserved from this device's allotment" if from_escrow else "reserved from the store's free stock"
    if regranted is not None:
        return settled(conn, ctx, op, replace(regranted, message=f"{message}; {regranted.message}"), ctx.location, p.order_id)
    return Outcome(message=message)


# -- escrow through a restore ------------------------------------------------------------
def _regrant_forgotten(conn: Tx, ctx: Context, op: Op, p: ReservationRequested, need: dict[str, int]) -> Decision | None:
    """A hub restored from a backup taken before a grant has forgotten it; the terminal
    confirmed this order from it offline and hands back the hub's signed word for what it
    had been granted (checked at the door: hub.escrow_evidence). Re-grant what the order
    lacks, no more than the evidence shows forgotten and only for a lease running at the
    op's time, so the order is honoured from the allotment. Outside `promising` on
    purpose: the customer was promised already, like a fact; if the stock moved since
    (the re-grant takes the location past on_hand - safety) a supervisor is told.
    None (nothing written) unless the evidence covers every SKU the allotment lacks."""
    if not p.from_allotment or not p.allotment_evidence:
        return None
    said = {e.sku: e for e in p.allotment_evidence}
    at = datetime.fromtimestamp(Timestamp.decode(op.hlc).wall_ms / 1000, timezone.utc)
    plan: dict[str, tuple[int, int]] = {}
    for sku, qty in sorted(need.items()):
        short = qty - outstanding(conn, ctx.device_id, sku)
        if short <= 0:
            continue
        e = said.get(sku)
        held = int(conn.execute("SELECT granted FROM allotments WHERE device_id = :d AND sku = :s",
                                {"d": ctx.device_id, "s": sku}).scalar() or 0)
        if e is None or not _running(e.expires_at, at) or e.granted - held < short:
            return None
        plan[sku] = (short, held)
    if not plan:
        return None
    for sku, (qty, _held) in plan.items():
        conn.execute(
            "INSERT INTO allotments (device_id, location, sku, granted, used, released, target, expires_at) "
            "VALUES (:d, :l, :s, :q, 0, 0, 0, :e) ON CONFLICT (device_id, sku) DO UPDATE SET "
            "granted = allotments.granted + excluded.granted, "
            "expires_at = CASE WHEN allotments.expires_at > excluded.expires_at THEN allotments.expires_at ELSE excluded.expires_at END",
            {"d": ctx.device_id, "l": ctx.here, "s": sku, "q": qty, "e": said[sku].expires_at},
        )
    over = {sku: min(qty, -free) for sku, (qty, _h) in plan.items() if (free := commitments(conn, ctx.here, sku).free) < 0}
    inputs = {"order_id": p.order_id, "regranted": {s: q for s, (q, _h) in plan.items()},
              "hub_granted": {s: h for s, (_q, h) in plan.items()}, "evidence_granted": {s: said[s].granted for s in plan},
              "over": over}
    tasks = tuple(Task("escrow_over", f"Escrow honoured after restore: {n} × {sku} over what the store holds. "
                                      f"Check {sku}'s stock and the orders waiting on it.", "supervisor",
                       {"sku": sku, "qty": n, "order_id": p.order_id}) for sku, n in sorted(over.items()))
    said_back = ", ".join(f"{q} × {s}" for s, (q, _h) in plan.items())
    outcome = f"re-granted {said_back} the hub had forgotten (restored from a backup)" + (
        "; " + ", ".join(f"{n} × {s}" for s, n in sorted(over.items())) + " over what the store holds" if over else "")
    return Decision(tasks=tasks, conflict=Conflict("escrow_regranted", inputs, outcome), message=outcome)


def _running(expires_at: str, at: datetime) -> bool:
    try:
        end = datetime.fromisoformat(expires_at)
    except ValueError:
        return False
    return at < (end if end.tzinfo else end.replace(tzinfo=timezone.utc))


def draw_allotment(conn: Tx, device_id: str, sku: str, qty: int) -> None:
    """Units of the device's allotment go to an order (a substitute picked offline):
    the caller checked `outstanding` and guards the invariant (`promising`)."""
    conn.execute("UPDATE allotments SET used = used + :q WHERE device_id = :d AND sku = :s",
                 {"q": qty, "d": device_id, "s": sku})
    _emit_allotment(conn, device_id, sku)


# -- sync: a swapped handheld ----------------------------------------------------------
def hand_allotment(conn: Tx, from_device: str, to_device: str, sku: str) -> int:
    """Move what `from_device` holds of `sku` to `to_device`, its lease and target with it;
    returns the units moved. The location's allotted total does not change."""
    row = conn.execute("SELECT location, granted - used - released AS outstanding, target, expires_at FROM allotments "
                       "WHERE device_id = :d AND sku = :s", {"d": from_device, "s": sku}).first()
    if row is None or row.outstanding <= 0:
        return 0
    _release(conn, from_device, sku, row.outstanding)
    conn.execute(
        "INSERT INTO allotments (device_id, location, sku, granted, used, released, target, expires_at) "
        "VALUES (:d, :l, :s, :q, 0, 0, :t, :e) ON CONFLICT (device_id, sku) DO UPDATE SET "
        "granted = allotments.granted + excluded.granted, target = excluded.target, "
        "expires_at = CASE WHEN allotments.expires_at > excluded.expires_at THEN allotments.expires_at ELSE excluded.expires_at END",
        {"d": to_device, "l": row.location, "s": sku, "q": row.outstanding, "t": row.target, "e": row.expires_at},
    )
    _emit_allotment(conn, to_device, sku)
    return int(row.outstanding)
