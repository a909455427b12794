"""The set-up lists: locations, bins, items, operators, stock, movements and transfers,
each paged by a cursor over its sort key (keyset paging: page 500 costs what page 1
costs) and filtered in SQL. There is no cap: a list ends when `next` is None."""

from __future__ import annotations

import base64
import json
from typing import Any

from hub.errors import Invalid
from hub.store.tx import Tx

__all__ = [
    "MAX_LIMIT",
    "Page",
    "bins",
    "decode_cursor",
    "encode_cursor",
    "items",
    "location_of",
    "locations",
    "movements",
    "operators",
    "stock",
    "transfers",
]

MAX_LIMIT = 1000
Page = tuple[list[dict[str, Any]], str | None]  # rows, and the cursor of the page after them (None: the last page)


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, width: int) -> list[Any] | None:
    """The sort key in a cursor; raises Invalid for one that does not read."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise Invalid("after: this cursor does not read; ask for the first page again") from exc
    if not isinstance(key, list) or len(key) != width or not all(isinstance(k, (str, int, float)) for k in key):
        raise Invalid("after: this cursor belongs to another list; ask for the first page again")
    return key


class _Query:
    """One list's SELECT, its filters and its sort key (expression, column name)."""

    def __init__(self, select: str, key: list[tuple[str, str]]):
        self.select, self.key = select, key
        self.where: list[str] = []
        self.params: dict[str, Any] = {}

    def equal(self, expr: str, value: Any, name: str) -> _Query:
        if value is not None and value != "":
            self.where.append(f"{expr} = :{name}")
            self.params[name] = value
        return self

    def within(self, expr: str, scope: frozenset[str] | None) -> _Query:
        """Only rows at the caller's locations (None: every location)."""
        if scope is not None:
            self.where.append(f"{expr} IN :scope")
            self.params["scope"] = sorted(scope) or [""]
        return self

    def run(self, conn: Tx, after: str | None, limit: int) -> Page:
        limit = max(1, min(limit, MAX_LIMIT))
        key = decode_cursor(after, len(self.key))
        where, params = list(self.where), dict(self.params, lim=limit + 1)
        if key is not None:
            where.append(f"({', '.join(e for e, _ in self.key)}) > ({', '.join(f':k{i}' for i in range(len(key)))})")
            params.update({f"k{i}": v for i, v in enumerate(key)})
        sql = (f"{self.select} WHERE {' AND '.join(where) or '1 = 1'} "
               f"ORDER BY {', '.join(e for e, _ in self.key)} LIMIT :lim")
        rows = [dict(r) for r in conn.execute(sql, params).mappings()]
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, encode_cursor([rows[-1][name] for _, name in self.key])


def _prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def locations(conn: Tx, scope: frozenset[str] | None, *, kind: str | None = None, q: str | None = None,
              after: str | None = None, limit: int = 100) -> Page:
    query = _Query("SELECT code, name, kind, address, lat, lon, time_zone, opening_hours, daily_capacity FROM locations",
                   [("code", "code")]).equal("kind", kind, "kind").within("code", scope)
    if q:
        query.where.append("(code LIKE :q ESCAPE '\\' OR code LIKE :qu ESCAPE '\\' OR lower(name) LIKE :ql ESCAPE '\\')")
        query.params.update(q=_prefix(q), qu=_prefix(q.upper()), ql=_prefix(q.lower()))
    rows, nxt = query.run(conn, after, limit)
    for r in rows:
        r["opening_hours"] = json.loads(r["opening_hours"]) if r["opening_hours"] else None
    return rows, nxt


def location_of(conn: Tx, code: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT code, name, kind, address, lat, lon, time_zone, opening_hours, daily_capacity "
                       "FROM locations WHERE code = :c", {"c": code}).mappings().first()
    if row is None:
        return None
    found = dict(row)
    found["opening_hours"] = json.loads(found["opening_hours"]) if found["opening_hours"] else None
    return found


def bins(conn: Tx, scope: frozenset[str] | None, *, location: str | None = None, zone: str | None = None,
         after: str | None = None, limit: int = 100) -> Page:
    query = _Query("SELECT location, code, seq, zone FROM bins", [("location", "location"), ("seq", "seq"), ("code", "code")])
    return query.equal("location", location, "location").equal("zone", zone, "zone").within("location", scope).run(
        conn, after, limit)


