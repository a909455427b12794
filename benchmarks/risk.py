"""`python -m benchmarks.risk [--orders N]`: refreshing SLA risk for N open orders
(default 100,000) across 20 locations on SQLite: reading the floor's state
(hub.insight.risk.floor_state) and assessing every order (assess), timed apart.
The orders are written straight into the tables (through hub commands they would take
many minutes); nothing is logged. Measures, asserts nothing."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

from hub.insight.risk import assess, floor_state
from hub.store.db import Database
from hub.store.migrations import migrate

__all__ = ["main"]

LOCATIONS = [f"LOC-{i:02d}" for i in range(20)]


def _load(db: Database, n: int, now: datetime) -> None:
    rng = random.Random(7)
    for start in range(0, n, 10_000):
        orders, lines = [], []
        for i in range(start, min(start + 10_000, n)):
            order_id = str(uuid.UUID(int=rng.getrandbits(128)))
            promised = (now + timedelta(minutes=rng.randint(-30, 600))).isoformat()
            status = rng.choice(["released", "picking", "released", "awaiting_stock"])
            orders.append((order_id, f"N-{i}", "bench", "pickup", promised, "", rng.choice(LOCATIONS), status, now.isoformat()))
            lines += [(order_id, n_, f"SKU-{rng.randint(1, 5000)}", rng.randint(1, 3), 0, 0) for n_ in range(1, rng.randint(2, 4))]
        with db.write() as conn:
            conn.executemany("INSERT INTO orders (id, number, channel, fulfilment, promised_by, customer_name, location, "
                             "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", orders)
            conn.executemany("INSERT INTO order_lines (order_id, line_no, sku, qty, qty_picked, qty_short) "
                             "VALUES (?, ?, ?, ?, ?, ?)", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="SLA risk refresh for many open orders.")
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/hub.db")
        migrate(db)
        _load(db, args.orders, now)
        started = time.perf_counter()
        with db.read() as conn:
            state = floor_state(conn, now)
        read = time.perf_counter() - started
        started = time.perf_counter()
        risks = assess(state, now)
        assessed = time.perf_counter() - started
        db.dispose()
    levels = {level: sum(1 for r in risks if r.level == level) for level in ("ok", "at_risk", "late")}
    print(f"SLA risk for {len(risks):,} open orders: floor state read in {read * 1000:.0f} ms, "
          f"assessed in {assessed * 1000:.0f} ms, {(read + assessed) * 1000:.0f} ms in all ({levels})")


if __name__ == "__main__":
    main()
