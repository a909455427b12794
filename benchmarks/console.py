"""The admin console on a PostgreSQL hub holding a network's worth of history: every
page's load time through a real `backroom hub serve`, p50 and p95, against the goal of
300 ms p95 (issue 19). The data is written with COPY (a million orders through hub
commands would take hours) into a database kept for the next run.

    python -m benchmarks.console                      # 1,000,000 orders, 100,000 SKUs
    python -m benchmarks.console --orders 100000      # a smaller network
    python -m benchmarks.console --fresh              # throw the kept database away first
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import psycopg

from benchmarks.hubs import PG_ADMIN_URL, HubServer, _pg_admin, _pg_url, pg_available

__all__ = ["main", "load_network", "PAGES"]

GOAL_P95_MS = 300.0
LOCATIONS = [f"LOC-{i:02d}" for i in range(1, 21)]
BINS_PER_LOCATION = 200
FIRST = ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Mo", "Nia", "Omar",
         "Pia", "Quinn", "Rui", "Sara", "Tom", "Uma", "Vic", "Wen", "Yusuf", "Zoe"]
LAST = ["Lopez", "Smith", "Nguyen", "Müller", "Rossi", "Kowalski", "Okafor", "Tanaka", "Silva", "Dubois", "Khan",
        "Jensen", "Novak", "Haddad", "Ivanova", "Murphy", "Garcia", "Larsen", "Costa", "Weber"]
CLOSED = ["handed_over"] * 6 + ["shipped"] * 3 + ["cancelled"]
OPEN = ["released", "picking", "picked", "packed", "awaiting_stock"]
PASSWORD = "benchmark-console-pw"
SAMPLES = 20  # loads of each page


def _rows_needed(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("orders", "items")}


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    n = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def load_network(url: str, orders: int, skus: int, seed: int = 7) -> None:
    """Write the network with COPY: locations, bins, items, stock with its receipts,
    orders with lines and their ops in the log, open tasks, conflicts and devices."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        _copy(conn, "locations", ["code", "name", "kind"],
              ((c, f"Store {c[-2:]}", "warehouse" if i < 2 else "store") for i, c in enumerate(LOCATIONS)))
        _copy(conn, "bins", ["location", "code", "seq"],
              ((loc, f"A-{b:03d}", b) for loc in LOCATIONS for b in range(BINS_PER_LOCATION)))
        _copy(conn, "items", ["sku", "name", "unit_weight_g"], ((f"SKU-{s:06d}", f"Item {s}", 100 + s % 900) for s in range(skus)))
        stock = [(LOCATIONS[(s + k * 7) % len(LOCATIONS)], f"A-{(s * 31 + k) % BINS_PER_LOCATION:03d}", f"SKU-{s:06d}",
                  50 + (s * k) % 200) for s in range(skus) for k in range(3)]
        _copy(conn, "stock", ["location", "bin", "sku", "on_hand"], iter(stock))
        _copy(conn, "movements", ["location", "bin", "sku", "qty", "reason", "hlc"],
              ((loc, b, sku, qty, "received", _hlc(now - timedelta(days=100))) for loc, b, sku, qty in stock))
        conn.commit()
        _load_orders(conn, rng, orders, skus, now)
        _load_floor(conn, rng, now)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _hlc(at: datetime) -> str:
    return f"{int(at.timestamp() * 1000):015d}:000000:bench"


def _load_orders(conn: psycopg.Connection, rng: random.Random, count: int, skus: int, now: datetime) -> None:
    orders, lines, log = [], [], []
    for i in range(count):
        created = now - timedelta(minutes=(count - i) * 90 * 24 * 60 / count)  # 90 days of orders, oldest first
        open_ = created > now - timedelta(hours=30) or rng.random() < 0.002
        status = rng.choice(OPEN) if open_ else rng.choice(CLOSED)
        location = None if status == "awaiting_stock" else rng.choice(LOCATIONS)
        order_id = f"o{i:08d}"
        orders.append((order_id, f"W-{i:07d}", rng.choice(("webshop", "marketplace", "quick")), "pickup" if i % 3 else "ship",
                       (created + timedelta(hours=4)).isoformat(), f"{rng.choice(FIRST)} {rng.choice(LAST)}", location,
                       status, created.isoformat()))
        for line_no in (1, 2):
            lines.append((order_id, line_no, f"SKU-{rng.randrange(skus):06d}", 1 + i % 3, 0, 0))
        log.append(_op(i, 0, "order.accepted", order_id, location, "hub", created))
        if status not in ("released", "awaiting_stock", "cancelled"):
            log.append(_op(i, 1, "pick.confirmed", order_id, location, f"dev-{(i % 200):03d}", created + timedelta(minutes=20)))
            log.append(_op(i, 2, "pick.confirmed", order_id, location, f"dev-{(i % 200):03d}", created + timedelta(minutes=22)))
        if len(orders) >= 50_000:
            _flush_orders(conn, orders, lines, log)
    _flush_orders(conn, orders, lines, log)


