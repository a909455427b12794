"""Stock: an append-only movement ledger, with on-hand per (location, bin, SKU)
kept beside it in the same transaction, and availability for routing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from hub.feed import emit_stock

__all__ = ["Movement", "move", "available", "on_hand_by_bin"]


@dataclass(frozen=True)
class Movement:
    location: str
    bin: str
    sku: str
    qty: int
    reason: str
    order_id: str | None = None
    op_id: str | None = None
    hlc: str | None = None


def move(conn: Connection, m: Movement) -> int:
    """Record a movement and its effect on on-hand; returns the change-feed seq."""
    conn.execute(
        text(
            "INSERT INTO movements (location, bin, sku, qty, reason, order_id, op_id, hlc) "
            "VALUES (:location, :bin, :sku, :qty, :reason, :order_id, :op_id, :hlc)"
        ),
        m.__dict__,
    )
    conn.execute(
        text(
            "INSERT INTO stock (location, bin, sku, on_hand) VALUES (:location, :bin, :sku, :qty) "
            "ON CONFLICT (location, bin, sku) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand"
        ),
        m.__dict__,
    )
    return emit_stock(conn, m.location, m.bin, m.sku)


def available(conn: Connection, location: str, sku: str) -> int:
    """On-hand at the location less what reservations hold."""
    on_hand = conn.execute(
        text("SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE location = :l AND sku = :s"),
        {"l": location, "s": sku},
    ).scalar_one()
    held = conn.execute(
        text("SELECT COALESCE(SUM(qty), 0) FROM reservations WHERE location = :l AND sku = :s"),
        {"l": location, "s": sku},
    ).scalar_one()
    return int(on_hand) - int(held)


def on_hand_by_bin(conn: Connection, location: str, sku: str) -> list[tuple[str, int, int]]:
    """(bin, pick-path seq, on_hand) for bins holding the SKU, in pick-path order."""
    rows = conn.execute(
        text(
            "SELECT s.bin, b.seq, s.on_hand FROM stock s "
            "JOIN bins b ON b.location = s.location AND b.code = s.bin "
            "WHERE s.location = :l AND s.sku = :s AND s.on_hand > 0 ORDER BY b.seq"
        ),
        {"l": location, "s": sku},
    ).all()
    return [(r.bin, r.seq, r.on_hand) for r in rows]
