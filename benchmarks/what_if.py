"""What-if replay of a busy network's week: the benchmarks.routing network (200
locations, 100,000 SKUs) set up through the log (imports, locations, profiles, stock),
then a week of orders accepted through the log, each followed by its floor work at the
location(s) routing sent it to: a claim, a pick per line, a carton for a ship order.
Then `hub.what_if.what_if` replays the whole log under a candidate policy (stores
first, by distance) in a scratch SQLite database: the figure is ops replayed per
second, against the goal of issue 20 (≥ 20,000 ops/s), with the comparison's summary.

Every op goes through the hub's real apply path (hub.log.apply_op, logged by
hub.log.log_ops, an order's acceptance and the floor work before it per transaction), and each op's `applied_at` is set to
the simulated floor time, so the pick rates what-if measures are the week's.

    python -m benchmarks.what_if                  # the default size (printed)
    python -m benchmarks.what_if --ops 1000000    # the issue's size (slow to build here)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.routing import AT, KINDS, held_count
from hub.domain.routing_policy import RoutingPolicy
from hub.log import apply_op, log_ops, prefetch
from hub.outcome import HUB_DEVICE, HUB_ROLE, Context
from hub.store.db import Database
from hub.store.migrations import migrate
from hub.store.tx import Tx
from hub.what_if import what_if
from sync.kinds import SCHEMA_VERSION
from sync.models import Op, OpStatus

__all__ = ["main", "build_log", "GOAL_OPS_PER_S"]

GOAL_OPS_PER_S = 20_000
DEFAULT_OPS = 20_000  # builds here in ~8 min (~40-50 ops/s on a shared 2-core VM); --ops 1000000: the size
WEEK = timedelta(days=7)
HOURS = {d: "07:00-22:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": "08:00-20:00"}
CANDIDATE = {"rules": [
    {"name": "stores", "fulfilment": ["ship"], "kinds": ["store", "warehouse"], "sorts": ["kind", "distance"]},
    {"name": "pickup", "fulfilment": ["pickup"], "kinds": ["store"]},
    {"name": "quick", "fulfilment": ["quick"], "kinds": ["dark_store", "store"], "sorts": ["distance"]}]}


class Writer:
    """Applies ops through the hub's path and logs them, an order and the floor work before it to a transaction, each
    op's `applied_at` the simulated time it happened."""

    def __init__(self, db: Database):
        self.db, self.ops = db, 0
        self.seqs: dict[str, int] = {}
        self.pending: list[tuple[Context, Op, str]] = []

    def hub(self, kind: str, payload: dict[str, Any], at: datetime) -> None:
        self._add(Context(HUB_DEVICE, None, HUB_ROLE), kind, payload, at, "bench")

    def device(self, location: str, role: str, kind: str, payload: dict[str, Any], at: datetime) -> None:
        self._add(Context(f"{role}-{location}", location, role), kind, payload, at, f"{role}-{location}")

    def _add(self, ctx: Context, kind: str, payload: dict[str, Any], at: datetime, actor: str) -> None:
        seq = self.seqs[ctx.device_id] = self.seqs.get(ctx.device_id, 0) + 1
        op = Op.model_construct(op_id=str(uuid.uuid4()), device_id=ctx.device_id, device_seq=seq, kind=kind,
                                payload=payload, actor=actor, hlc=f"{int(at.timestamp() * 1000):015d}:000000:{ctx.device_id}",
                                schema_version=SCHEMA_VERSION, proof=None)
        self.pending.append((ctx, op, at.isoformat()))

    def flush(self, read: Callable[[Tx], Any] | None = None) -> Any:
        """Apply and log what is pending; then `read` in the same transaction."""
        with self.db.write() as conn:
            prefetch(conn, [op for _ctx, op, _at in self.pending])
            for ctx, op, at in self.pending:
                result = apply_op(conn, ctx, op)
                if result.status != OpStatus.APPLIED and ctx.device_id == HUB_DEVICE:
                    raise RuntimeError(f"{op.kind} refused: {result.reason_code} {result.message}")
                log_ops(conn, [(ctx, op, result)])
                conn.execute("UPDATE op_log SET applied_at = :t WHERE op_id = :o", {"t": at, "o": op.op_id})
            self.ops += len(self.pending)
            self.pending = []
            return read(conn) if read else None


