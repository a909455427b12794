"""What the console's pages read: the overview's tiles, orders found and paged, an
order's timeline from the log, the exceptions queue, stock with its commitments, the
fleet. Reads only; every list pages through an index (a cursor on its sort key), never
a whole table, and every one is cut to what the administrator's access may see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.access import Access
from hub.store.tx import Tx

__all__ = ["Tile", "tiles", "open_by_location", "OPEN_STATUSES", "find_orders", "order_timeline", "order_extras", "exceptions",
           "stock_table", "fleet", "PAGE"]

PAGE = 50  # rows a list shows at once
OPEN_STATUSES = ("released", "picking", "picked", "short", "packing", "packed", "partly_handed_over", "awaiting_stock",
                 "pickup_rejected")
OFFLINE_AFTER = timedelta(minutes=15)  # a device quiet this long is shown offline
OLD_UNSENT_S = 600  # an unsent op older than this on a device is worth a look


@dataclass(frozen=True)
class Tile:
    label: str
    count: int
    href: str
    level: str  # "ok", "warn" or "bad": the tile's colour


def _scope(access: Access, column: str = "location") -> tuple[str, dict[str, Any]]:
    scope = access.scope()
    if scope is None:
        return "", {}
    return f" AND {column} IN :scope", {"scope": sorted(scope) or [""]}


def tiles(conn: Tx, access: Access, now: datetime) -> list[Tile]:
    """Counts that matter now, each linking to the list behind it, coloured by threshold."""
    where, params = _scope(access)
    by_status = {r.status: r.n for r in conn.execute(
        f"SELECT status, COUNT(*) AS n FROM orders WHERE status IN :open{where} GROUP BY status",
        {"open": list(OPEN_STATUSES), **params})}
    late = conn.execute(f"SELECT COUNT(*) FROM orders WHERE status IN :open AND promised_by < :now{where}",
                        {"open": list(OPEN_STATUSES), "now": now.isoformat(), **params}).scalar_one()
    soon = conn.execute(f"SELECT COUNT(*) FROM orders WHERE status IN :early AND promised_by >= :now AND promised_by < :soon{where}",
                        {"early": ["released", "picking", "awaiting_stock"], "now": now.isoformat(),
                         "soon": (now + timedelta(hours=2)).isoformat(), **params}).scalar_one()
    tasks = conn.execute(f"SELECT COUNT(*) FROM tasks WHERE status = 'open'{where}", params).scalar_one()
    refused = conn.execute("SELECT COUNT(*) FROM op_log WHERE status = 'rejected' AND applied_at >= :since"
                           + _scope(access)[0], {"since": (now - timedelta(days=1)).isoformat(), **params}).scalar_one()
    at_risk = conn.execute(f"SELECT COUNT(*) FROM order_risk WHERE level IN ('at_risk', 'late'){where}", params).scalar_one()
    offline, ageing = _fleet_counts(conn, access, now)
    open_orders = sum(by_status.get(s, 0) for s in ("released", "picking"))
    return [
        Tile("to pick", open_orders, "/console/orders?status=released", "ok"),
        Tile("picked, to pack or hand over", sum(by_status.get(s, 0) for s in ("picked", "short", "packing", "packed")),
             "/console/orders?status=picked", "ok"),
        Tile("late (past their promise)", late, "/console/orders?late=1", "bad" if late else "ok"),
        Tile("due within 2 h, not picked", soon, "/console/orders?due=2h", "warn" if soon else "ok"),
        Tile("at risk of missing their promise", at_risk, "/console/risk", "warn" if at_risk else "ok"),
        Tile("awaiting stock", by_status.get("awaiting_stock", 0), "/console/orders?status=awaiting_stock",
             "warn" if by_status.get("awaiting_stock") else "ok"),
        Tile("open tasks", tasks, "/console/exceptions?kind=task", "warn" if tasks > 10 else "ok"),
        Tile("ops refused in 24 h", refused, "/console/exceptions?kind=refused", "bad" if refused else "ok"),
        Tile("devices offline", offline, "/console/fleet?state=offline", "bad" if offline else "ok"),
        Tile("devices with old unsent work", ageing, "/console/fleet?state=ageing", "warn" if ageing else "ok"),
    ]


def open_by_location(conn: Tx, access: Access) -> dict[str, dict[str, int]]:
    """Open orders per location and status: the overview's table (each cell links to its list)."""
    where, params = _scope(access)
    table: dict[str, dict[str, int]] = {}
    for r in conn.execute(f"SELECT location, status, COUNT(*) AS n FROM orders WHERE status IN :open{where} "
                          "GROUP BY location, status", {"open": list(OPEN_STATUSES), **params}):
        table.setdefault(r.location or "", {})[r.status] = r.n
    return dict(sorted(table.items()))


