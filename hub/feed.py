"""The change feed: every hub write that a device must see becomes a row here,
scoped to one location (or `*` for all), and devices pull rows past their cursor."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from sync.models import Change, PullResponse

__all__ = ["ALL_LOCATIONS", "emit", "emit_order", "emit_stock", "order_snapshot", "pull", "head"]

ALL_LOCATIONS = "*"


def emit(conn: Connection, scope: str, entity: str, key: str, data: dict[str, Any] | None) -> int:
    """Append one change; returns its sequence number."""
    row = conn.execute(
        text(
            "INSERT INTO changes (scope, entity, key, data) VALUES (:s, :e, :k, :d) RETURNING seq"
        ),
        {"s": scope, "e": entity, "k": key, "d": None if data is None else json.dumps(data)},
    ).one()
    return row.seq


def order_snapshot(conn: Connection, order_id: str) -> dict[str, Any] | None:
    order = conn.execute(text("SELECT * FROM orders WHERE id = :id"), {"id": order_id}).mappings().first()
    if order is None:
        return None
    lines = conn.execute(
        text("SELECT * FROM order_lines WHERE order_id = :id ORDER BY line_no"), {"id": order_id}
    ).mappings()
    snapshot = dict(order)
    snapshot["lines"] = [{k: v for k, v in line.items() if k != "order_id"} for line in lines]
    return snapshot


def emit_order(conn: Connection, order_id: str) -> int:
    """Publish the order's current state to its location's devices."""
    snapshot = order_snapshot(conn, order_id)
    if snapshot is None or snapshot["location"] is None:
        return 0
    return emit(conn, snapshot["location"], "order", order_id, snapshot)


def emit_stock(conn: Connection, location: str, bin_code: str, sku: str) -> int:
    row = conn.execute(
        text("SELECT on_hand FROM stock WHERE location = :l AND bin = :b AND sku = :s"),
        {"l": location, "b": bin_code, "s": sku},
    ).first()
    data = {"location": location, "bin": bin_code, "sku": sku, "on_hand": row.on_hand if row else 0}
    return emit(conn, location, "stock", f"{bin_code}|{sku}", data)


def head(conn: Connection) -> int:
    return conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM changes")).scalar_one()


def pull(conn: Connection, location: str, since: int, limit: int, device_scope: str = "") -> PullResponse:
    """Changes for `location` (and the device's own scope) after `since`, oldest first, at most `limit`."""
    rows = conn.execute(
        text(
            "SELECT seq, entity, key, data FROM changes "
            "WHERE seq > :since AND scope IN (:loc, :all, :dev) ORDER BY seq LIMIT :lim"
        ),
        {"since": since, "loc": location, "all": ALL_LOCATIONS, "dev": device_scope, "lim": limit + 1},
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [
        Change(seq=r.seq, entity=r.entity, key=r.key, data=None if r.data is None else json.loads(r.data))
        for r in rows
    ]
    # With nothing more to send, skip the device past other locations' changes too.
    cursor = changes[-1].seq if more else max(head(conn), since)
    return PullResponse(changes=changes, cursor=cursor, more=more)
