"""The network's set-up beyond the first shape of it (hub.domain.catalogue): a
location's address, coordinates, time zone, opening hours and daily capacity;
catalogue and bin imports in batches; stock adjustments with a reason, stock
snapshots, and transfers between locations (shipped, in transit, received).

Every check runs before the first write, so a refused command writes nothing."""

from __future__ import annotations

import json
from typing import Any

from hub.commands import (
    BinAdded,
    BinsImported,
    ItemsImported,
    ItemUpserted,
    LocationAdded,
    LocationUpdated,
    StockAdjusted,
    StockSnapshotImported,
    TransferReceived,
    TransferShipped,
)
from hub.domain.stock import Movement, commitments, move
from hub.feed import ALL_LOCATIONS, emit, publish_known_stock
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op

__all__ = [
    "LOCATION_DETAILS",
    "bins_imported",
    "items_imported",
    "location_details_of",
    "location_updated",
    "set_location_details",
    "stock_adjusted",
    "stock_snapshot_imported",
    "transfer_received",
    "transfer_shipped",
    "upsert_bins",
    "upsert_items",
]

LOCATION_DETAILS = ("address", "lat", "lon", "time_zone", "opening_hours", "daily_capacity")


def _stored(field: str, value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if field == "opening_hours" and value is not None else value


def set_location_details(conn: Tx, code: str, values: dict[str, Any]) -> None:
    """Write the given set-up fields of a location (opening hours as JSON)."""
    if values:
        assign = ", ".join(f"{f} = :{f}" for f in values)
        conn.execute(f"UPDATE locations SET {assign} WHERE code = :code",
                     {**{f: _stored(f, v) for f, v in values.items()}, "code": code})


def location_details_of(p: LocationAdded) -> dict[str, Any]:
    return {f: getattr(p, f) for f in LOCATION_DETAILS if getattr(p, f) is not None}


def location_updated(conn: Tx, _ctx: Context, _op: Op, p: LocationUpdated) -> Outcome:
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.code}).first() is None:
        return Outcome.refused("invalid", f"code: unknown location {p.code!r}")
    changed = {f: getattr(p, f) for f in p.model_fields_set if f != "code"}
    for required in ("name", "kind"):
        if required in changed and changed[required] is None:
            return Outcome.refused("invalid", f"{required}: a location always has one")
    set_location_details(conn, p.code, changed)
    return Outcome(message=f"location {p.code} changed: {', '.join(sorted(changed)) or 'nothing'}")


# -- the catalogue and bins, one or many at a time -------------------------------------
def upsert_items(conn: Tx, items: list[ItemUpserted]) -> Outcome:
    """Add or change items with their barcodes; refused (nothing written) if a barcode
    belongs to another SKU, here or in the same batch."""
    claimed: dict[str, str] = {}
    for item in items:
        for code in item.barcodes:
            if claimed.setdefault(code, item.sku) != item.sku:
                return Outcome.refused("invalid", f"barcodes: {code} is given to {claimed[code]} and {item.sku}")
    if claimed:
        for row in conn.execute("SELECT code, sku FROM barcodes WHERE code IN :c", {"c": list(claimed)}):
            if row.sku != claimed[row.code]:
                return Outcome.refused("invalid", f"barcodes: {row.code} already belongs to {row.sku}")
    last = {item.sku: item for item in items}  # a SKU twice in a batch: the later row wins
    conn.executemany(
        "INSERT INTO items (sku, name, unit_weight_g, length_mm, width_mm, height_mm, hazmat, min_age, "
        "category, size_qty, size_unit, price_cents) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE SET name = excluded.name, "
        "unit_weight_g = excluded.unit_weight_g, length_mm = excluded.length_mm, width_mm = excluded.width_mm, "
        "height_mm = excluded.height_mm, hazmat = excluded.hazmat, min_age = excluded.min_age, "
        "category = excluded.category, size_qty = excluded.size_qty, size_unit = excluded.size_unit, "
        "price_cents = excluded.price_cents",
        [(i.sku, i.name, i.unit_weight_g, i.length_mm, i.width_mm, i.height_mm, int(i.hazmat), i.min_age,
          i.category, i.size_qty, i.size_unit, i.price_cents) for i in last.values()],
    )
    known = {r.code for r in conn.execute("SELECT code FROM barcodes WHERE code IN :c", {"c": list(claimed)})} if claimed else set()
    conn.executemany("INSERT INTO barcodes (code, sku) VALUES (?, ?)",
                     [(code, sku) for code, sku in claimed.items() if code not in known])
    emit_items(conn, list(last))
    return Outcome()