def _fleet_counts(conn: Tx, access: Access, now: datetime) -> tuple[int, int]:
    rows = fleet(conn, access, now)
    return sum(1 for d in rows if d["offline"]), sum(1 for d in rows if d["ageing"])


def find_orders(conn: Tx, access: Access, now: datetime, *, q: str = "", status: str = "", location: str = "",
                late: bool = False, due: str = "", after: list[Any] | None = None) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """Orders newest first (late ones: most overdue first), one page; returns (rows, next key)."""
    clauses, params = ["1 = 1"], {}
    where, scope = _scope(access, "o.location")
    params.update(scope)
    if status:
        clauses.append("o.status = :status")
        params["status"] = status
    if location:
        clauses.append("o.location = :location")
        params["location"] = location
    if late or due:
        clauses.append("o.status IN :open AND o.promised_by < :until")
        params.update(open=list(OPEN_STATUSES), until=(now + (timedelta(hours=2) if due else timedelta(0))).isoformat())
    order = "o.promised_by, o.id" if (late or due) else "o.created_at DESC, o.id DESC"
    if after:
        clauses.append("(o.promised_by, o.id) > (:k1, :k2)" if (late or due) else "(o.created_at, o.id) < (:k1, :k2)")
        params.update(k1=after[0], k2=after[1])
    filters = " AND ".join(clauses) + where
    params["lim"] = PAGE + 1
    if q:
        sql = _search(q.strip(), filters, order, params)
    else:
        sql = f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE {filters} ORDER BY {order} LIMIT :lim"
    rows = conn.execute(sql, params).mappings().all()
    page = [dict(r) for r in rows[:PAGE]]
    key = ("promised_by" if (late or due) else "created_at")
    return page, ([page[-1][key], page[-1]["id"]] if len(rows) > PAGE else None)


_ORDER_COLUMNS = ("o.id, o.number, o.channel, o.fulfilment, o.customer_name, o.location, o.status, "
                  "o.promised_by, o.created_at")


def _search(q: str, filters: str, order: str, params: dict[str, Any]) -> str:
    """An order number (prefix), a customer (name prefix), or a SKU it holds.

    Three separately limited arms, each able to use its own index, merged outside: one OR
    across them makes the planner scan the orders table (seconds at a million orders)."""
    params.update(qn=q + "%", qc=q.lower() + "%", qs=q.upper())
    arms = ["o.number LIKE :qn", "lower(o.customer_name) LIKE :qc",
            "o.id IN (SELECT order_id FROM order_lines WHERE sku = :qs)"]
    union = " UNION ".join(
        f"SELECT * FROM (SELECT {_ORDER_COLUMNS} FROM orders o WHERE {arm} AND {filters} "
        f"ORDER BY {order} LIMIT :lim) AS arm{n}" for n, arm in enumerate(arms))
    outer = order.replace("o.", "m.")
    return f"SELECT * FROM ({union}) AS m ORDER BY {outer} LIMIT :lim"


