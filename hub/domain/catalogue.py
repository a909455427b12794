"""Hub commands that shape the store: items with barcodes, locations, bins.
Each is logged and replayed like any op."""

from __future__ import annotations

from hub.commands import BinAdded, ItemUpserted, LocationAdded
from hub.domain.network import location_details_of, set_location_details, upsert_bins, upsert_items
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op

__all__ = ["item_upserted", "location_added", "bin_added"]


def item_upserted(conn: Tx, _ctx: Context, _op: Op, p: ItemUpserted) -> Outcome:
    return upsert_items(conn, [p])


def location_added(conn: Tx, _ctx: Context, _op: Op, p: LocationAdded) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.code}).first():
        return Outcome.refused("invalid", f"code: location {p.code} exists already")
    conn.execute("INSERT INTO locations (code, name, kind) VALUES (:code, :name, :kind)",
                 {"code": p.code, "name": p.name, "kind": p.kind})
    set_location_details(conn, p.code, location_details_of(p))
    return Outcome()


def bin_added(conn: Tx, _ctx: Context, _op: Op, p: BinAdded) -> Outcome:
    return upsert_bins(conn, [p])
