"""Stock: an append-only movement ledger, with on-hand per (location, bin, SKU)
kept beside it in the same transaction, availability for routing, and the ops
that move stock outside picking: receipts, cycle counts and moves between bins."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

from hub.commands import StockReceived
from hub.domain.followups import settled
from hub.errors import InvariantBroken
from hub.feed import emit_stock
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import CountRecorded, StockMoved
from sync.models import Op
from sync.rules import Conflict, Decision, Task, settle_count, unknown_sku_fact

__all__ = ["Movement", "Commitments", "move", "commitments", "promising", "available", "on_hand_by_bin",
           "release_order",
           "RECOUNT_THRESHOLD", "stock_received", "count_recorded", "stock_moved"]


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


def move(conn: Tx, m: Movement) -> None:
    """Record a movement and its effect on on-hand; the bin's on-hand reaches the feed."""
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
    emit_stock(conn, m.location, m.bin, m.sku)


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
    # One statement, not four: on PostgreSQL each is a round trip, and a routed order reads this twice a line.
    on_hand, reserved, allotted, safety = conn.execute(
        "SELECT (SELECT COALESCE(SUM(on_hand), 0) FROM stock WHERE location = :l AND sku = :s), "
        "(SELECT COALESCE(SUM(qty), 0) FROM reservations WHERE location = :l AND sku = :s), "
        "(SELECT COALESCE(SUM(granted - used - released), 0) FROM allotments WHERE location = :l AND sku = :s), "
        "(SELECT safety_stock FROM stock_policy WHERE location = :l AND sku = :s)",
        {"l": location, "s": sku},
    ).one()
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
    or shorted and stays (hub.domain.pick_state): deleting it there cost three B-tree writes
    a pick, and every reader sums reservations, so a row at 0 holds nothing."""
    conn.execute("DELETE FROM reservations WHERE order_id = :o", {"o": order_id})


# -- ops that move stock -------------------------------------------------------------
# A count off by more than this many units asks a supervisor for a recount.
RECOUNT_THRESHOLD = 2


def stock_received(conn: Tx, _ctx: Context, op: Op, p: StockReceived) -> Outcome:
    if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": p.location, "b": p.bin}).first() is None:
        return Outcome.refused("invalid", f"bin: no bin {p.bin!r} at {p.location!r}")
    if conn.execute("SELECT 1 FROM items WHERE sku = :s", {"s": p.sku}).first() is None:
        return Outcome.refused("invalid", f"sku: unknown SKU {p.sku!r}")
    move(conn, Movement(p.location, p.bin, p.sku, p.qty, "receipt", None, op.op_id, op.hlc))
    return Outcome()


def count_recorded(conn: Tx, ctx: Context, op: Op, p: CountRecorded) -> Outcome:
    if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": ctx.location, "b": p.bin}).first() is None:
        return Outcome.refused("unknown_bin", f"there is no bin {p.bin} at {ctx.location}")
    # The count is a snapshot at the op's HLC time: compare with what the ledger
    # said then, so movements after it stay on top of the adjustment.
    expected = conn.execute(
        "SELECT COALESCE(SUM(qty), 0) FROM movements WHERE location = :l AND bin = :b AND sku = :s AND hlc <= :t",
        {"l": ctx.location, "b": p.bin, "s": p.sku, "t": op.hlc},
    ).scalar_one()
    decision = unknown_sku_fact(settle_count(p.counted, int(expected), RECOUNT_THRESHOLD, p.sku, p.bin), p.sku, p.bin,
                                _known_sku(conn, p.sku))
    if decision.apply_qty:
        reason = f"count:{p.reason.value}" if p.reason else "count"
        move(conn, Movement(ctx.here, p.bin, p.sku, decision.apply_qty, reason, None, op.op_id, op.hlc))
    return settled(conn, ctx, op, decision, ctx.location)


def stock_moved(conn: Tx, ctx: Context, op: Op, p: StockMoved) -> Outcome:
    for code in (p.from_bin, p.to_bin):
        if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": ctx.location, "b": code}).first() is None:
            return Outcome.refused("unknown_bin", f"there is no bin {code} at {ctx.location}")
    if p.from_bin == p.to_bin:
        return Outcome.refused("same_bin", "a move needs two different bins")
    move(conn, Movement(ctx.here, p.from_bin, p.sku, -p.qty, "move", None, op.op_id, op.hlc))
    move(conn, Movement(ctx.here, p.to_bin, p.sku, p.qty, "move", None, op.op_id, op.hlc))
    left = conn.execute(
        "SELECT on_hand FROM stock WHERE location = :l AND bin = :b AND sku = :s", {"l": ctx.location, "b": p.from_bin, "s": p.sku}
    ).scalar_one()
    decision = Decision(apply_qty=p.qty)
    if left < 0:
        # Rule `move_beyond_on_hand`: the units moved (a fact); the ledger was wrong about the source bin.
        decision = Decision(
            apply_qty=p.qty,
            tasks=(Task("recount", f"Recount {p.sku} in bin {p.from_bin}: more were moved out than the books held.",
                        "supervisor", {"sku": p.sku, "bin": p.from_bin}),),
            conflict=Conflict("move_beyond_on_hand", {"on_hand": left + p.qty, "moved": p.qty}, "move stands; source bin recount"),
        )
    decision = unknown_sku_fact(decision, p.sku, p.from_bin, _known_sku(conn, p.sku))
    return settled(conn, ctx, op, decision, ctx.location)


def _known_sku(conn: Tx, sku: str) -> bool:
    return conn.execute("SELECT 1 FROM items WHERE sku = :s", {"s": sku}).first() is not None
