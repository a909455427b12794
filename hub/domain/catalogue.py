"""Hub commands that shape the store: items with barcodes, locations, bins,
Each is logged and replayed like any op."""

from __future__ import annotations

from hub.commands import BinAdded, ItemUpserted, LocationAdded
from hub.feed import ALL_LOCATIONS, emit
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op

__all__ = ["item_upserted", "location_added", "bin_added"]


def item_upserted(conn: Tx, _ctx: Context, _op: Op, p: ItemUpserted) -> Outcome:
    for code in p.barcodes:
        owner = conn.execute("SELECT sku FROM barcodes WHERE code = :c", {"c": code}).scalar()
        if owner not in (None, p.sku):
            return Outcome.refused("invalid", f"barcodes: {code} already belongs to {owner}")
    conn.execute(
        "INSERT INTO items (sku, name, unit_weight_g) VALUES (:s, :n, :w) "
        "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, unit_weight_g = excluded.unit_weight_g",
        {"s": p.sku, "n": p.name, "w": p.unit_weight_g},
    )
    for code in p.barcodes:
        conn.execute("INSERT INTO barcodes (code, sku) VALUES (:c, :s) ON CONFLICT (code) DO NOTHING", {"c": code, "s": p.sku})
    codes = [r.code for r in conn.execute("SELECT code FROM barcodes WHERE sku = :s ORDER BY code", {"s": p.sku})]
    emit(conn, ALL_LOCATIONS, "item", p.sku, {"sku": p.sku, "name": p.name, "unit_weight_g": p.unit_weight_g, "barcodes": codes})
    return Outcome()


def location_added(conn: Tx, _ctx: Context, _op: Op, p: LocationAdded) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.code}).first():
        return Outcome.refused("invalid", f"code: location {p.code} exists already")
    conn.execute("INSERT INTO locations (code, name, kind) VALUES (:code, :name, :kind)", p.model_dump())
    return Outcome()


def bin_added(conn: Tx, _ctx: Context, _op: Op, p: BinAdded) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.location}).first() is None:
        return Outcome.refused("invalid", f"location: unknown location {p.location!r}")
    conn.execute(
        "INSERT INTO bins (location, code, seq) VALUES (:l, :c, :s) ON CONFLICT (location, code) DO UPDATE SET seq = excluded.seq",
        {"l": p.location, "c": p.code, "s": p.seq},
    )
    emit(conn, p.location, "bin", p.code, {"code": p.code, "seq": p.seq})
    return Outcome()
