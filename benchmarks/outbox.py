"""`python -m benchmarks.outbox [--groups N]`: the outbox's own cost on the push path:
`hub.events.outbox.write_events` for groups of 1,280 applied picks (a group commit of
64 pushes of 20), each in a transaction of its own on SQLite, commit included.
Prints CPU µs per op. Measures, asserts nothing (benchmarks.writer gives the whole
writer's figure to compare it with)."""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import datetime, timezone

from hub.events.outbox import write_events
from hub.outcome import Context
from hub.seed import DEMO_LOCATION, seed_demo
from hub.store.db import Database
from hub.store.migrations import migrate
from sync.kinds import SCHEMA_VERSION
from sync.models import Op, OpResult, OpStatus

__all__ = ["main"]

GROUP = 1280


def _group(orders: list[str], ctx: Context) -> list[tuple[Context, Op, OpResult]]:
    entries = []
    for i in range(GROUP):
        op = Op(op_id=str(uuid.uuid4()), device_id=ctx.device_id, device_seq=i + 1, kind="pick.confirmed",
                payload={"order_id": orders[i % len(orders)], "line_no": 1, "bin": "A-01-1", "sku": "MILK-1L", "qty": 1},
                actor="bench", hlc="000000000000001:000000:bench", schema_version=SCHEMA_VERSION)
        entries.append((ctx, op, OpResult(op_id=op.op_id, device_seq=i + 1, status=OpStatus.APPLIED)))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description="The outbox's cost per applied op.")
    parser.add_argument("--groups", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/hub.db")
        migrate(db)
        seed_demo(db)
        with db.read() as conn:
            orders = list(conn.execute("SELECT id FROM orders").scalars())
        groups = [_group(orders, Context("bench", DEMO_LOCATION, "picker")) for _ in range(args.groups)]
        started = time.process_time()
        for entries in groups:
            with db.write() as conn:
                write_events(conn, datetime.now(timezone.utc).isoformat(), entries)
        cpu = time.process_time() - started
        db.dispose()
    print(f"outbox: {args.groups * GROUP:,} picks in groups of {GROUP}: {cpu / (args.groups * GROUP) * 1e6:.1f} µs CPU "
          "per op, commit included")


if __name__ == "__main__":
    main()
