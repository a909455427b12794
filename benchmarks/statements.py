"""`python -m benchmarks.statements [sqlite|pg] [PUSHES]`: the push path without
HTTP, statement by statement.

Loads the benchmark store, then calls `hub.api.push.push` directly for PUSHES pushes of
20 `pick.confirmed` ops (500 devices, round-robin, as in `make bench`) and prints
ops/s, µs per op, and the time each SQL statement took per op, slowest first.
For finding what the hub spends an op on; it measures, it asserts nothing."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.data import FULL, LOCATION, add_devices, generate, load
from benchmarks.hubs import Backend
from benchmarks.run import workload
from hub.api.push import push
from hub.credentials import Device
from hub.store import tx as tx_module
from hub.store.db import Database
from sync.models import Op


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else "sqlite"
    pushes = int(argv[1]) if len(argv) > 1 else 400
    with tempfile.TemporaryDirectory(prefix="backroom-stmts-") as tmp:
        backend = Backend(kind, Path(tmp))
        try:
            _run(backend, pushes)
        finally:
            backend.drop_all()
    return 0


def _run(backend: Backend, pushes: int) -> None:
    store = generate(FULL)
    base = backend.open_base()
    load(base, store)
    ids = add_devices(base, 500)
    base.dispose()
    devices = workload(store, ids)
    db = Database(backend.copy("statements"))
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    _time_statements(spent)
    started = time.perf_counter()
    ops = asyncio.run(_push_all(db, devices, ids, pushes))
    seconds = time.perf_counter() - started
    db.dispose()
    print(f"{ops} ops in {seconds:.2f} s: {ops / seconds:,.0f} ops/s, {seconds / ops * 1e6:.0f} µs per op")
    print(f"statements (execute, not executemany): {sum(t for _n, t in spent.values()) / ops * 1e6:.0f} µs per op")
    for sql, (count, total) in sorted(spent.items(), key=lambda kv: -kv[1][1])[:20]:
        print(f"{total / ops * 1e6:8.1f} µs/op {count / ops:6.2f}×/op  {sql[:100]}")


async def _push_all(db: Database, devices: list[dict], ids: list[str], pushes: int) -> int:
    """One push after another, round-robin over the devices, as `make bench` deals them."""
    ops = 0
    for n in range(pushes):
        batch = devices[n % len(ids)]["batches"][n // len(ids)]
        device = Device(ids[n % len(ids)], "bench", LOCATION, "picker")
        ops += len(await push(db, device, [Op.model_validate(op) for op in batch]))
    return ops


def _time_statements(spent: dict[str, list[float]]) -> None:
    execute = tx_module.Tx.execute

    def timed(self, sql, params=None):
        started = time.perf_counter()
        try:
            return execute(self, sql, params)
        finally:
            entry = spent[sql if isinstance(sql, str) else sql.text]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    tx_module.Tx.execute = timed


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