def _op(i: int, n: int, kind: str, order_id: str, location: str | None, device: str, at: datetime) -> tuple[Any, ...]:
    rejected = kind == "pick.confirmed" and i % 997 == 0 and n == 2
    result = {"status": "rejected" if rejected else "applied", "reason_code": "wrong_bin" if rejected else None,
              "message": "A-001 is not where this line is picked" if rejected else None}
    payload = {"id": order_id} if kind == "order.accepted" else {"order_id": order_id, "line_no": n, "qty": 1}
    return (f"op-{i:08d}-{n}", device, i * 3 + n, kind, json.dumps(payload), "P1" if n else "hub", _hlc(at), 1,
            json.dumps(result), at.isoformat(), location, "picker" if n else None, order_id, result["status"])


def _flush_orders(conn: psycopg.Connection, orders: list, lines: list, log: list) -> None:
    _copy(conn, "orders", ["id", "number", "channel", "fulfilment", "promised_by", "customer_name", "location", "status",
                           "created_at"], iter(orders))
    _copy(conn, "order_lines", ["order_id", "line_no", "sku", "qty", "qty_picked", "qty_short"], iter(lines))
    _copy(conn, "op_log", ["op_id", "device_id", "device_seq", "kind", "payload", "actor", "hlc", "schema_version", "result",
                           "applied_at", "location", "role", "order_id", "status"], iter(log))
    conn.commit()
    orders.clear(), lines.clear(), log.clear()


def _load_floor(conn: psycopg.Connection, rng: random.Random, now: datetime) -> None:
    _copy(conn, "tasks", ["kind", "location", "for_role", "sentence", "details", "op_id", "status"],
          (("recount", rng.choice(LOCATIONS), "supervisor", f"Count SKU-{i:06d} in A-{i % 200:03d}", "{}", f"t-{i}",
            "open" if i % 4 == 0 else "done") for i in range(20_000)))
    _copy(conn, "conflicts", ["rule", "op_id", "device_id", "location", "inputs", "outcome", "hlc"],
          (("over_pick", f"c-{i}", f"dev-{i % 200:03d}", rng.choice(LOCATIONS), json.dumps({"picked": 3, "line_qty": 2}),
            "kept", _hlc(now - timedelta(hours=i))) for i in range(5_000)))
    _copy(conn, "devices", ["id", "name", "location", "role", "token_hash", "enrolled_at", "last_seen_at", "last_seq", "cursor",
                            "health"],
          ((f"dev-{i:03d}", f"handheld-{i}", LOCATIONS[i % len(LOCATIONS)], "picker", f"hash-{i}", now.isoformat(),
            (now - timedelta(minutes=i % 40)).isoformat(), 0, 0,
            json.dumps({"outbox_depth": i % 5, "oldest_pending_age_s": (i % 7) * 200.0, "app_version": "0.1.0"}))
           for i in range(200)))


