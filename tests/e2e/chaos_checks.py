"""The end-of-run checks of the chaos test (test_chaos_real_processes.py), once the
floor is quiet: every device synced, its outbox answered, a last pull done.

- no op lost: every op answered, numbered gap-free, the hub's last_seq at the last;
- exactly once: one movement per pick op, no op moving stock twice;
- in device order: the hub logged each device's ops in order, under the ids the
  device gave them, and gave the answers the device recorded;
- every replica equals the hub for its location, with no pending overlay left;
- stock: the ledger sums to on-hand, reservations equal open units, nothing
  reserved beyond on-hand unless a fact made it so;
- escrow: at the dark store reserved + allotted <= on hand - safety, every order a
  terminal confirmed offline from its allotment stands, allotments agree;
- `backroom hub verify`: the log replays to the same state digest."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import TYPE_CHECKING

from edge_app.local.hub_state import _LINE_COLUMNS, _ORDER_COLUMNS
from hub.seed import DARK_STORE
from tests.e2e.procs import run_backroom

if TYPE_CHECKING:
    from edge_app.local.replica import Replica
    from tests.e2e.chaos_floor import Floor

__all__ = ["outbox_rows", "check_hub_against_devices", "check_hub_database"]


def outbox_rows(replica: "Replica") -> list[dict]:
    """The device's outbox in device order, payloads decoded."""
    rows = replica.query("SELECT device_seq, op_id, kind, payload, state, reason_code FROM outbox ORDER BY device_seq")
    return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]


def check_hub_against_devices(floor: "Floor") -> None:
    """Through the running hub's API: no op lost, exactly once, replicas equal, stock sound."""
    hub_devices = {d["id"]: d for d in floor.get("/v1/devices")}
    movements = [m for loc in _locations(floor) for m in floor.get("/v1/movements", location=loc, limit=5000)]
    by_op = Counter(m["op_id"] for m in movements if m["op_id"])
    assert all(n == 1 for n in by_op.values()), f"ops moved stock more than once: {[o for o, n in by_op.items() if n > 1]}"
    pick_moves = sorted(m["op_id"] for m in movements if m["reason"] == "pick")
    picks = []
    for device in floor.devices:
        ops = outbox_rows(device.replica)
        # No op lost: every op answered, numbered gap-free, the hub's last_seq at the last one.
        assert [op["device_seq"] for op in ops] == list(range(1, len(ops) + 1))
        assert all(op["state"] in ("applied", "rejected") for op in ops), Counter(op["state"] for op in ops)
        assert hub_devices[device.device_id]["last_seq"] == len(ops), (device.n, len(ops))
        picks += [op["op_id"] for op in ops if op["kind"] == "pick.confirmed"]
        floor.events["ops_total"] += len(ops)
    # Exactly once: one movement per pick op, none without its op.
    assert pick_moves == sorted(picks), "pick movements differ from the devices' pick ops"
    for location in _locations(floor):
        _check_replicas_equal_hub(floor, location)
        _check_stock(floor, location, [m for m in movements if m["location"] == location])


def _locations(floor: "Floor") -> list[str]:
    return sorted({device.location for device in floor.devices})


