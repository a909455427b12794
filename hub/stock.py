"""Stock: an append-only movement ledger, with on-hand per (location, bin, SKU)
kept beside it in the same transaction, and availability for routing."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

from hub.errors import InvariantBroken
from hub.feed import emit_stock
from hub.tx import Tx

__all__ = ["Movement", "Commitments", "move", "commitments", "promising", "available", "on_hand_by_bin",
           "release_order"]


class Movement(NamedTuple):
    """One line of the stock ledger (a tuple: a pushed pick makes one per unit)."""

    location: str
    bin: str
    sku: str
    qty: int
    reason: str
    order_id: str | None = None
    op_id: str | None = None
    hlc: str | None = None


def move(conn: Tx, m: Movement) -> int:
    """Record a movement and its effect on on-hand; returns the change-feed seq."""
    conn.execute(
        "INSERT INTO movements (location, bin, sku, qty, reason, order_id, op_id, hlc) "
        "VALUES (:location, :bin, :sku, :qty, :reason, :order_id, :op_id, :hlc)",
        m._asdict(),
    )
    conn.execute(
        "INSERT INTO stock (location, bin, sku, on_hand) VALUES (:location, :bin, :sku, :qty) "
        "ON CONFLICT (location, bin, sku) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand",
        m._asdict(),
    )
    return emit_stock(conn, m.location, m.bin, m.sku)


@dataclass(frozen=True)
class Commitments:
    """What a (location, SKU) holds and has promised."""

    on_hand: int
    reserved: int
    allotted: int  # outstanding escrow allotments of all devices
    safety: int

    @property
    def free(self) -> int:
        """Units the hub may still promise: the invariant is free >= 0."""
        return self.on_hand - self.safety - self.reserved - self.allotted


def commitments(conn: Tx, location: str, sku: str) -> Commitments:
    params = {"l": location, "s": sku}
    on_hand = conn.execute("SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE location = :l AND sku = :s", params).scalar_one()
    reserved = conn.execute("SELECT COALESCE(SUM(qty), 0) FROM reservations WHERE location = :l AND sku = :s", params).scalar_one()
    allotted = conn.execute(
        "SELECT COALESCE(SUM(granted - used - released), 0) FROM allotments WHERE location = :l AND sku = :s", params
    ).scalar_one()
    safety = conn.execute("SELECT safety_stock FROM stock_policy WHERE location = :l AND sku = :s", params).scalar()
    return Commitments(int(on_hand), int(reserved), int(allotted), int(safety or 0))


@contextmanager
def promising(conn: Tx, location: str, skus: Iterable[str]) -> Iterator[None]:
    """Guard a request that promises stock: afterwards reserved + allotted must stay
    within on_hand - safety, or at least not drift further past it than facts
    (over-picks, counts down) had already taken it. Otherwise the handler has a
    bug: raise, and the whole transaction rolls back."""
    skus = sorted(set(skus))
    before = {sku: commitments(conn, location, sku).free for sku in skus}
    yield
    for sku in skus:
        c = commitments(conn, location, sku)
        if c.free < 0 and c.free < before[sku]:
            raise InvariantBroken(
                f"{location}/{sku}: reserved {c.reserved} + allotted {c.allotted} > on hand {c.on_hand} - safety {c.safety}"
            )


def available(conn: Tx, location: str, sku: str) -> int:
    """Units that may still be promised at the location (see Commitments.free)."""
    return commitments(conn, location, sku).free


def on_hand_by_bin(conn: Tx, location: str, sku: str) -> list[tuple[str, int, int]]:
    """(bin, pick-path seq, on_hand) for bins holding the SKU, in pick-path order."""
    rows = conn.execute(
        "SELECT s.bin, b.seq, s.on_hand FROM stock s "
        "JOIN bins b ON b.location = s.location AND b.code = s.bin "
        "WHERE s.location = :l AND s.sku = :s AND s.on_hand > 0 ORDER BY b.seq",
        {"l": location, "s": sku},
    ).all()
    return [(r.bin, r.seq, r.on_hand) for r in rows]


def release_order(conn: Tx, order_id: str) -> None:
    """The order has gone (handed over, shipped, cancelled, expired): its lines hold
    nothing any more. Until then a line's reservation counts down to 0 as it is picked
    or shorted and stays (hub.pick_state): deleting it there cost three B-tree writes
    a pick, and every reader sums reservations, so a row at 0 holds nothing."""
    conn.execute("DELETE FROM reservations WHERE order_id = :o", {"o": order_id})
