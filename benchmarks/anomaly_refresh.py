"""`python -m benchmarks.anomaly_refresh [--events N] [--pg URL]`: the cost of an
anomaly refresh's reading (hub.insight.anomalies.Tally.fold) over an outbox of N events
spread over the 8-day window (default 500,000: picks, shorts and counts at 50 stores),
cold (a fresh tally: the CLI's refresh, the relay's first round) and then incremental
(the relay's next rounds: one minute's 1,000 new events). The events are written
straight into the outbox, nothing is logged. Measures, asserts nothing."""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

from hub.insight.anomalies import WINDOW, Tally
from hub.insight.detectors import detect
from hub.store.db import Database
from hub.store.migrations import migrate

__all__ = ["main"]


def _events(rng: random.Random, n: int, start: datetime, span: timedelta) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for i in range(n):
        at = (start + span * (i / n)).isoformat()
        location, sku, bin_code = f"S{rng.randint(0, 49):02d}", f"SKU-{rng.randint(0, 999):03d}", f"B-{rng.randint(0, 99):02d}"
        op_id, roll = str(uuid.UUID(int=rng.getrandbits(128))), rng.random()
        if roll < 0.9:
            kind, data = "backroom.stock.changed", {"location": location, "bin": bin_code, "sku": sku, "delta": -1,
                                                    "reason": "pick", "order_id": op_id}
        elif roll < 0.93:
            kind, data = "backroom.pick.shorted", {"location": location, "order_id": op_id, "line_no": 1, "sku": sku,
                                                   "bin": bin_code, "qty": 1, "reason": "empty_bin"}
        elif roll < 0.95:
            kind, data = "backroom.stock.counted", {"location": location, "bin": bin_code, "sku": sku, "counted": 5}
        else:
            kind, data = "backroom.order.picked", {"order_id": op_id, "status": "picked"}
        rows.append((f"{op_id}:0", kind, op_id, location, at, json.dumps(data)))
    return rows


def _write(db: Database, rows: list) -> None:
    for start in range(0, len(rows), 20_000):
        with db.write() as conn:
            conn.executemany("INSERT INTO events (id, type, subject, location, time, data) VALUES (?, ?, ?, ?, ?, ?)",
                             rows[start:start + 20_000])


def main() -> None:
    parser = argparse.ArgumentParser(description="Anomaly refresh: reading the window cold and incrementally.")
    parser.add_argument("--events", type=int, default=500_000)
    args = parser.parse_args()
    rng, now = random.Random(11), datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/hub.db")
        migrate(db)
        _write(db, _events(rng, args.events, now - WINDOW + timedelta(minutes=5), WINDOW - timedelta(minutes=6)))
        tally = Tally()
        started = time.perf_counter()
        with db.read() as conn:
            window = tally.fold(conn, now)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        found = detect(window, now)
        judged = time.perf_counter() - started
        _write(db, _events(rng, 1000, now, timedelta(seconds=50)))
        later = now + timedelta(minutes=1)
        started = time.perf_counter()
        with db.read() as conn:
            window = tally.fold(conn, later)
        warm = time.perf_counter() - started
        db.dispose()
    print(f"anomaly refresh over {args.events:,} events in the window (SQLite): cold read {cold:.2f} s, "
          f"detectors {judged:.2f} s ({len(found)} found), incremental read of 1,000 new events {warm * 1000:.0f} ms "
          f"({len(window.lines):,} lines, {len(window.counts):,} counts held)")


if __name__ == "__main__":
    main()
