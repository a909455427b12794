"""What picking ops do to hub state. Picks and shorts are facts: they always
stand; where they collide with hub state the collision becomes a compensation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Connection, text

from hub.devices import Device
from hub.feed import emit_order
from hub.stock import Movement, move
from sync.kinds import PickConfirmed, PickShorted
from sync.models import Compensation, Op

__all__ = ["Outcome", "HANDLERS"]


@dataclass
class Outcome:
    """A handler's verdict: a reason code means refused; otherwise applied."""

    reason_code: str | None = None
    message: str = ""
    compensations: list[Compensation] = field(default_factory=list)


def _line(conn: Connection, order_id: str, line_no: int):
    return conn.execute(
        text(
            "SELECT o.location, o.status, l.sku, l.qty, l.qty_picked, l.qty_short "
            "FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE l.order_id = :o AND l.line_no = :n"
        ),
        {"o": order_id, "n": line_no},
    ).first()


def _refusal(line, device: Device, payload) -> Outcome | None:
    if line is None:
        return Outcome("unknown_order_line", f"order line {payload.order_id}#{payload.line_no} does not exist")
    if line.location != device.location:
        return Outcome("out_of_scope", "this order belongs to another location")
    if line.sku != payload.sku:
        return Outcome("wrong_item", f"line {payload.line_no} asks for {line.sku}, not {payload.sku}")
    return None


def pick_confirmed(conn: Connection, device: Device, op: Op, p: PickConfirmed) -> Outcome:
    line = _line(conn, p.order_id, p.line_no)
    if (refusal := _refusal(line, device, p)) is not None:
        return refusal
    move(conn, Movement(device.location, p.bin, p.sku, -p.qty, "pick", p.order_id, op.op_id, op.hlc))
    open_qty = max(line.qty - line.qty_picked - line.qty_short, 0)
    if line.status == "cancelled":
        open_qty = 0
    fill = min(p.qty, open_qty)
    _update_line(conn, p.order_id, p.line_no, picked=fill)
    _release(conn, p.order_id, p.line_no, fill)
    _settle_order(conn, p.order_id)
    excess = p.qty - fill
    if not excess:
        return Outcome()
    why = "the order was cancelled" if line.status == "cancelled" else "the line was already filled"
    return Outcome(compensations=[_put_back(p, excess, why)])


def pick_shorted(conn: Connection, device: Device, op: Op, p: PickShorted) -> Outcome:
    line = _line(conn, p.order_id, p.line_no)
    if (refusal := _refusal(line, device, p)) is not None:
        return refusal
    short = min(p.qty, max(line.qty - line.qty_picked - line.qty_short, 0))
    _update_line(conn, p.order_id, p.line_no, short=short, reason=p.reason.value)
    _release(conn, p.order_id, p.line_no, short)
    _settle_order(conn, p.order_id)
    return Outcome()


def _put_back(p: PickConfirmed, qty: int, why: str) -> Compensation:
    return Compensation(
        kind="put_back",
        sentence=f"Put {qty} × {p.sku} back in bin {p.bin}: {why}.",
        details={"order_id": p.order_id, "line_no": p.line_no, "bin": p.bin, "sku": p.sku, "qty": qty},
    )


def _update_line(conn: Connection, order_id: str, line_no: int, picked: int = 0, short: int = 0, reason: str | None = None) -> None:
    conn.execute(
        text(
            "UPDATE order_lines SET qty_picked = qty_picked + :p, qty_short = qty_short + :s, "
            "short_reason = COALESCE(:r, short_reason) WHERE order_id = :o AND line_no = :n"
        ),
        {"p": picked, "s": short, "r": reason, "o": order_id, "n": line_no},
    )


def _release(conn: Connection, order_id: str, line_no: int, qty: int) -> None:
    """Picked or shorted units no longer need holding."""
    conn.execute(
        text("UPDATE reservations SET qty = qty - :q WHERE order_id = :o AND line_no = :n"),
        {"q": qty, "o": order_id, "n": line_no},
    )
    conn.execute(text("DELETE FROM reservations WHERE order_id = :o AND qty <= 0"), {"o": order_id})


def _settle_order(conn: Connection, order_id: str) -> None:
    """picking while lines are open; then picked, or short if any unit was short."""
    status = conn.execute(text("SELECT status FROM orders WHERE id = :o"), {"o": order_id}).scalar_one()
    if status == "cancelled":
        emit_order(conn, order_id)
        return
    totals = conn.execute(
        text(
            "SELECT SUM(qty) AS qty, SUM(qty_picked) AS picked, SUM(qty_short) AS short "
            "FROM order_lines WHERE order_id = :o"
        ),
        {"o": order_id},
    ).one()
    if totals.picked + totals.short < totals.qty:
        new = "picking"
    else:
        new = "short" if totals.short else "picked"
    conn.execute(text("UPDATE orders SET status = :s WHERE id = :o"), {"s": new, "o": order_id})
    emit_order(conn, order_id)


HANDLERS: dict[str, Callable[..., Outcome]] = {
    "pick.confirmed": pick_confirmed,
    "pick.shorted": pick_shorted,
}
