"""Time to compute inventory risk (hub.insight.inventory.inventory_risk) on a network of
200 locations each holding 10,000 SKUs, with picks of a tenth of those pairs over the
14-day window, on SQLite. The data is written straight into the tables (this measures
the read, not the log): `python -m benchmarks.inventory_risk [--locations N --skus N]`."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hub.access import Access, network_admin
from hub.insight.inventory import AT_RISK, inventory_risk
from hub.store.db import Database
from hub.store.migrations import migrate


def _fill(db: Database, locations: int, skus: int, picked: float, now: datetime, rng: random.Random) -> int:
    start_ms = int((now - timedelta(days=14)).timestamp() * 1000)
    picks = 0
    for n in range(locations):
        loc = f"L-{n:03d}"
        stock = [(loc, "A-01", f"SKU-{s:05d}", rng.randint(0, 400)) for s in range(skus)]
        moves = []
        for s in rng.sample(range(skus), int(skus * picked)):
            for _ in range(rng.randint(1, 4)):  # a few pick movements of a few units each
                ms = start_ms + rng.randint(0, 14 * 86_400_000)
                moves.append((loc, "A-01", f"SKU-{s:05d}", -rng.randint(1, 12), "pick", f"{ms:015d}:000000:dev"))
        with db.write() as conn:
            conn.executemany("INSERT INTO stock (location, bin, sku, on_hand) VALUES (?, ?, ?, ?)", stock)
            conn.executemany("INSERT INTO movements (location, bin, sku, qty, reason, hlc) "
                             "VALUES (?, ?, ?, ?, ?, ?)", moves)
        picks += len(moves)
    return picks


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--locations", type=int, default=200)
    args.add_argument("--skus", type=int, default=10_000)
    args.add_argument("--picked", type=float, default=0.1, help="share of (location, SKU) pairs picked in the window")
    args.add_argument("--keep", type=Path, default=None, help="write the data set to this file and keep it; "
                                                                  "an existing one is read again as it is")
    opts = args.parse_args()
    now, rng = datetime.now(timezone.utc), random.Random(21)
    with tempfile.TemporaryDirectory() as tmp:
        path = opts.keep or Path(tmp) / "bench.db"
        fresh = not path.exists()
        db = Database(f"sqlite:///{path}")
        migrate(db)
        if fresh:
            began = time.perf_counter()
            picks = _fill(db, opts.locations, opts.skus, opts.picked, now, rng)
            print(f"{opts.locations} locations x {opts.skus:,} SKUs with stock, {picks:,} pick movements "
                  f"(written in {time.perf_counter() - began:.0f} s)")
        for name, access in (("network admin (every location)", network_admin("bench")),
                             ("store manager (one location)", Access("store_manager", "bench", frozenset({"L-007"})))):
            began = time.perf_counter()
            with db.read() as conn:
                risk = inventory_risk(conn, access, now)
            took = time.perf_counter() - began
            at_risk = sum(c.level in AT_RISK for c in risk.covers)
            print(f"{name}: {took:.2f} s for {len(risk.covers):,} covers ({at_risk:,} at risk), "
                  f"{len(risk.suggestions):,} transfers suggested")
        db.dispose()


if __name__ == "__main__":
    main()
