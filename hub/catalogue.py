"""Hub commands that shape the store: items with barcodes, locations, bins,
and stock received. Each is logged and replayed like any op."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.feed import ALL_LOCATIONS, emit
from hub.log import Context, Outcome, hub_payload, register
from hub.stock import Movement, move
from hub.tx import Tx
from sync.models import Op

__all__ = ["ItemUpserted", "LocationAdded", "BinAdded", "StockReceived", "LOCATION_KINDS"]

LOCATION_KINDS = ("store", "warehouse", "dark_store")


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemUpserted(_Command):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit_weight_g: int | None = Field(default=None, ge=0)
    barcodes: list[str] = Field(default_factory=list)


class LocationAdded(_Command):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern="^(store|warehouse|dark_store)$")


class BinAdded(_Command):
    location: str = Field(min_length=1)
    code: str = Field(min_length=1, max_length=64)
    seq: int


class StockReceived(_Command):
    location: str = Field(min_length=1)
    bin: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    qty: int = Field(gt=0)


@register("catalogue.item_upserted", hub_payload(ItemUpserted))
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


@register("location.added", hub_payload(LocationAdded))
def location_added(conn: Tx, _ctx: Context, _op: Op, p: LocationAdded) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.code}).first():
        return Outcome.refused("invalid", f"code: location {p.code} exists already")
    conn.execute("INSERT INTO locations (code, name, kind) VALUES (:code, :name, :kind)", p.model_dump())
    return Outcome()


@register("bin.added", hub_payload(BinAdded))
def bin_added(conn: Tx, _ctx: Context, _op: Op, p: BinAdded) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.location}).first() is None:
        return Outcome.refused("invalid", f"location: unknown location {p.location!r}")
    conn.execute(
        "INSERT INTO bins (location, code, seq) VALUES (:l, :c, :s) ON CONFLICT (location, code) DO UPDATE SET seq = excluded.seq",
        {"l": p.location, "c": p.code, "s": p.seq},
    )
    emit(conn, p.location, "bin", p.code, {"code": p.code, "seq": p.seq})
    return Outcome()


@register("stock.received", hub_payload(StockReceived))
def stock_received(conn: Tx, _ctx: Context, op: Op, p: StockReceived) -> Outcome:
    if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": p.location, "b": p.bin}).first() is None:
        return Outcome.refused("invalid", f"bin: no bin {p.bin!r} at {p.location!r}")
    if conn.execute("SELECT 1 FROM items WHERE sku = :s", {"s": p.sku}).first() is None:
        return Outcome.refused("invalid", f"sku: unknown SKU {p.sku!r}")
    move(conn, Movement(p.location, p.bin, p.sku, p.qty, "receipt", None, op.op_id, op.hlc))
    return Outcome()