def order_timeline(conn: Tx, order_id: str) -> list[dict[str, Any]]:
    """Every op and hub command that touched the order, oldest first, with its answer."""
    rows = conn.execute(
        "SELECT log_seq, kind, device_id, device_seq, actor, role, hlc, applied_at, location, status, result, payload "
        "FROM op_log WHERE order_id = :o ORDER BY log_seq", {"o": order_id}).mappings()
    timeline = []
    for r in rows:
        result = json.loads(r["result"])
        timeline.append({**r, "reason_code": result.get("reason_code"), "message": result.get("message"),
                         "compensations": [c.get("sentence") for c in result.get("compensations", [])],
                         "payload": json.loads(r["payload"]), "result": None})
    return timeline


def order_extras(conn: Tx, order_id: str) -> dict[str, list[dict[str, Any]]]:
    """What lies around an order: its reservations, the ledger's picks, cartons, tasks, conflicts."""
    o = {"o": order_id}
    return {
        "reservations": [dict(r) for r in conn.execute(
            "SELECT line_no, location, sku, qty FROM reservations WHERE order_id = :o ORDER BY line_no", o).mappings()],
        "movements": _movements_of(conn, order_id),
        "cartons": [{**r, "contents": json.loads(r["contents"])} for r in conn.execute(
            "SELECT carton_id, carton_type, weight_g, contents, status FROM cartons WHERE order_id = :o", o).mappings()],
        "tasks": [dict(r) for r in conn.execute(
            "SELECT id, kind, sentence, status, for_role FROM tasks WHERE order_id = :o ORDER BY id", o).mappings()],
        # returns from any channel: where each return was taken, the sending location or another store
        "returns": [{**r, "lines": json.loads(r["lines"])} for r in conn.execute(
            "SELECT id, location, lines FROM returns WHERE order_id = :o ORDER BY id", o).mappings()],
    }


def _movements_of(conn: Tx, order_id: str) -> list[dict[str, Any]]:
    """The ledger's rows for an order, found through the (location, sku) index by its lines'
    SKUs and locations: an order_id index on movements would cost every pick a write."""
    keys = conn.execute("SELECT DISTINCT o.location AS loc, l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id "
                        "WHERE l.order_id = :o UNION SELECT location, sku FROM reservations WHERE order_id = :o",
                        {"o": order_id}).all()
    locations, skus = sorted({k[0] for k in keys if k[0]}), sorted({k[1] for k in keys})
    # returns from any channel: a store that took units back moved them into its own bins
    elsewhere = conn.execute("SELECT DISTINCT location FROM returns WHERE order_id = :o", {"o": order_id}).all()
    locations = sorted(set(locations) | {r[0] for r in elsewhere})
    if not locations or not skus:
        return []
    return [dict(r) for r in conn.execute(
        "SELECT location, bin, sku, qty, reason, hlc FROM movements WHERE location IN :locs AND sku IN :skus "
        "AND order_id = :o ORDER BY id", {"locs": locations, "skus": skus, "o": order_id}).mappings()]


