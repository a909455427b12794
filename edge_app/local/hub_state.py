"""Applying pulled changes to the device's copy of hub state."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Callable

from sync.models import Change

__all__ = ["apply_change", "apply_changes", "skipped_but_known_now"]

_ORDER_COLUMNS = ("id", "number", "channel", "fulfilment", "promised_by", "customer_name", "location", "status", "created_at", "staging", "tote", "pickup_code", "pickup_by",
                  "claimed_by", "claimed_actor", "claimed_hlc")
# carriers: what the order's label needs, JSON text as the channel gave it (the hub's API
# shows them under the order's "routing", so they are not among the columns it compares)
_ORDER_LABEL_COLUMNS = ("ship_to", "contact")
# foresight and routing: the hub's SLA risk and why the order is here (hub.feed.order_extras);
# the hub's order API shows them elsewhere, so they are not among the columns compared either
_ORDER_FLOOR_HINTS = ("risk_level", "risk_reason", "routing_why")
# returns from any channel: the signed return code printed on the packing slip
_ORDER_RETURN_CODE = ("return_code",)
_ORDER_INSERT = _ORDER_COLUMNS + _ORDER_LABEL_COLUMNS + _ORDER_FLOOR_HINTS + _ORDER_RETURN_CODE
_LINE_COLUMNS = ("line_no", "sku", "qty", "pick_bin", "qty_picked", "qty_short", "short_reason", "qty_handed_over", "qty_returned", "qty_refunded", "qty_packed", "qty_refused",
                 "substitutes_allowed", "substitute_sku", "qty_substituted")  # substitution at pick: the last three
# routing: the label of the lines a line ships together with (the hub's API shows it under
# the order's routing, so it is not among the columns compared)
_LINE_HINTS = ("ship_with",)
_LINE_INSERT = _LINE_COLUMNS + _LINE_HINTS


def apply_change(conn: sqlite3.Connection, change: Change) -> None:
    """Upsert (or delete, when data is None) the entity the change names; one this app
    does not know (a newer hub's) is skipped and remembered."""
    apply = _APPLY.get(change.entity)
    if apply is None:
        _skipped(conn, {change.entity})
        return
    apply(conn, change.key, change.data)


def _skipped(conn: sqlite3.Connection, entities: set[str]) -> None:
    """Remember entities a newer hub sent that this app skipped: once an upgraded app
    knows one of them, it pulls its scope again (`known_now`) and nothing is missing."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'skipped_entities'").fetchone()
    before = set(filter(None, (row[0] if row else "").split(",")))
    if not entities <= before:
        conn.execute("INSERT INTO meta (key, value) VALUES ('skipped_entities', ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (",".join(sorted(before | entities)),))


def skipped_but_known_now(conn: sqlite3.Connection) -> list[str]:
    """Entities an older version of this app skipped that this version applies."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'skipped_entities'").fetchone()
    return sorted(e for e in (row[0] if row else "").split(",") if e in _APPLY)


def apply_changes(conn: sqlite3.Connection, changes: list[Change]) -> None:
    """Apply a page of changes; the same end state as `apply_change` on each in order.

    Every change is the whole state of one entity (or its deletion), and the
    entity tables don't refer to each other, so only the last change per
    (entity, key) matters, and each entity's rows can go in with executemany."""
    known = [c for c in changes if c.entity in _APPLY]
    if len(known) < len(changes):
        _skipped(conn, {c.entity for c in changes if c.entity not in _APPLY})
    latest: dict[tuple[str, str], Change] = {}
    for change in known:
        latest.pop((change.entity, change.key), None)  # keep feed order among the survivors
        latest[(change.entity, change.key)] = change
    by_entity: dict[str, list[Change]] = {}
    for change in latest.values():
        by_entity.setdefault(change.entity, []).append(change)
    for entity, group in by_entity.items():
        bulk = _BULK.get(entity)
        if bulk is not None:
            bulk(conn, [(c.key, c.data) for c in group])
        else:
            for change in group:
                apply_change(conn, change)


