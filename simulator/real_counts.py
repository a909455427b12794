"""The end-of-run counts of the real-process soak (simulator/real_soak.py), read once
every device has drained and pulled: the chaos test's checks (tests/e2e/chaos_checks.py),
counted instead of asserted, on the hub's database directly (SQLite or PostgreSQL),
so an hour's history is read whole rather than through the API's page limits.

- lost: an op a device recorded that the hub never applied nor refused (still pending
  on the device, or missing from the hub's log under its number), or an applied pick
  that moved no stock;
- doubled: an op whose effect the ledger holds more than once;
- oversold: the ledger not summing to on-hand, units reserved beyond on hand without a
  fact that made it so, reservations not equal to open units, a dark store promising
  more than on hand less safety stock;
- diverged: a replica not equal to the hub for its location, overlays left, a device's
  recorded answer not the hub's, the hub's log out of device order or ahead of it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from edge_app.local.hub_state import _LINE_COLUMNS, _ORDER_COLUMNS
from hub.api.reads import list_orders, stock_rows, task_rows
from hub.seed import DARK_STORE
from hub.store.db import Database
from hub.store.tx import Tx
from tests.e2e.chaos_checks import outbox_rows
from tests.e2e.chaos_floor import Device

__all__ = ["Counts", "count"]

_ALL = 1_000_000  # every row: the soak reads whole tables, not the API's pages


@dataclass
class Counts:
    lost: int = 0
    doubled: int = 0
    oversold: int = 0
    diverged: int = 0
    applied: int = 0
    refused: int = 0
    ops: int = 0
    resent: int = 0  # ops devices sent again to the restored hub (its audit of `hub_behind_device`)
    devices_resending: int = 0
    refusals: Counter = field(default_factory=Counter)  # reason code → ops the hub refused
    # Orders a terminal confirmed offline from its allotment that the hub refused. Sent again
    # to the restored hub, which forgot allotments granted after its backup, they may be
    # (listed, not counted); refused on their only sending they are a violation.
    promises_broken: list[str] = field(default_factory=list)
    promises_broken_unexcused: int = 0
    details: list[str] = field(default_factory=list)  # what each counted thing was (the first few are printed)

    def add(self, what: str, n: int, detail: str) -> None:
        if n:
            setattr(self, what, getattr(self, what) + n)
            self.details.append(f"{what} {n}: {detail}")

    @property
    def clean(self) -> bool:
        return not (self.lost or self.doubled or self.oversold or self.diverged or self.promises_broken_unexcused)


def count(db_url: str, devices: list[Device]) -> Counts:
    counts = Counts()
    db = Database(db_url)
    try:
        with db.read() as conn:
            for device in devices:
                _count_device_log(conn, device, counts)
            _count_ledger(conn, counts)
            for location in sorted({d.location for d in devices}):
                _count_stock(conn, location, devices, counts)
                _count_replicas(conn, location, devices, counts)
            _count_reservations(conn, counts)
            _count_promises(conn, DARK_STORE, counts)
            _count_resent(conn, counts)
    finally:
        db.dispose()
    return counts


def _count_device_log(conn: Tx, device: Device, counts: Counts) -> None:
    ops = outbox_rows(device.replica)
    counts.ops += len(ops)
    logged = [dict(r) for r in conn.execute(
        "SELECT device_seq, op_id, status FROM op_log WHERE device_id = :d ORDER BY log_seq", {"d": device.device_id}).mappings()]
    by_seq = {r["device_seq"]: r for r in logged}
    pending = [op["device_seq"] for op in ops if op["state"] not in ("applied", "rejected")]
    missing = [op["device_seq"] for op in ops if op["state"] in ("applied", "rejected")
               and by_seq.get(op["device_seq"], {}).get("op_id") != op["op_id"]]
    counts.add("lost", len(pending), f"device {device.n}: ops still unanswered after the drain {pending[:10]}")
    counts.add("lost", len(missing), f"device {device.n}: answered ops the hub's log lacks {missing[:10]}")
    told = [(op["device_seq"], op["kind"], op["state"], by_seq[op["device_seq"]]["status"]) for op in ops
            if op["device_seq"] in by_seq and by_seq[op["device_seq"]]["op_id"] == op["op_id"]
            and op["state"] in ("applied", "rejected") and op["state"] != by_seq[op["device_seq"]]["status"]]
    counts.add("diverged", len(told), f"device {device.n}: answers recorded that the hub did not give (seq, kind, device, hub) {told[:5]}")
    seqs = [op["device_seq"] for op in ops]
    counts.add("diverged", int(seqs != list(range(1, len(ops) + 1))), f"device {device.n}: its outbox is not numbered 1..{len(ops)}")
    hub_seqs = [r["device_seq"] for r in logged]
    counts.add("diverged", int(hub_seqs != sorted(hub_seqs)), f"device {device.n}: the hub logged its ops out of device order")
    ahead = [s for s in hub_seqs if s > len(ops)]
    counts.add("diverged", len(ahead), f"device {device.n}: the hub holds ops the device never numbered {ahead[:10]}")
    last_seq = conn.execute("SELECT last_seq FROM devices WHERE id = :d", {"d": device.device_id}).scalar()
    counts.add("diverged", int(last_seq != len(ops)), f"device {device.n}: the hub's last_seq {last_seq}, the device's last {len(ops)}")
    counts.applied += sum(1 for r in logged if r["status"] == "applied")
    counts.refused += sum(1 for r in logged if r["status"] == "rejected")
    _count_escrow(conn, device, ops, counts)


def _count_resent(conn: Tx, counts: Counts) -> None:
    """What the devices told the restored hub it had forgotten ("ops #3..#5")."""
    rows = conn.execute("SELECT actor, target FROM audit WHERE action = 'sync.hub_behind_device'").all()
    for _actor, target in rows:
        first, last = (int(n) for n in target.replace("ops #", "").split("..#"))
        counts.resent += last - first + 1
    counts.devices_resending = len({actor for actor, _target in rows})


def _count_ledger(conn: Tx, counts: Counts) -> None:
    """Each op's effect once: no op moves stock twice; each applied pick moves it once."""
    twice = conn.execute("SELECT op_id, COUNT(*) AS n FROM movements WHERE op_id IS NOT NULL GROUP BY op_id HAVING COUNT(*) > 1").all()
    counts.add("doubled", len(twice), f"ops that moved stock more than once {[r[0] for r in twice[:10]]}")
    moved = {r[0] for r in conn.execute("SELECT op_id FROM movements WHERE reason = 'pick' AND op_id IS NOT NULL").all()}
    applied_picks = {r[0] for r in conn.execute(
        "SELECT op_id FROM op_log WHERE kind = 'pick.confirmed' AND status = 'applied'").all()}
    unmoved = sorted(applied_picks - moved)
    counts.add("lost", len(unmoved), f"applied picks that moved no stock {unmoved[:10]}")
    foreign = sorted(moved - applied_picks)
    counts.add("diverged", len(foreign), f"pick movements without an applied pick op {foreign[:10]}")