def emit_items(conn: Tx, skus: list[str]) -> None:
    """Publish these items as they stand, with their barcodes and (substitution at pick)
    what the substitute rule compares and the item's own rule, to every location."""
    codes: dict[str, list[str]] = {sku: [] for sku in skus}
    for row in conn.execute("SELECT sku, code FROM barcodes WHERE sku IN :s ORDER BY code", {"s": skus}):
        codes[row.sku].append(row.code)
    rules = {r.sku: {"substitutes": json.loads(r.substitutes), "by_rule": bool(r.by_rule), "price_band_pct": r.price_band_pct}
             for r in conn.execute("SELECT * FROM substitute_rules WHERE sku IN :s", {"s": skus})}
    items = {r.sku: r for r in conn.execute("SELECT * FROM items WHERE sku IN :s", {"s": skus})}
    for sku in skus:
        i = items[sku]
        emit(conn, ALL_LOCATIONS, "item", sku, {"sku": sku, "name": i.name, "unit_weight_g": i.unit_weight_g,
                                                "barcodes": codes[sku], "hazmat": bool(i.hazmat), "min_age": i.min_age,
                                                "category": i.category, "size_qty": i.size_qty, "size_unit": i.size_unit,
                                                "price_cents": i.price_cents, "substitute_rule": rules.get(sku)})


def items_imported(conn: Tx, _ctx: Context, _op: Op, p: ItemsImported) -> Outcome:
    outcome = upsert_items(conn, p.items)
    return outcome if outcome.refusal else Outcome(message=f"{len(p.items)} items")


def upsert_bins(conn: Tx, bins: list[BinAdded]) -> Outcome:
    """Add or change bins (pick-path place, zone); refused if a location is unknown."""
    locations = {b.location for b in bins}
    known = {r.code for r in conn.execute("SELECT code FROM locations WHERE code IN :l", {"l": sorted(locations)})}
    if unknown := sorted(locations - known):
        return Outcome.refused("invalid", f"location: unknown location {unknown[0]!r}")
    last = {(b.location, b.code): b for b in bins}
    conn.executemany(
        "INSERT INTO bins (location, code, seq, zone) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (location, code) DO UPDATE SET seq = excluded.seq, zone = excluded.zone",
        [(b.location, b.code, b.seq, b.zone) for b in last.values()],
    )
    for b in last.values():
        emit(conn, b.location, "bin", b.code, {"code": b.code, "seq": b.seq, "zone": b.zone})
    return Outcome()


def bins_imported(conn: Tx, _ctx: Context, _op: Op, p: BinsImported) -> Outcome:
    outcome = upsert_bins(conn, p.bins)
    return outcome if outcome.refusal else Outcome(message=f"{len(p.bins)} bins")


# -- stock outside the floor's own ops ------------------------------------------------
def _missing(conn: Tx, location: str, bins: set[str], skus: set[str]) -> str | None:
    """The first unknown bin (at `location`) or SKU, said as a refusal message."""
    have = {r.code for r in conn.execute("SELECT code FROM bins WHERE location = :l AND code IN :b",
                                         {"l": location, "b": sorted(bins)})}
    if unknown := sorted(bins - have):
        return f"bin: no bin {unknown[0]!r} at {location!r}"
    have = {r.sku for r in conn.execute("SELECT sku FROM items WHERE sku IN :s", {"s": sorted(skus)})}
    if unknown := sorted(skus - have):
        return f"sku: unknown SKU {unknown[0]!r}"
    return None


def stock_adjusted(conn: Tx, _ctx: Context, op: Op, p: StockAdjusted) -> Outcome:
    if p.qty == 0:
        return Outcome.refused("invalid", "qty: an adjustment moves at least one unit")
    if problem := _missing(conn, p.location, {p.bin}, {p.sku}):
        return Outcome.refused("invalid", problem)
    move(conn, Movement(p.location, p.bin, p.sku, p.qty, f"adjust:{p.reason}", None, op.op_id, op.hlc))
    return Outcome(message=f"{p.qty:+d} {p.sku} in {p.location}/{p.bin} ({p.reason})")