def _check_replicas_equal_hub(floor: "Floor", location: str) -> None:
    orders = floor.get("/v1/orders", location=location, limit=1000)
    hub_orders = {o["id"]: tuple(o.get(c) for c in _ORDER_COLUMNS) for o in orders}
    hub_lines = {(o["id"], l["line_no"]): tuple(l.get(c, 0) for c in _LINE_COLUMNS) for o in orders for l in o["lines"]}
    hub_stock = {(s["bin"], s["sku"]): s["on_hand"] for s in floor.get("/v1/stock", location=location)}
    hub_tasks = {t["id"]: (t["kind"], t["status"]) for t in floor.get("/v1/tasks", location=location, limit=5000)}
    for device in (d for d in floor.devices if d.location == location):
        q, n = device.replica.query, device.n
        assert {r["id"]: tuple(r[c] for c in _ORDER_COLUMNS) for r in q("SELECT * FROM orders")} == hub_orders, n
        assert {(r["order_id"], r["line_no"]): tuple(r[c] for c in _LINE_COLUMNS)
                for r in q("SELECT * FROM order_lines")} == hub_lines, n
        assert {(r["bin"], r["sku"]): r["on_hand"] for r in q("SELECT * FROM stock")} == hub_stock, n
        assert {r["id"]: (r["kind"], r["status"]) for r in q("SELECT * FROM tasks")} == hub_tasks, n
        # Nothing pending, so the views the floor reads are hub state itself.
        for table in (r["name"] for r in q("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%_effects'")):
            assert q(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0, (n, table)
        assert {(r["bin"], r["sku"]): r["on_hand"] for r in q("SELECT * FROM stock_now")} == hub_stock, n


def _check_stock(floor: "Floor", location: str, movements: list[dict]) -> None:
    """The ledger sums to on-hand per (bin, SKU); no SKU is reserved beyond what is on
    hand, except where a fact made it so (a count, or a pick that collided)."""
    ledger = Counter()
    for m in movements:
        ledger[(m["bin"], m["sku"])] += m["qty"]
    stock = floor.get("/v1/stock", location=location)
    assert {(s["bin"], s["sku"]): s["on_hand"] for s in stock} == dict(ledger), f"{location}: ledger ≠ on-hand"
    ops = {op["op_id"]: op for device in floor.devices for op in outbox_rows(device.replica)}
    collided = {op_id for c in floor.get("/v1/conflicts", location=location, limit=5000) if (op_id := c["op_id"]) in ops}
    excused = {op["payload"]["sku"] for op in ops.values()
               if op["kind"] == "count.recorded" or (op["op_id"] in collided and "sku" in op["payload"])}
    on_hand, reserved = Counter(), {}
    for s in stock:
        on_hand[s["sku"]] += s["on_hand"]
        reserved[s["sku"]] = s["reserved"]
    oversold = {sku: (reserved[sku], on_hand[sku]) for sku in on_hand if sku not in excused and reserved[sku] > on_hand[sku]}
    assert not oversold, f"{location}: reserved > on hand: {oversold}"


def check_hub_database(floor: "Floor") -> None:
    """Read the dead hub's database: each device's ops logged in device order with
    the ids the device gave them, answers that agree with the device's record,
    reservations equal to open units; and the log replays to the same state."""
    path = floor.hub.db_url[len("sqlite:///"):]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        for device in floor.devices:
            logged = db.execute("SELECT device_seq, op_id, result FROM op_log WHERE device_id = ? ORDER BY log_seq",
                                (device.device_id,)).fetchall()
            ops = outbox_rows(device.replica)
            assert [(r["device_seq"], r["op_id"]) for r in logged] == [(op["device_seq"], op["op_id"]) for op in ops], device.n
            hub_verdicts = [json.loads(r["result"])["status"] for r in logged]
            differ = [(op["device_seq"], op["kind"], op["state"], hub) for op, hub in zip(ops, hub_verdicts) if op["state"] != hub]
            assert not differ, f"device {device.n} recorded answers the hub did not give (seq, kind, device, hub): {differ}"
            floor.events["ops_rejected"] += hub_verdicts.count("rejected")
            _check_escrow(db, device, ops)
        _check_reservations(db)
        _check_promises(db, DARK_STORE)
    finally:
        db.close()
    run_backroom("hub", "verify", "--db", floor.hub.db_url, "--json")  # exits 1, and so fails, on a different digest


def _check_escrow(db: sqlite3.Connection, device, ops: list[dict]) -> None:
    """An order a terminal confirmed offline from its allotment stands; the terminal
    sees its allotments as the hub holds them."""
    broken = [op["payload"]["number"] for op in ops
              if op["kind"] == "reservation.requested" and op["payload"]["from_allotment"] and op["state"] != "applied"]
    assert not broken, f"device {device.n}: orders confirmed offline from its allotment were refused: {broken}"
    hub = {r["sku"]: (r["outstanding"], r["target"], r["expires_at"]) for r in db.execute(
        "SELECT sku, granted - used - released AS outstanding, target, expires_at FROM allotments WHERE device_id = ?",
        (device.device_id,))}
    mine = {r["sku"]: (r["outstanding"], r["target"], r["expires_at"]) for r in device.replica.query(
        "SELECT sku, outstanding, target, expires_at FROM allotments")}
    assert mine == hub, f"device {device.n}: allotments differ from the hub's"


def _check_promises(db: sqlite3.Connection, location: str) -> None:
    """No oversell where only requests move stock: reserved + allotted <= on hand - safety."""
    rows = db.execute(
        "SELECT p.sku, p.safety_stock, "
        "(SELECT COALESCE(SUM(on_hand), 0) FROM stock s WHERE s.location = p.location AND s.sku = p.sku) AS on_hand, "
        "(SELECT COALESCE(SUM(qty), 0) FROM reservations r WHERE r.location = p.location AND r.sku = p.sku) AS reserved, "
        "(SELECT COALESCE(SUM(granted - used - released), 0) FROM allotments a WHERE a.location = p.location AND a.sku = p.sku) AS allotted "
        "FROM stock_policy p WHERE p.location = ?", (location,)
    ).fetchall()
    assert rows, f"no stock policy at {location}"
    oversold = [dict(r) for r in rows if r["reserved"] + r["allotted"] > r["on_hand"] - r["safety_stock"]]
    assert not oversold, f"{location} oversold: {oversold}"


def _check_reservations(db: sqlite3.Connection) -> None:
    """Held units are exactly the open units of open orders: picks, shorts and cancels
    released each unit once (an over-pick's excess releases nothing)."""
    rows = db.execute(
        "SELECT l.order_id, l.line_no, o.status, l.qty - l.qty_picked - l.qty_short AS open_units, "
        "COALESCE((SELECT SUM(r.qty) FROM reservations r WHERE r.order_id = l.order_id AND r.line_no = l.line_no), 0) AS held "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.location IS NOT NULL"
    ).fetchall()
    for r in rows:
        expected = max(r["open_units"], 0) if r["status"] in ("released", "picking") else 0
        assert r["held"] == expected, dict(r)
