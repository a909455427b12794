"""A generated store scope that looks real, loaded into a hub database in bulk.

The rows go straight into the tables with executemany (SQLite) or COPY
(PostgreSQL) inside one write transaction, together with the change-feed rows
the hub's own handlers would have emitted for them: one `item` change per SKU
(with its barcodes), one `bin` change per bin, one `stock` change per receipt
and per history movement (the feed has no compaction, so a device bootstrapping
a real hub pulls every one of them), and one `order` snapshot per open order.
What a device pulls is therefore what it would pull from a hub that received the
same store through its log; only the op_log rows are missing, so
`backroom hub verify` is not meaningful on this data (the load test builds its
smaller store through the log instead).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from hub.store.db import Database
from hub.store.tx import Tx

__all__ = ["Scale", "FULL", "QUICK", "Store", "generate", "load", "add_devices", "device_token", "LOCATION", "ean13"]

LOCATION = "STORE-1"
_EPOCH = datetime(2026, 11, 16, 6, 0, tzinfo=timezone.utc)

_ADJECTIVES = ("Organic", "Classic", "Extra", "Family", "Light", "Smoked", "Spicy", "Fresh", "Frozen", "Dark", "Whole", "Mini")
_NOUNS = ("coffee", "tea", "pasta", "rice", "oats", "soap", "towels", "chocolate", "olive oil", "tomatoes", "crackers",
          "cereal", "batteries", "shampoo", "beans", "lentils", "flour", "sugar", "juice", "water", "detergent")
_SIZES = ("100 g", "250 g", "500 g", "1 kg", "2 kg", "330 ml", "750 ml", "1 L", "4-pack", "6-pack", "12 rolls")


@dataclass(frozen=True)
class Scale:
    skus: int
    bins: int
    stock_rows: int
    orders: int
    history_movements: int  # a week of picks, receipts and adjustments


FULL = Scale(skus=100_000, bins=2_000, stock_rows=200_000, orders=5_000, history_movements=35_000)
QUICK = Scale(skus=2_000, bins=100, stock_rows=4_000, orders=200, history_movements=700)


@dataclass
class Store:
    """Every generated row, in the column order `load` inserts them."""

    items: list[tuple] = field(default_factory=list)  # (sku, name, unit_weight_g)
    barcodes: list[tuple] = field(default_factory=list)  # (code, sku)
    bins: list[tuple] = field(default_factory=list)  # (location, code, seq)
    stock: dict[tuple[str, str], int] = field(default_factory=dict)  # (bin, sku) -> on_hand
    movements: list[tuple] = field(default_factory=list)  # (location, bin, sku, qty, reason, order_id, op_id, hlc)
    orders: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)  # (order_id, line_no, sku, qty, pick_bin, 0, 0)
    reservations: list[tuple] = field(default_factory=list)  # (order_id, line_no, location, sku, qty)
    stock_changes: list[tuple] = field(default_factory=list)  # (bin, sku, on_hand) in feed order

    @property
    def feed_rows(self) -> int:
        return len(self.items) + len(self.bins) + len(self.stock_changes) + len(self.orders)


def ean13(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _hlc(at: datetime, counter: int = 0) -> str:
    return f"{int(at.timestamp() * 1000):015d}:{counter:06d}:hub"


def generate(scale: Scale, seed: int = 7) -> Store:
    """Deterministic for a given seed."""
    rnd = random.Random(seed)
    store = Store()
    for i in range(scale.skus):
        sku = f"SKU-{i:06d}"
        name = f"{rnd.choice(_ADJECTIVES)} {rnd.choice(_NOUNS)} {rnd.choice(_SIZES)} #{i}"
        store.items.append((sku, name, rnd.randint(20, 2500)))
        store.barcodes.append((ean13(f"20{i:010d}"), sku))
        if rnd.random() < 0.1:  # a case or multipack barcode beside the unit's
            store.barcodes.append((ean13(f"21{i:010d}"), sku))
    levels, bays = 5, 10
    for i in range(scale.bins):
        aisle, rest = divmod(i, levels * bays)
        bay, level = divmod(rest, levels)
        store.bins.append((LOCATION, f"A{aisle + 1:02d}-{bay + 1:02d}-{level + 1}", i + 1))
    bin_codes = [b[1] for b in store.bins]
    per_sku = max(1, scale.stock_rows // scale.skus)
    for i in range(scale.skus):
        sku = f"SKU-{i:06d}"
        for bin_code in rnd.sample(bin_codes, per_sku):
            qty = rnd.randint(6, 120)
            store.stock[(bin_code, sku)] = qty
            at = _EPOCH - timedelta(days=8, seconds=len(store.movements))
            store.movements.append((LOCATION, bin_code, sku, qty, "receipt", None, None, _hlc(at)))
            store.stock_changes.append((bin_code, sku, qty))
    keys = list(store.stock)
    for n in range(scale.history_movements):
        bin_code, sku = rnd.choice(keys)
        at = _EPOCH - timedelta(days=7) + timedelta(seconds=n * 7 * 86400 // max(scale.history_movements, 1))
        on_hand = store.stock[(bin_code, sku)]
        qty = rnd.randint(6, 48) if rnd.random() < 0.2 else -min(rnd.randint(1, 3), on_hand - 5)
        if qty == 0:
            continue
        store.stock[(bin_code, sku)] = on_hand + qty
        store.movements.append((LOCATION, bin_code, sku, qty, "receipt" if qty > 0 else "pick", None, None, _hlc(at, n)))
        store.stock_changes.append((bin_code, sku, on_hand + qty))
    _generate_orders(store, scale, rnd)
    return store


def _generate_orders(store: Store, scale: Scale, rnd: random.Random) -> None:
    bins_of: dict[str, list[tuple[int, str]]] = {}
    seq_of = {b[1]: b[2] for b in store.bins}
    for (bin_code, sku), _qty in store.stock.items():
        bins_of.setdefault(sku, []).append((seq_of[bin_code], bin_code))
    free = {}
    for (bin_code, sku), qty in store.stock.items():
        free[sku] = free.get(sku, 0) + qty
    skus = list(bins_of)
    for n in range(scale.orders):
        order_id = f"ord-{n:06d}"
        created = _EPOCH + timedelta(days=7, minutes=n // 10)
        store.orders.append((order_id, f"W{100000 + n}", "web", rnd.choice(("ship", "pickup", "ship")),
                             (created + timedelta(hours=4)).isoformat(), f"Customer {n}", LOCATION, "released",
                             created.isoformat()))
        for line_no, sku in enumerate(rnd.sample(skus, rnd.randint(1, 8)), start=1):
            qty = min(rnd.randint(1, 3), free[sku])
            free[sku] -= qty
            pick_bin = next((code for _seq, code in sorted(bins_of[sku]) if store.stock[(code, sku)] >= qty), None)
            store.lines.append((order_id, line_no, sku, qty, pick_bin, 0, 0))
            store.reservations.append((order_id, line_no, LOCATION, sku, qty))


_ORDER_COLS = ("id", "number", "channel", "fulfilment", "promised_by", "customer_name", "location", "status", "created_at")


def load(db: Database, store: Store) -> int:
    """Insert the store and its change feed in one write transaction; returns feed rows."""
    with db.write() as conn:
        insert(conn, "locations", ("code", "name", "kind"), [(LOCATION, "Benchmark store", "store")])
        insert(conn, "items", ("sku", "name", "unit_weight_g"), store.items)
        insert(conn, "barcodes", ("code", "sku"), store.barcodes)
        insert(conn, "bins", ("location", "code", "seq"), store.bins)
        insert(conn, "movements", ("location", "bin", "sku", "qty", "reason", "order_id", "op_id", "hlc"), store.movements)
        insert(conn, "stock", ("location", "bin", "sku", "on_hand"), [(LOCATION, b, s, q) for (b, s), q in store.stock.items()])
        insert(conn, "orders", _ORDER_COLS, store.orders)
        insert(conn, "order_lines", ("order_id", "line_no", "sku", "qty", "pick_bin", "qty_picked", "qty_short"), store.lines)
        insert(conn, "reservations", ("order_id", "line_no", "location", "sku", "qty"), store.reservations)
        insert(conn, "changes", ("scope", "entity", "key", "data"), _feed(store))
        # Read the snapshots before COPY starts: the connection serves one statement at a time.
        insert(conn, "changes", ("scope", "entity", "key", "data"), order_changes(conn, [o[0] for o in store.orders]))
    if not db.is_sqlite:
        # A hub that received this store over days would have planner statistics
        # (autovacuum); a bulk load has none until someone asks.
        with db.write() as conn:
            conn.execute("ANALYZE")
    return store.feed_rows


def _feed(store: Store) -> Iterable[tuple]:
    """The change rows the handlers emit: the same scopes, keys and JSON shapes."""
    codes: dict[str, list[str]] = {}
    for code, sku in store.barcodes:
        codes.setdefault(sku, []).append(code)
    for sku, name, weight in store.items:
        yield ("*", "item", sku, json.dumps({"sku": sku, "name": name, "unit_weight_g": weight, "barcodes": sorted(codes[sku])}))
    for location, code, seq in store.bins:
        yield (location, "bin", code, json.dumps({"code": code, "seq": seq}))
    for bin_code, sku, on_hand in store.stock_changes:
        data = {"location": LOCATION, "bin": bin_code, "sku": sku, "on_hand": on_hand}
        yield (LOCATION, "stock", f"{bin_code}|{sku}", json.dumps(data))


def order_changes(conn: Tx, order_ids: Sequence[str]) -> list[tuple]:
    """Order snapshots shaped like hub.feed.order_snapshot, read in two queries."""
    wanted = set(order_ids)
    orders = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM orders").mappings() if r["id"] in wanted}
    for line in conn.execute("SELECT * FROM order_lines ORDER BY order_id, line_no").mappings():
        if line["order_id"] in orders:
            orders[line["order_id"]].setdefault("lines", []).append({k: v for k, v in line.items() if k != "order_id"})
    return [(o["location"], "order", oid, json.dumps({**o, "lines": o.get("lines", [])})) for oid, o in
            ((oid, orders[oid]) for oid in order_ids)]


def insert(conn: Tx, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Bulk insert on the connection's open transaction: executemany or COPY."""
    cols = ", ".join(columns)
    if conn.is_sqlite:
        conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(columns))})", list(rows))
        return
    with conn.sa.connection.driver_connection.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def device_token(n: int) -> str:
    return f"dev_bench_{n:05d}"


def add_devices(db: Database, count: int, role: str = "picker") -> list[str]:
    """Enrol `count` devices at the store with known tokens; returns their ids."""
    ids = [f"bench-dev-{n:05d}" for n in range(count)]
    now = datetime.now(timezone.utc).isoformat()
    rows = [(ids[n], f"handheld {n}", LOCATION, role, hashlib.sha256(device_token(n).encode()).hexdigest(), now, 0, 0)
            for n in range(count)]
    with db.write() as conn:
        insert(conn, "devices", ("id", "name", "location", "role", "token_hash", "enrolled_at", "last_seq", "cursor"), rows)
    return ids
