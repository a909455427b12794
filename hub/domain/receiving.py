"""Goods receipt on the floor: units an associate put into a bin of their location,
scanned from the delivery. A fact: the units are on the shelf whatever the hub knew.
The ledger gets a `receipt` movement and `goods_receipts` what it came with; a SKU the
hub's catalogue does not know is received all the same and a supervisor is asked to
identify it (rule `receipt_unknown_sku`). Who may send it, and that the bin is at the
sender's location, is sync.authority's rule, checked before this runs."""

from __future__ import annotations

from hub.domain.followups import settled
from hub.domain.stock import Movement, move
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import GoodsReceived
from sync.models import Op
from sync.rules import Conflict, Decision, Task

__all__ = ["goods_received"]


def goods_received(conn: Tx, ctx: Context, op: Op, p: GoodsReceived) -> Outcome:
    """Apply a receipt: a movement of +qty into the bin, its receipt row, and a task when
    the SKU is unknown. Never refused (the bin's scope was checked by the hub's authority)."""
    here = ctx.here
    move(conn, Movement(here, p.bin, p.sku, p.qty, "receipt", None, op.op_id, op.hlc))
    conn.execute(
        "INSERT INTO goods_receipts (op_id, location, bin, sku, qty, gtin, batch, expiry, reference, actor, hlc) "
        "VALUES (:op, :l, :b, :s, :q, :g, :batch, :e, :r, :a, :h)",
        {"op": op.op_id, "l": here, "b": p.bin, "s": p.sku, "q": p.qty, "g": p.gtin, "batch": p.batch,
         "e": p.expiry.isoformat() if p.expiry else None, "r": p.reference, "a": op.actor, "h": op.hlc},
    )
    known = conn.execute("SELECT 1 FROM items WHERE sku = :s", {"s": p.sku}).first() is not None
    return settled(conn, ctx, op, Decision(apply_qty=p.qty) if known else _unknown_sku(p), here)


def _unknown_sku(p: GoodsReceived) -> Decision:
    """Rule `receipt_unknown_sku`: the units stand in the bin; a supervisor identifies them."""
    scanned = f" (barcode {p.gtin})" if p.gtin else ""
    return Decision(
        apply_qty=p.qty,
        tasks=(Task("identify", f"Identify {p.qty} units received into bin {p.bin} as {p.sku}{scanned}: "
                                "the catalogue has no such item.", "supervisor",
                    {"sku": p.sku, "bin": p.bin, "qty": p.qty, "gtin": p.gtin}),),
        conflict=Conflict("receipt_unknown_sku", {"sku": p.sku, "bin": p.bin, "qty": p.qty}, "receipt stands; identify task"),
    )