# substitution at pick: category, size and price come too, for the substitute rule offline
_ITEM_FIELDS = ("name", "unit_weight_g", "category", "size_qty", "size_unit", "price_cents")
_ITEM_UPSERT = (f"INSERT INTO items (sku, {', '.join(_ITEM_FIELDS)}) VALUES (?{', ?' * len(_ITEM_FIELDS)}) "
                "ON CONFLICT (sku) DO UPDATE SET " + ", ".join(f"{f} = excluded.{f}" for f in _ITEM_FIELDS))


def _item_values(data: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(data["name"] if f == "name" else data.get(f) for f in _ITEM_FIELDS)


def _line_values(line: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(line.get(c, None if c in ("substitute_sku", "ship_with") else 0) for c in _LINE_INSERT)


def _substitute_rules(conn: sqlite3.Connection, rows: list[tuple[str, dict[str, Any] | None]]) -> None:
    """Each item's substitute rule comes with the item (none: the category rule alone)."""
    conn.executemany("DELETE FROM substitute_rules WHERE sku = ?", [(sku,) for sku, _ in rows])
    rules = [(sku, data["substitute_rule"]) for sku, data in rows if data is not None and data.get("substitute_rule")]
    conn.executemany("INSERT INTO substitute_rules (sku, substitutes, by_rule, price_band_pct) VALUES (?, ?, ?, ?)",
                     [(sku, json.dumps(r["substitutes"]), int(r["by_rule"]), r["price_band_pct"]) for sku, r in rules])


def _items_bulk(conn: sqlite3.Connection, rows: list[tuple[str, dict[str, Any] | None]]) -> None:
    conn.executemany("DELETE FROM barcodes WHERE sku = ?", [(sku,) for sku, _ in rows])
    conn.executemany("DELETE FROM items WHERE sku = ?", [(sku,) for sku, data in rows if data is None])
    kept = [(sku, data) for sku, data in rows if data is not None]
    conn.executemany(_ITEM_UPSERT, [(sku, *_item_values(data)) for sku, data in kept])
    _substitute_rules(conn, rows)
    conn.executemany(
        "INSERT OR REPLACE INTO barcodes (code, sku) VALUES (?, ?)", [(code, sku) for sku, data in kept for code in data["barcodes"]]
    )


def _bins_bulk(conn: sqlite3.Connection, rows: list[tuple[str, dict[str, Any] | None]]) -> None:
    conn.executemany("DELETE FROM bins WHERE code = ?", [(code,) for code, data in rows if data is None])
    conn.executemany(
        "INSERT INTO bins (code, seq) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET seq = excluded.seq",
        [(code, data["seq"]) for code, data in rows if data is not None],
    )


def _orders_bulk(conn: sqlite3.Connection, rows: list[tuple[str, dict[str, Any] | None]]) -> None:
    conn.executemany("DELETE FROM order_lines WHERE order_id = ?", [(order_id,) for order_id, _ in rows])
    conn.executemany("DELETE FROM orders WHERE id = ?", [(order_id,) for order_id, _ in rows])
    kept = [(order_id, data) for order_id, data in rows if data is not None]
    conn.executemany(
        f"INSERT INTO orders ({', '.join(_ORDER_INSERT)}) VALUES ({', '.join('?' * len(_ORDER_INSERT))})",
        [tuple(data.get(c) for c in _ORDER_INSERT) for _, data in kept],
    )
    conn.executemany(
        f"INSERT INTO order_lines (order_id, {', '.join(_LINE_INSERT)}) VALUES (?, {', '.join('?' * len(_LINE_INSERT))})",
        [(order_id, *_line_values(line)) for order_id, data in kept for line in data["lines"]],
    )


def _stock_bulk(conn: sqlite3.Connection, rows: list[tuple[str, dict[str, Any] | None]]) -> None:
    conn.executemany(
        "INSERT INTO stock (bin, sku, on_hand) VALUES (?, ?, ?) "
        "ON CONFLICT (bin, sku) DO UPDATE SET on_hand = excluded.on_hand",
        [(data["bin"], data["sku"], data["on_hand"]) for _, data in rows if data is not None],
    )


def _item(conn: sqlite3.Connection, sku: str, data: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM barcodes WHERE sku = ?", (sku,))
    _substitute_rules(conn, [(sku, data)])
    if data is None:
        conn.execute("DELETE FROM items WHERE sku = ?", (sku,))
        return
    conn.execute(_ITEM_UPSERT, (sku, *_item_values(data)))
    conn.executemany(
        "INSERT OR REPLACE INTO barcodes (code, sku) VALUES (?, ?)", [(code, sku) for code in data["barcodes"]]
    )


def _bin(conn: sqlite3.Connection, code: str, data: dict[str, Any] | None) -> None:
    if data is None:
        conn.execute("DELETE FROM bins WHERE code = ?", (code,))
        return
    conn.execute(
        "INSERT INTO bins (code, seq) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET seq = excluded.seq",
        (code, data["seq"]),
    )


def _order(conn: sqlite3.Connection, order_id: str, data: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM order_lines WHERE order_id = ?", (order_id,))
    conn.execute("DELETE FROM orders WHERE id = ?", (order_id,))
    if data is None:
        return
    conn.execute(
        f"INSERT INTO orders ({', '.join(_ORDER_INSERT)}) VALUES ({', '.join('?' * len(_ORDER_INSERT))})",
        tuple(data.get(c) for c in _ORDER_INSERT),
    )
    conn.executemany(
        f"INSERT INTO order_lines (order_id, {', '.join(_LINE_INSERT)}) VALUES (?, {', '.join('?' * len(_LINE_INSERT))})",
        [(order_id, *_line_values(line)) for line in data["lines"]],
    )


def _stock(conn: sqlite3.Connection, _key: str, data: dict[str, Any] | None) -> None:
    if data is None:
        return
    conn.execute(
        "INSERT INTO stock (bin, sku, on_hand) VALUES (?, ?, ?) "
        "ON CONFLICT (bin, sku) DO UPDATE SET on_hand = excluded.on_hand",
        (data["bin"], data["sku"], data["on_hand"]),
    )


def _task(conn: sqlite3.Connection, task_id: str, data: dict[str, Any] | None) -> None:
    if data is None:
        conn.execute("DELETE FROM tasks WHERE id = ?", (int(task_id),))
        return
    conn.execute(
        "INSERT OR REPLACE INTO tasks (id, kind, for_role, sentence, details, order_id, status, assigned_to) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (data["id"], data["kind"], data["for_role"], data["sentence"], json.dumps(data["details"]), data.get("order_id"),
         data["status"], data.get("assigned_to")),
    )


def _allotment(conn: sqlite3.Connection, sku: str, data: dict[str, Any] | None) -> None:
    if data is None:
        conn.execute("DELETE FROM allotments WHERE sku = ?", (sku,))
        return
    conn.execute(
        "INSERT OR REPLACE INTO allotments (sku, outstanding, target, expires_at, evidence) VALUES (?, ?, ?, ?, ?)",
        (sku, data["outstanding"], data["target"], data["expires_at"],
         json.dumps(data["evidence"]) if data.get("evidence") else None),
    )


def _operator(conn: sqlite3.Connection, operator_id: str, data: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM operators WHERE operator_id = ?", (operator_id,))
    if data is not None:  # the salt and an 8-bit PIN check; never the PIN's hash (sync.proofs)
        conn.execute(
            "INSERT INTO operators (operator_id, name, role, pin_hash, salt, kdf, pin_check) VALUES (?, ?, ?, '', ?, ?, ?)",
            (operator_id, data["name"], data["role"], data["salt"], data.get("kdf"), data.get("pin_check")),
        )


def _carrier_rates(conn: sqlite3.Connection, key: str, data: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM carrier_rates WHERE key = ?", (key,))
    if data is not None:
        conn.execute("INSERT INTO carrier_rates (key, version, digest, data) VALUES (?, ?, ?, ?)",
                     (key, data["version"], data["digest"], json.dumps(data)))


_APPLY: dict[str, Callable[[sqlite3.Connection, str, dict[str, Any] | None], None]] = {
    "item": _item,
    "bin": _bin,
    "order": _order,
    "stock": _stock,
    "task": _task,
    "allotment": _allotment,
    "operator": _operator,
    "carrier_rates": _carrier_rates,  # carriers
}

_BULK: dict[str, Callable[[sqlite3.Connection, list[tuple[str, dict[str, Any] | None]]], None]] = {
    "item": _items_bulk,
    "bin": _bins_bulk,
    "order": _orders_bulk,
    "stock": _stock_bulk,
}