def _pages(db: psycopg.Connection) -> dict[str, str]:
    """The pages timed, with the ids they need taken from the data."""
    open_order = db.execute("SELECT id FROM orders WHERE status = 'picked' LIMIT 1").fetchone()[0]
    old_order = db.execute("SELECT id FROM orders WHERE number = 'W-0000100'").fetchone()[0]
    return {
        "overview": "/console/",
        "orders: newest": "/console/orders",
        "orders: by status": "/console/orders?status=picked",
        "orders: by location": "/console/orders?location=LOC-07",
        "orders: late": "/console/orders?late=1",
        "orders: number prefix": "/console/orders?q=W-00123",
        "orders: customer prefix": "/console/orders?q=lopez",
        "orders: by SKU": "/console/orders?q=SKU-004242",
        "order: open, with timeline": f"/console/orders/{open_order}",
        "order: 90 days old": f"/console/orders/{old_order}",
        "exceptions: tasks": "/console/exceptions?kind=task",
        "exceptions: conflicts": "/console/exceptions?kind=conflict",
        "exceptions: refused ops": "/console/exceptions?kind=refused",
        "exceptions: awaiting stock": "/console/exceptions?kind=awaiting",
        "stock: first page": "/console/stock",
        "stock: one SKU everywhere": "/console/stock?sku=SKU-012345",
        "stock: one location": "/console/stock?location=LOC-11",
        "stock: ledger": "/console/stock/ledger?location=LOC-01&sku=SKU-000000",
        "fleet": "/console/fleet",
    }


def _next_page(client: httpx.Client, path: str) -> str:
    """The second page of a list, by the link the first one shows."""
    html = client.get(path).text
    found = re.search(r'href="\?([^"]+)"', html)
    return f"{path.split('?')[0]}?{found.group(1).replace('&amp;', '&')}" if found else path


def measure(hub_url: str, pages: dict[str, str]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    with httpx.Client(base_url=hub_url, timeout=60, follow_redirects=True) as client:
        answer = client.post("/console/sign-in", data={"login": "bench", "password": PASSWORD})
        assert "Overview" in answer.text, answer.text[:300]
        pages = {**pages, "orders: page 2": _next_page(client, "/console/orders"),
                 "stock: page 2": _next_page(client, "/console/stock")}
        for name, path in pages.items():
            client.get(path)  # first load: plans and caches, not timed
            times = []
            for _ in range(SAMPLES):
                start = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.text[:200]}"
            timings[name] = times
    return timings


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(timings: dict[str, list[float]], orders: int, skus: int) -> None:
    every = [t for times in timings.values() for t in times]
    print(f"\nAdmin console on PostgreSQL: {orders:,} orders, {skus:,} SKUs, {len(LOCATIONS)} locations; "
          f"{SAMPLES} loads per page, load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, times in timings.items():
        flag = "  over the goal" if _pct(times, 0.95) > GOAL_P95_MS else ""
        print(f"{name:<32} {statistics.median(times):8.1f} {_pct(times, 0.95):8.1f} {max(times):8.1f}{flag}")
    p95 = _pct(every, 0.95)
    print(f"{'every page':<32} {statistics.median(every):8.1f} {p95:8.1f} {max(every):8.1f}")
    print(f"goal: p95 <= {GOAL_P95_MS:.0f} ms: {'met' if p95 <= GOAL_P95_MS else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="drop the kept database and load it again")
    args = parser.parse_args()
    if not pg_available():
        raise SystemExit(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"backroom_console_{args.orders}_{args.skus}"
    url = _pg_url(name)
    if args.fresh:
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _ensure_loaded(name, url, args.orders, args.skus)
    with HubServer(url, Path(".backroom/bench")) as hub, psycopg.connect(url) as db:
        timings = measure(hub.url, _pages(db))
    report(timings, args.orders, args.skus)


def _ensure_loaded(name: str, url: str, orders: int, skus: int) -> None:
    from hub.admins import create_admin
    from hub.store.db import Database
    from hub.store.migrations import migrate

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f"CREATE DATABASE {name}")
    db = Database(url)
    migrate(db)  # a kept database gets this checkout's migrations
    with psycopg.connect(url) as conn:
        have = _rows_needed(conn)
    if have != {"orders": orders, "items": skus}:
        if any(have.values()):
            raise SystemExit(f"{name} holds {have}: run with --fresh")
        started = time.perf_counter()
        print(f"loading {orders:,} orders and {skus:,} SKUs into {name} (kept for the next run)…", flush=True)
        load_network(url, orders, skus)
        print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
    with db.write() as conn:
        if conn.execute("SELECT 1 FROM admins WHERE login = 'bench'").first() is None:
            create_admin(conn, "bench", "Benchmark", "network_admin", PASSWORD)
    db.dispose()


if __name__ == "__main__":
    main()