def build_network(w: Writer, skus: int, rng: random.Random) -> list[str]:
    """The benchmarks.routing network, through the log: items and bins imported, the
    locations added with their profiles, each location's stock a snapshot import."""
    at = AT - timedelta(days=1)
    codes = [f"L{i:03d}" for i in range(len(KINDS))]
    for start in range(0, skus, 5000):
        w.hub("catalogue.items_imported", {"items": [{"sku": f"SKU-{i:06d}", "name": f"Item {i}", "unit_weight_g": 100}
                                                     for i in range(start, min(start + 5000, skus))]}, at)
    for code, kind in zip(codes, KINDS):
        w.hub("location.added", {"code": code, "name": code, "kind": kind}, at)
        w.hub("location.profile_set", {"code": code, "lat": rng.uniform(47.5, 54.5), "lon": rng.uniform(6.0, 14.5),
                                       "tz_offset_min": 60, "hours": HOURS if kind != "warehouse" else None,
                                       "daily_capacity": 5_000, "rank": rng.randint(0, 9)}, at)
    w.hub("bins.imported", {"bins": [{"location": c, "code": "B-1", "seq": 1} for c in codes]}, at)
    w.flush()
    for code, kind in zip(codes, KINDS):
        held = rng.sample(range(skus), held_count(kind, skus))
        rows = [{"bin": "B-1", "sku": f"SKU-{i:06d}", "on_hand": rng.randint(20, 200)} for i in held]
        for start in range(0, len(rows), 5000):
            w.hub("stock.snapshot_imported", {"location": code, "rows": rows[start:start + 5000]}, at)
        w.flush()
    return codes


def _order(rng: random.Random, skus: int, number: str, at: datetime) -> dict[str, Any]:
    fulfilment = rng.choice(["ship", "ship", "quick"])
    lines = [{"sku": f"SKU-{rng.randrange(skus):06d}", "qty": rng.randint(1, 3)} for _ in range(rng.randint(1, 3))]
    promise = at + (timedelta(hours=4) if fulfilment == "quick" else timedelta(days=2))
    return {"number": number, "channel": "bench", "fulfilment": fulfilment, "promised_by": promise.isoformat(),
            "lines": lines, "ship_to": {"lines": ["Street 1"], "postal_code": "10117", "country": "DE",
                                        "lat": rng.uniform(47.5, 54.5), "lon": rng.uniform(6.0, 14.5)}}


def _routed(order_id: str) -> Callable[[Tx], list[tuple[str, str, str, list[tuple[int, str, int, str | None]]]]]:
    """The order and its split lines as routing left them: (id, location, fulfilment, lines)."""
    def read(conn: Tx) -> list[tuple[str, str, str, list[tuple[int, str, int, str | None]]]]:
        rows = conn.execute("SELECT o.id, o.location, o.fulfilment FROM orders o LEFT JOIN order_details d ON d.order_id = o.id "
                            "WHERE (o.id = :o OR d.parent_id = :o) AND o.location IS NOT NULL", {"o": order_id}).tuples()
        out = []
        for oid, location, fulfilment in rows:
            lines = conn.execute("SELECT line_no, sku, qty, pick_bin FROM order_lines WHERE order_id = :o ORDER BY line_no",
                                 {"o": oid}).tuples()
            out.append((oid, location, fulfilment, [tuple(line) for line in lines]))
        return out
    return read


def floor_work(w: Writer, order_id: str, location: str, fulfilment: str,
               lines: list[tuple[int, str, int, str | None]], at: datetime) -> None:
    """A picker claims and picks the order; a ship order's packer closes its carton."""
    w.device(location, "picker", "pick.claimed", {"order_id": order_id}, at)
    for n, (line_no, sku, qty, pick_bin) in enumerate(lines, start=1):
        w.device(location, "picker", "pick.confirmed", {"order_id": order_id, "line_no": line_no, "bin": pick_bin or "B-1",
                                                        "sku": sku, "qty": qty}, at + timedelta(minutes=n))
    if fulfilment == "ship":
        w.device(location, "packer", "pack.carton_closed", {
            "order_id": order_id, "carton_id": f"C{uuid.uuid4().hex[:18]}", "carton_type": "S", "weight_g": 500,
            "contents": [{"line_no": ln, "sku": s, "qty": q} for ln, s, q, _b in lines]}, at + timedelta(minutes=len(lines) + 2))