def stock_snapshot_imported(conn: Tx, _ctx: Context, op: Op, p: StockSnapshotImported) -> Outcome:
    pairs = [(r.bin, r.sku) for r in p.rows]
    if len(set(pairs)) != len(pairs):
        return Outcome.refused("invalid", "rows: a (bin, SKU) is given twice in one batch")
    if problem := _missing(conn, p.location, {r.bin for r in p.rows}, {r.sku for r in p.rows}):
        return Outcome.refused("invalid", problem)
    # By SKU (indexed with the location): what a batch's SKUs hold, not the whole location's stock.
    skus = sorted({r.sku for r in p.rows})
    have = {(r.bin, r.sku): r.on_hand for r in conn.execute(
        "SELECT bin, sku, on_hand FROM stock WHERE location = :l AND sku IN :s", {"l": p.location, "s": skus})}
    changed = [(r.bin, r.sku, r.on_hand, r.on_hand - have.get((r.bin, r.sku), 0)) for r in p.rows
               if r.on_hand != have.get((r.bin, r.sku), 0)]
    conn.executemany(
        "INSERT INTO movements (location, bin, sku, qty, reason, order_id, op_id, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(p.location, b, s, delta, "snapshot", None, op.op_id, op.hlc) for b, s, _, delta in changed])
    conn.executemany(
        "INSERT INTO stock (location, bin, sku, on_hand) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (location, bin, sku) DO UPDATE SET on_hand = excluded.on_hand",
        [(p.location, b, s, figure) for b, s, figure, _ in changed])
    publish_known_stock(conn, [(p.location, b, s, figure) for b, s, figure, _ in changed])
    return Outcome(message=f"{len(changed)} of {len(p.rows)} figures changed at {p.location}")


def transfer_shipped(conn: Tx, _ctx: Context, op: Op, p: TransferShipped) -> Outcome:
    if p.from_location == p.to_location:
        return Outcome.refused("invalid", "to_location: a transfer goes to another location")
    if conn.execute("SELECT 1 FROM transfers WHERE transfer_id = :t", {"t": p.transfer_id}).first():
        return Outcome.refused("invalid", f"transfer_id: transfer {p.transfer_id} exists already")
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": p.to_location}).first() is None:
        return Outcome.refused("invalid", f"to_location: unknown location {p.to_location!r}")
    if problem := _missing(conn, p.from_location, {li.bin for li in p.lines}, {li.sku for li in p.lines}):
        return Outcome.refused("invalid", problem)
    if problem := _short(conn, p):
        return Outcome.refused("invalid", problem)
    for li in p.lines:
        move(conn, Movement(p.from_location, li.bin, li.sku, -li.qty, "transfer_out", None, op.op_id, op.hlc))
    conn.execute("INSERT INTO transfers (transfer_id, from_location, to_location, lines, status, shipped_hlc) "
                 "VALUES (:t, :f, :to, :lines, 'in_transit', :h)",
                 {"t": p.transfer_id, "f": p.from_location, "to": p.to_location, "h": op.hlc,
                  "lines": json.dumps([li.model_dump() for li in p.lines])})
    return Outcome(message=f"transfer {p.transfer_id} in transit to {p.to_location}")


def _short(conn: Tx, p: TransferShipped) -> str | None:
    """Why the source cannot give these units: a bin holds fewer, or they are promised."""
    per_bin: dict[tuple[str, str], int] = {}
    per_sku: dict[str, int] = {}
    for li in p.lines:
        per_bin[(li.bin, li.sku)] = per_bin.get((li.bin, li.sku), 0) + li.qty
        per_sku[li.sku] = per_sku.get(li.sku, 0) + li.qty
    for (bin_code, sku), qty in sorted(per_bin.items()):
        held = conn.execute("SELECT on_hand FROM stock WHERE location = :l AND bin = :b AND sku = :s",
                            {"l": p.from_location, "b": bin_code, "s": sku}).scalar() or 0
        if qty > held:
            return f"lines: bin {bin_code} holds {held} {sku}, not {qty}"
    for sku, qty in sorted(per_sku.items()):
        free = commitments(conn, p.from_location, sku).free
        if qty > free:
            return f"lines: only {max(free, 0)} {sku} at {p.from_location} are not promised to orders or handhelds"
    return None


def transfer_received(conn: Tx, _ctx: Context, op: Op, p: TransferReceived) -> Outcome:
    row = conn.execute("SELECT to_location, lines, status FROM transfers WHERE transfer_id = :t",
                       {"t": p.transfer_id}).first()
    if row is None:
        return Outcome.refused("invalid", f"transfer_id: no transfer {p.transfer_id!r}")
    if row.status != "in_transit":
        return Outcome.refused("invalid", f"transfer_id: transfer {p.transfer_id} was received already")
    if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": row.to_location, "b": p.bin}).first() is None:
        return Outcome.refused("invalid", f"bin: no bin {p.bin!r} at {row.to_location!r}")
    for line in json.loads(row.lines):
        move(conn, Movement(row.to_location, p.bin, line["sku"], line["qty"], "transfer_in", None, op.op_id, op.hlc))
    conn.execute("UPDATE transfers SET status = 'received', received_bin = :b, received_hlc = :h WHERE transfer_id = :t",
                 {"b": p.bin, "h": op.hlc, "t": p.transfer_id})
    return Outcome(message=f"transfer {p.transfer_id} received into {row.to_location}/{p.bin}")