def _count_stock(conn: Tx, location: str, devices: list[Device], counts: Counts) -> None:
    """The ledger sums to on-hand; nothing reserved beyond on hand unless a fact made it so."""
    ledger: Counter = Counter()
    for r in conn.execute("SELECT bin, sku, qty FROM movements WHERE location = :l", {"l": location}).all():
        ledger[(r[0], r[1])] += r[2]
    stock = stock_rows(conn, location, None)
    held = {(s["bin"], s["sku"]): s["on_hand"] for s in stock}
    off = [key for key in set(held) | set(ledger) if held.get(key, 0) != ledger.get(key, 0)]
    counts.add("oversold", len(off), f"{location}: (bin, SKU) whose ledger does not sum to on-hand {sorted(off)[:10]}")
    ops = {op["op_id"]: op for device in devices for op in outbox_rows(device.replica)}
    collided = {r[0] for r in conn.execute("SELECT op_id FROM conflicts WHERE location = :l", {"l": location}).all()}
    excused = {op["payload"]["sku"] for op in ops.values()
               if op["kind"] == "count.recorded" or (op["op_id"] in collided and "sku" in op["payload"])}
    on_hand: Counter = Counter()
    reserved: dict[str, int] = {}
    for s in stock:
        on_hand[s["sku"]] += s["on_hand"]
        reserved[s["sku"]] = s["reserved"]
    over = {sku: (reserved[sku], on_hand[sku]) for sku in on_hand if sku not in excused and reserved[sku] > on_hand[sku]}
    counts.add("oversold", len(over), f"{location}: SKUs reserved beyond on hand (reserved, on hand) {over}")