def items(conn: Tx, *, q: str | None = None, hazmat: bool | None = None, gtin: str | None = None,
          after: str | None = None, limit: int = 100) -> Page:
    """Items by SKU; `q` finds a SKU or a name by its start (case aside), `gtin` one barcode."""
    query = _Query("SELECT sku, name, unit_weight_g, length_mm, width_mm, height_mm, hazmat, min_age FROM items",
                   [("sku", "sku")])
    if q:
        # SKUs are matched as typed and in capitals (LIKE is case-blind on SQLite only), names case-blind.
        query.where.append("(sku LIKE :q ESCAPE '\\' OR sku LIKE :qu ESCAPE '\\' OR lower(name) LIKE :ql ESCAPE '\\')")
        query.params.update(q=_prefix(q), qu=_prefix(q.upper()), ql=_prefix(q.lower()))
    if hazmat is not None:
        query.equal("hazmat", int(hazmat), "hazmat")
    if gtin:
        query.where.append("sku IN (SELECT sku FROM barcodes WHERE code = :gtin)")
        query.params["gtin"] = gtin
    rows, nxt = query.run(conn, after, limit)
    codes: dict[str, list[str]] = {r["sku"]: [] for r in rows}
    if codes:
        for row in conn.execute("SELECT sku, code FROM barcodes WHERE sku IN :s ORDER BY code", {"s": list(codes)}):
            codes[row.sku].append(row.code)
    for r in rows:
        r["hazmat"] = bool(r["hazmat"])
        r["gtins"] = codes[r["sku"]]
    return rows, nxt


def operators(conn: Tx, scope: frozenset[str] | None, *, location: str | None = None, role: str | None = None,
              active: bool | None = None, after: str | None = None, limit: int = 100) -> Page:
    query = _Query("SELECT operator_id, name, role, location, active FROM operators",
                   [("location", "location"), ("operator_id", "operator_id")])
    query.equal("location", location, "location").equal("role", role, "role").within("location", scope)
    if active is not None:
        query.equal("active", int(active), "active")
    rows, nxt = query.run(conn, after, limit)
    for r in rows:
        r["active"] = bool(r["active"])
    return rows, nxt


def stock(conn: Tx, scope: frozenset[str] | None, *, location: str | None = None, sku: str | None = None,
          bin_code: str | None = None, after: str | None = None, limit: int = 100) -> Page:
    query = _Query("SELECT location, bin, sku, on_hand FROM stock",
                   [("location", "location"), ("sku", "sku"), ("bin", "bin")])
    return query.equal("location", location, "location").equal("sku", sku, "sku").equal("bin", bin_code, "bin").within(
        "location", scope).run(conn, after, limit)


def movements(conn: Tx, scope: frozenset[str] | None, *, location: str | None = None, sku: str | None = None,
              bin_code: str | None = None, reason: str | None = None, order_id: str | None = None,
              after: str | None = None, limit: int = 100) -> Page:
    """The ledger, oldest first: every receipt, pick, count, adjustment, snapshot and transfer."""
    query = _Query("SELECT id, location, bin, sku, qty, reason, order_id, op_id, hlc FROM movements", [("id", "id")])
    query.equal("location", location, "location").equal("sku", sku, "sku").equal("bin", bin_code, "bin")
    return query.equal("reason", reason, "reason").equal("order_id", order_id, "order_id").within(
        "location", scope).run(conn, after, limit)


def transfers(conn: Tx, scope: frozenset[str] | None, *, status: str | None = None, from_location: str | None = None,
              to_location: str | None = None, after: str | None = None, limit: int = 100) -> Page:
    query = _Query("SELECT transfer_id, from_location, to_location, lines, status, received_bin FROM transfers",
                   [("transfer_id", "transfer_id")])
    query.equal("status", status, "status").equal("from_location", from_location, "f").equal("to_location", to_location, "t")
    if scope is not None:
        query.where.append("(from_location IN :scope OR to_location IN :scope)")
        query.params["scope"] = sorted(scope) or [""]
    rows, nxt = query.run(conn, after, limit)
    for r in rows:
        r["lines"] = json.loads(r["lines"])
    return rows, nxt
