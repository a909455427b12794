"""CSV imports at network scale: 100,000 items and 200,000 stock rows (two bins per
item) through `hub.imports.import_csv` — read, checked against the hub, applied in
batches of logged hub commands — on SQLite and PostgreSQL; seconds and rows/s for
each, then the change feed a device would pull.

    python -m benchmarks.imports                         # both backends, full size
    python -m benchmarks.imports --items 10000 --backend sqlite
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from benchmarks.hubs import Backend, _pg_admin, pg_available
from hub.access import network_admin
from hub.imports import import_csv
from hub.store.db import Database

__all__ = ["main", "run"]

LOCATION = "BENCH-1"
BINS = 2000


def _csv(header: str, rows: list[str]) -> io.StringIO:
    return io.StringIO(header + "\n" + "\n".join(rows) + "\n", newline="")


def _timed(db: Database, kind: str, text: io.StringIO, rows: int) -> float:
    access = network_admin("bench")
    start = time.perf_counter()
    report = import_csv(db, access, kind, text)
    took = time.perf_counter() - start
    if report.bad or report.applied != rows:
        raise SystemExit(f"{kind}: {report.as_dict()['errors'][:5]} (applied {report.applied} of {rows})")
    print(f"  {kind:<6} {rows:>8,} rows  {took:7.1f} s  {rows / took:9,.0f} rows/s  ({report.batches} batches)")
    return took


def run(url: str, items: int, stock_rows: int) -> None:
    db = Database(url)
    from hub.store.migrations import migrate

    migrate(db)
    with db.write() as conn:
        from hub.log import run_hub_command

        run_hub_command(conn, "location.added", {"code": LOCATION, "name": "Benchmark store", "kind": "store"}, "bench")
    _timed(db, "bins", _csv("location,code,seq,zone", [f"{LOCATION},B-{i:05d},{i},Z{i // 100}" for i in range(BINS)]), BINS)
    _timed(db, "items", _csv("sku,name,gtins,unit_weight_g,hazmat", [
        f"SKU-{i:07d},Item number {i},{_gtin(i)},{100 + i % 900},{'yes' if i % 50 == 0 else 'no'}" for i in range(items)]),
        items)
    per_item = max(1, stock_rows // items)
    rows = [f"{LOCATION},B-{(i * 7 + k * 13) % BINS:05d},SKU-{i:07d},{1 + (i + k) % 40}"
            for i in range(items) for k in range(per_item)][:stock_rows]
    _timed(db, "stock", _csv("location,bin,sku,on_hand", rows), len(rows))
    with db.read() as conn:
        feed = conn.execute("SELECT entity, COUNT(*) AS n FROM changes GROUP BY entity ORDER BY entity").all()
    print("  feed rows a device pulls: " + ", ".join(f"{r.entity} {r.n:,}" for r in feed))
    db.dispose()


def _gtin(i: int) -> str:
    """A valid GTIN-13 for item i (prefix 20: in-store numbers, no real product)."""
    body = f"20{i:010d}"
    total = sum(int(d) * (3 if n % 2 else 1) for n, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--stock", type=int, default=200_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for kind in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
            if kind == "postgres" and not pg_available():
                print("postgres: not reachable, skipped")
                continue
            backend = Backend(kind, Path(work))
            print(f"{kind}: {args.items:,} items, {args.stock:,} stock rows, {BINS:,} bins")
            try:
                run(backend.base_url, args.items, args.stock)
            finally:
                if kind == "postgres":
                    _pg_admin(f"DROP DATABASE IF EXISTS {backend.base_url.rpartition('/')[2]}")


if __name__ == "__main__":
    main()