def _count_reservations(conn: Tx, counts: Counts) -> None:
    """Held units are exactly the open units of open orders."""
    rows = conn.execute(
        "SELECT l.order_id, l.line_no, o.status, l.qty - l.qty_picked - l.qty_short AS open_units, "
        "COALESCE((SELECT SUM(r.qty) FROM reservations r WHERE r.order_id = l.order_id AND r.line_no = l.line_no), 0) AS held "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.location IS NOT NULL").mappings()
    wrong = [dict(r) for r in rows
             if r["held"] != (max(r["open_units"], 0) if r["status"] in ("released", "picking") else 0)]
    counts.add("oversold", len(wrong), f"order lines whose reservations are not their open units {wrong[:5]}")


def _count_promises(conn: Tx, location: str, counts: Counts) -> None:
    """Where only requests move stock: reserved + allotted <= on hand - safety, beyond what
    orders honoured after a restore took it (an `escrow_over` task tells a supervisor)."""
    rows = conn.execute(
        "SELECT p.sku, p.safety_stock, "
        "(SELECT COALESCE(SUM(on_hand), 0) FROM stock s WHERE s.location = p.location AND s.sku = p.sku) AS on_hand, "
        "(SELECT COALESCE(SUM(qty), 0) FROM reservations r WHERE r.location = p.location AND r.sku = p.sku) AS reserved, "
        "(SELECT COALESCE(SUM(granted - used - released), 0) FROM allotments a WHERE a.location = p.location AND a.sku = p.sku) AS allotted "
        "FROM stock_policy p WHERE p.location = :l", {"l": location}).mappings()
    honoured = Counter[str]()
    for t in conn.execute("SELECT details FROM tasks WHERE location = :l AND kind = 'escrow_over'", {"l": location}):
        details = json.loads(t.details)
        honoured[details["sku"]] += details["qty"]
    over = [dict(r) for r in rows
            if r["reserved"] + r["allotted"] > r["on_hand"] - r["safety_stock"] + honoured[r["sku"]]]
    counts.add("oversold", len(over), f"{location}: promised beyond on hand less safety stock {over[:5]}")


def _count_escrow(conn: Tx, device: Device, ops: list[dict], counts: Counts) -> None:
    for r in device.replica.query("SELECT payload, reason_code, resent_at, first_result FROM outbox "
                                  "WHERE kind = 'reservation.requested' AND state = 'rejected'"):
        payload = json.loads(r["payload"])
        if payload.get("from_allotment"):
            first = json.loads(r["first_result"]).get("status") if r["first_result"] else None
            when = f"first {first}, sent again after the restore" if r["resent_at"] else "sent once"
            counts.promises_broken.append(f"{payload['number']} ({r['reason_code']}; {when})")
            counts.promises_broken_unexcused += r["resent_at"] is None
    counts.refusals.update(op["reason_code"] for op in ops if op["state"] == "rejected")
    hub = {r["sku"]: (r["outstanding"], r["target"], r["expires_at"]) for r in conn.execute(
        "SELECT sku, granted - used - released AS outstanding, target, expires_at FROM allotments WHERE device_id = :d",
        {"d": device.device_id}).mappings()}
    mine = {r["sku"]: (r["outstanding"], r["target"], r["expires_at"]) for r in device.replica.query(
        "SELECT sku, outstanding, target, expires_at FROM allotments")}
    differ = sorted(sku for sku in set(hub) | set(mine) if hub.get(sku) != mine.get(sku))
    counts.add("diverged", len(differ), f"device {device.n}: allotments unlike the hub's {differ[:10]}")


def _as_sent(value: Any) -> Any:
    """A hub value as a device receives it (JSON on the wire)."""
    return json.loads(json.dumps(value, default=str))


def _count_replicas(conn: Tx, location: str, devices: list[Device], counts: Counts) -> None:
    orders = _as_sent(list_orders(conn, location, None, _ALL))
    hub_orders = {o["id"]: tuple(o.get(c) for c in _ORDER_COLUMNS) for o in orders}
    hub_lines = {(o["id"], l["line_no"]): tuple(l.get(c, 0) for c in _LINE_COLUMNS) for o in orders for l in o["lines"]}
    hub_stock = {(s["bin"], s["sku"]): s["on_hand"] for s in stock_rows(conn, location, None)}
    hub_tasks = {t["id"]: (t["kind"], t["status"]) for t in task_rows(conn, location, "open", _ALL)}
    for device in (d for d in devices if d.location == location):
        q = device.replica.query
        for what, hub, mine in (
            ("orders", hub_orders, {r["id"]: tuple(r[c] for c in _ORDER_COLUMNS) for r in q("SELECT * FROM orders")}),
            ("order lines", hub_lines, {(r["order_id"], r["line_no"]): tuple(r[c] for c in _LINE_COLUMNS)
                                        for r in q("SELECT * FROM order_lines")}),
            ("stock", hub_stock, {(r["bin"], r["sku"]): r["on_hand"] for r in q("SELECT * FROM stock")}),
            ("stock seen", hub_stock, {(r["bin"], r["sku"]): r["on_hand"] for r in q("SELECT * FROM stock_now")}),
            ("tasks", hub_tasks, {r["id"]: (r["kind"], r["status"]) for r in q("SELECT * FROM tasks")}),
        ):
            differ = sorted((k for k in set(hub) | set(mine) if hub.get(k) != mine.get(k)), key=str)
            counts.add("diverged", len(differ), f"device {device.n}: {what} unlike the hub's {differ[:5]}")
        for table in (r["name"] for r in q("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%_effects'")):
            left = q(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
            counts.add("diverged", left, f"device {device.n}: overlay rows left in {table}")
