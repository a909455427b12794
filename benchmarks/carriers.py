"""Carrier rate tables at their largest: 10 services (5 carriers), 10,000 zone rows (2,000
zones of five postal prefixes each) and 100,000 rates (every service in every zone, five
weight bands). Prints the time to read the three CSV files and check them (what a dry
run does), to parse the stored table (a hub process or a device, once per version),
and one carton's choice (zone, rates, promise), p50 and p99: what closing a carton
adds on a device and on the hub.

    python -m benchmarks.carriers [--cartons 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date

from hub.carrier_csv import read_table
from sync.carriers import Destination, RateTable, choose

__all__ = ["main", "big_table_csv"]

BANDS = (1000, 2000, 5000, 10_000, 31_500)


def big_table_csv(zones: int = 2000, prefixes: int = 5) -> dict[str, str]:
    """The three CSV texts of the largest table the limits allow."""
    services = ["carrier,service,name,tracking_prefix"]
    for c in range(5):
        for s in ("std", "exp"):
            services.append(f"C{c},{s},Carrier {c} {s},{chr(65 + c)}{chr(75 + c)}")
    zone_rows = ["zone,country,postal_prefix,min_km,max_km"]
    for z in range(zones):
        zone_rows += [f"Z{z},DE,{z:04d}{p}," + "," for p in range(prefixes)]
    rates = ["carrier,service,zone,max_weight_g,price,transit_days"]
    for c in range(5):
        for s, days in (("std", 3), ("exp", 1)):
            for z in range(zones):
                rates += [f"C{c},{s},Z{z},{w},{4 + c + i}.{z % 100:02d},{days}" for i, w in enumerate(BANDS)]
    return {"services": "\n".join(services) + "\n", "zones": "\n".join(zone_rows) + "\n", "rates": "\n".join(rates) + "\n"}


def _ms(samples: list[float]) -> str:
    samples = sorted(samples)
    return f"p50 {statistics.median(samples) * 1000:.2f} ms, p99 {samples[int(len(samples) * 0.99) - 1] * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cartons", type=int, default=2000)
    args = parser.parse_args()
    texts = big_table_csv()
    started = time.perf_counter()
    table, problems = read_table(texts)
    checked = time.perf_counter() - started
    assert table is not None, problems.as_list()[:3]
    stored = table.model_dump_json()
    started = time.perf_counter()
    RateTable.model_validate_json(stored)
    parsed = time.perf_counter() - started
    rng = random.Random(7)
    took = []
    for _ in range(args.cartons):
        dest = Destination("DE", f"{rng.randrange(2000):04d}{rng.randrange(5)}{rng.randrange(100):02d}")
        started = time.perf_counter()
        choice = choose(table, rng.randrange(100, 31_000), dest, date(2026, 12, 7), date(2026, 12, 9))
        took.append(time.perf_counter() - started)
        assert choice.chosen is not None
    print(f"rate table: {len(table.services)} services, {len(table.zones)} zone rows, {len(table.rates)} rates "
          f"({len(stored) / 1e6:.1f} MB stored)")
    print(f"read and check the CSV files (a dry run): {checked:.2f} s")
    print(f"parse the stored table (once per version, hub process or device): {parsed:.2f} s")
    print(f"choose a carton's service ({args.cartons} cartons): {_ms(took)}")


if __name__ == "__main__":
    main()