def build_log(db: Database, ops: int, skus: int, seed: int = 23, progress: Callable[[str], None] = print) -> int:
    """A network and a week of orders with their floor work, until the log holds `ops`."""
    rng = random.Random(seed)
    w = Writer(db)
    build_network(w, skus, rng)
    per_order = 5.5  # accept, claim, ~2 picks, a carton on two in three, the odd split
    orders = max(int((ops - w.ops) / per_order), 1)
    step, n, t0 = WEEK / orders, 0, time.perf_counter()
    while w.ops < ops:
        at = AT + step * n
        order_id = str(uuid.uuid4())
        w.hub("order.accepted", {"id": order_id, "created_at": at.isoformat(), "order": _order(rng, skus, f"W-{n}", at)}, at)
        for oid, location, fulfilment, lines in w.flush(_routed(order_id)):
            floor_work(w, oid, location, fulfilment, lines, at + timedelta(minutes=rng.randint(5, 90)))
        n += 1
        if n % 5000 == 0:
            progress(f"  {w.ops:,} ops, {n:,} orders, {w.ops / (time.perf_counter() - t0):,.0f} ops/s")
    w.flush()
    return n


def measure(db: Database, profile: bool = False) -> tuple[float, Any, str]:
    """Seconds for what-if over the whole log, the comparison, and (profile) the top of cProfile's table."""
    policy = RoutingPolicy.model_validate(CANDIDATE)
    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    comparison = what_if(db, policy)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - t0
    table = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        table = out.getvalue()
    return seconds, comparison, table


def run(ops: int, skus: int, profile: bool = False, keep: Path | None = None) -> dict[str, Any]:
    """Build the log (or, with `keep`, reuse the one built there before) and time what-if over it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = keep or Path(tmp) / "week.db"
        reuse = path.exists()
        db = Database(f"sqlite:///{path}")
        migrate(db)
        t0 = time.perf_counter()
        orders = _orders_in(db) if reuse else build_log(db, ops, skus)
        built = time.perf_counter() - t0
        with db.read() as conn:
            logged = int(conn.execute("SELECT COUNT(*) FROM op_log").scalar_one())
        how = f"reused from {path}" if reuse else (f"built in {built:.0f} s ({logged / built:,.0f} ops/s through the hub's "
                                                   "apply path)")
        print(f"log: {logged:,} ops ({orders:,} orders over a week, 200 locations), {how}")
        seconds, comparison, table = measure(db, profile)
        db.dispose()
    rate = comparison.ops / seconds
    print(f"what-if replay: {comparison.ops:,} ops in {seconds:.1f} s = {rate:,.0f} ops/s "
          f"(goal ≥ {GOAL_OPS_PER_S:,} ops/s: {'ok' if rate >= GOAL_OPS_PER_S else 'OVER GOAL'})")
    for line in comparison.lines(show=0)[:5]:
        print(f"  {line}")
    if table:
        print(table)
    return {"ops": comparison.ops, "seconds": seconds, "ops_per_s": rate, "orders": orders, "build_s": built,
            "summary": comparison.lines(show=0)[:5]}


def _orders_in(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute("SELECT COUNT(*) FROM op_log WHERE kind = 'order.accepted'").scalar_one())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=DEFAULT_OPS, help=f"log size (default {DEFAULT_OPS:,})")
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the replay; print the top 45")
    parser.add_argument("--keep", type=Path, default=None, help="an SQLite file: build the log there once, reuse it after")
    args = parser.parse_args(argv)
    run(args.ops, args.skus, args.profile, args.keep)


if __name__ == "__main__":
    main()