def exceptions(conn: Tx, access: Access, kind: str, now: datetime, location: str = "",
               after: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """One queue, one kind at a time: open tasks, conflicts (the rule and its inputs), ops
    refused, orders awaiting stock. Newest first; returns (rows, next cursor)."""
    where, params = _scope(access)
    if location:
        where, params = where + " AND location = :loc", {**params, "loc": location}
    page = {"lim": PAGE + 1, "after": after if after is not None else 2**62}
    if kind == "conflict":
        sql = ("SELECT id, rule, op_id, device_id, location, inputs, outcome, hlc FROM conflicts WHERE resolved_at IS NULL "
               f"AND id < :after{where} ORDER BY id DESC LIMIT :lim")
    elif kind == "refused":
        sql = ("SELECT log_seq AS id, op_id, kind, device_id, device_seq, actor, location, applied_at, result, order_id "
               f"FROM op_log o WHERE status = 'rejected' AND log_seq < :after{where} "
               "AND NOT EXISTS (SELECT 1 FROM op_reviews r WHERE r.op_id = o.op_id) ORDER BY log_seq DESC LIMIT :lim")
    elif kind == "awaiting":
        # Not routed yet: no location holds them, so only who sees the whole network does.
        sql = ("SELECT id AS order_id, number, customer_name, promised_by, created_at, 0 AS id FROM orders "
               f"WHERE status = 'awaiting_stock'{' AND 1 = 0' if where else ''} ORDER BY promised_by LIMIT :lim")
    else:
        sql = ("SELECT id, kind, location, for_role, sentence, details, order_id, status, assigned_to FROM tasks "
               f"WHERE status = 'open' AND id < :after{where} ORDER BY id DESC LIMIT :lim")
    rows = [_decoded(dict(r)) for r in conn.execute(sql, {**params, **page}).mappings()]
    more = len(rows) > PAGE and kind != "awaiting"
    return rows[:PAGE], (rows[PAGE - 1]["id"] if more else None)


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("inputs", "details", "result"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


def stock_table(conn: Tx, access: Access, *, location: str = "", sku: str = "", bin_code: str = "",
                after: list[Any] | None = None) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """On hand per (location, bin, SKU) with the location's reserved, allotted and available
    for that SKU; one page in (location, sku, bin) order."""
    clauses, params = ["1 = 1"], {}
    where, scope = _scope(access, "s.location")
    params.update(scope)
    for column, value in (("s.location", location), ("s.sku", sku), ("s.bin", bin_code)):
        if value:
            clauses.append(f"{column} = :{column[2:]}")
            params[column[2:]] = value
    if after:
        clauses.append("(s.location, s.sku, s.bin) > (:k1, :k2, :k3)")
        params.update(k1=after[0], k2=after[1], k3=after[2])
    rows = conn.execute(
        "SELECT s.location, s.bin, s.sku, s.on_hand, "
        "(SELECT COALESCE(SUM(r.qty), 0) FROM reservations r WHERE r.location = s.location AND r.sku = s.sku) AS reserved, "
        "(SELECT COALESCE(SUM(a.granted - a.used - a.released), 0) FROM allotments a WHERE a.location = s.location "
        "AND a.sku = s.sku) AS allotted, "
        "(SELECT COALESCE(SUM(t.on_hand), 0) FROM stock t WHERE t.location = s.location AND t.sku = s.sku) AS location_on_hand "
        f"FROM stock s WHERE {' AND '.join(clauses)}{where} ORDER BY s.location, s.sku, s.bin LIMIT :lim",
        {**params, "lim": PAGE + 1}).mappings().all()
    page = [{**r, "available": r["location_on_hand"] - r["reserved"] - r["allotted"]} for r in rows[:PAGE]]
    return page, ([page[-1]["location"], page[-1]["sku"], page[-1]["bin"]] if len(rows) > PAGE else None)


def fleet(conn: Tx, access: Access, now: datetime, location: str = "") -> list[dict[str, Any]]:
    """Every device the access sees, with what its last health report said."""
    where, params = _scope(access)
    if location:
        where, params = where + " AND location = :loc", {**params, "loc": location}
    rows = conn.execute(
        "SELECT id, name, location, role, enrolled_at, last_seen_at, last_seq, cursor, health, revoked_at FROM devices "
        f"WHERE 1 = 1{where} ORDER BY location, name", params).mappings()
    devices = []
    for r in rows:
        health = json.loads(r["health"]) if r["health"] else {}
        seen = datetime.fromisoformat(r["last_seen_at"]) if r["last_seen_at"] else None
        devices.append({**r, "health": health, "revoked": bool(r["revoked_at"]),
                        "offline": not r["revoked_at"] and (seen is None or now - seen > OFFLINE_AFTER),
                        "ageing": (health.get("oldest_pending_age_s") or 0) > OLD_UNSENT_S})
    return devices
