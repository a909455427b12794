"""Read models for the API and the console: orders, stock with reservations, the
ledger, conflicts, tasks and devices. Reads only; nothing here changes state."""

from __future__ import annotations

import json
from typing import Any

from hub.errors import NotFound
from hub.carrier_actions import shipments_for
from hub.feed import order_snapshot
from hub.routing_actions import order_routing
from hub.store.tx import Tx

__all__ = ["get_order", "list_orders", "stock_rows", "movement_rows", "conflict_rows", "task_rows", "list_devices"]


def stock_rows(conn: Tx, location: str | None, sku: str | None) -> list[dict[str, Any]]:
    """On-hand per bin, with what is reserved and available per (location, SKU)."""
    clauses, params = ["1 = 1"], {}
    if location:
        clauses.append("s.location = :l")
        params["l"] = location
    if sku:
        clauses.append("s.sku = :s")
        params["s"] = sku
    rows = conn.execute(
        "SELECT s.location, s.bin, s.sku, s.on_hand, "
        "(SELECT COALESCE(SUM(r.qty), 0) FROM reservations r WHERE r.location = s.location AND r.sku = s.sku) AS reserved "
        f"FROM stock s WHERE {' AND '.join(clauses)} ORDER BY s.location, s.sku, s.bin",
        params,
    ).mappings()
    return [dict(r) for r in rows]


def movement_rows(conn: Tx, location: str | None, sku: str | None, order_id: str | None, limit: int) -> list[dict[str, Any]]:
    clauses, params = ["1 = 1"], dict[str, Any](lim=limit)
    for column, value in (("location", location), ("sku", sku), ("order_id", order_id)):
        if value:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    rows = conn.execute(
        f"SELECT * FROM movements WHERE {' AND '.join(clauses)} ORDER BY id LIMIT :lim", params
    ).mappings()
    return [dict(r) for r in rows]


def _where(filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    clauses = [f"{column} = :{column}" for column, value in filters.items() if value is not None]
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", {k: v for k, v in filters.items() if v is not None}


def conflict_rows(conn: Tx, location: str | None, device_id: str | None, limit: int) -> list[dict[str, Any]]:
    """Conflict records, newest first, with their inputs decoded."""
    where, params = _where({"location": location, "device_id": device_id})
    rows = conn.execute(f"SELECT * FROM conflicts {where} ORDER BY id DESC LIMIT :lim", {**params, "lim": limit}).mappings()
    return [{**r, "inputs": json.loads(r["inputs"])} for r in rows]


def task_rows(conn: Tx, location: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    where, params = _where({"location": location, "status": status})
    rows = conn.execute(f"SELECT * FROM tasks {where} ORDER BY id LIMIT :lim", {**params, "lim": limit}).mappings()
    return [{**r, "details": json.loads(r["details"])} for r in rows]


def get_order(conn: Tx, order_id: str) -> dict[str, Any]:
    """The order with its lines; raises NotFound."""
    snapshot = order_snapshot(conn, order_id)
    if snapshot is None:
        raise NotFound(f"no order {order_id!r}")
    snapshot["routing"] = order_routing(conn, order_id)  # ship-to, contact, linked orders, decisions (hub.routing_actions)
    # carriers: the devices' copy carries ship-to and contact as JSON text; here they are under "routing"
    snapshot.pop("ship_to", None), snapshot.pop("contact", None)
    snapshot["shipments"] = shipments_for(conn, order_id)  # each carton's carrier, service, tracking (hub.carrier_actions)
    return snapshot


def list_orders(conn: Tx, location: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    where, params = _where({"location": location, "status": status})
    rows = conn.execute(f"SELECT id FROM orders {where} ORDER BY created_at, number LIMIT :lim", {**params, "lim": limit}).all()
    return [get_order(conn, r.id) for r in rows]


def list_devices(conn: Tx, location: str | None) -> list[dict[str, Any]]:
    sql = "SELECT id, name, location, role, enrolled_at, last_seen_at, last_seq, cursor, health FROM devices"
    params: dict[str, Any] = {}
    if location:
        sql += " WHERE location = :l"
        params["l"] = location
    rows = conn.execute(sql + " ORDER BY enrolled_at", params).mappings()
    return [{**r, "health": json.loads(r["health"]) if r["health"] else None} for r in rows]
