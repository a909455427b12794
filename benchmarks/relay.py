"""`python -m benchmarks.relay [--events N] [--seconds S] [--db sqlite|pg]`: the event
relay against the real NATS JetStream server (BACKROOM_NATS_URL, default
nats://127.0.0.1:4222), printing two tables. Measures, asserts nothing.

1. Throughput: N events already in the outbox (copies of a real pick's
   `backroom.stock.changed`, written straight into the table), published by the
   relay's JetStream publisher from cursor 0 to the end, acks awaited page by page:
   events/s.
2. Lag under load: `backroom hub relay` as a process of its own, while this process
   applies device-like hub commands (stock receipts, 20 to a transaction) for S
   seconds and a JetStream consumer receives the events: ingest ops/s, and the lag
   from each event's commit to its arrival at the consumer (p50, p99, max).
3. No loss: the relay process killed with SIGKILL --kills times (every 2–4 s) while
   the hub writes, started again each time; then every event id is looked for in the
   stream: events lost, and copies stored twice.
Each run uses a stream of its own, deleted afterwards."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

from hub.events.relay import JetStreamPublisher, RelayConfig
from hub.events.stream import cursor, head, page, set_cursor
from hub.log import run_hub_command
from hub.seed import DEMO_LOCATION, seed_demo
from hub.store.db import Database
from hub.store.migrations import migrate

__all__ = ["main"]

NATS_URL = os.environ.get("BACKROOM_NATS_URL", "nats://127.0.0.1:4222")
ROOT = Path(__file__).resolve().parents[1]


def _fill(db: Database, n: int) -> None:
    data = json.dumps({"location": DEMO_LOCATION, "bin": "A-01-1", "sku": "MILK-1L", "delta": -1, "reason": "pick",
                       "order_id": "0f6c3a52-1d4e-4c1b-9d7e-2b8f1f0a9e11"}, separators=(",", ":"))
    now = datetime.now().astimezone().isoformat()
    for start in range(0, n, 10_000):
        rows = [(f"{uuid.uuid4()}:0", "backroom.stock.changed", f"{DEMO_LOCATION}/A-01-1/MILK-1L", DEMO_LOCATION, now, data)
                for _ in range(min(10_000, n - start))]
        with db.write() as conn:
            conn.executemany("INSERT INTO events (id, type, subject, location, time, data) VALUES (?, ?, ?, ?, ?, ?)", rows)


async def throughput(db: Database, n: int, batch: int) -> float:
    run = uuid.uuid4().hex[:8]
    config = RelayConfig(nats_url=NATS_URL, stream=f"BRBENCH_{run}", subject=f"brbench.{run}", batch=batch)
    _fill(db, n)
    publisher = JetStreamPublisher(db, config)
    await publisher.connect()
    try:
        started = time.perf_counter()
        await publisher.publish_all()
        elapsed = time.perf_counter() - started
    finally:
        await _delete(publisher, config.stream)
        await publisher.close()
    return publisher.published / elapsed


async def _delete(publisher: JetStreamPublisher, stream: str) -> None:
    try:
        await publisher._js.delete_stream(stream)
    except Exception:  # noqa: BLE001 - a benchmark's leftovers
        pass


def _ingest(db: Database, stop: threading.Event, applied: list[int]) -> None:
    while not stop.is_set():
        with db.write() as conn:
            for _ in range(20):
                run_hub_command(conn, "stock.received", {"location": DEMO_LOCATION, "bin": "A-01-1", "sku": "MILK-1L", "qty": 1})
        applied[0] += 20


async def lag_under_load(db_url: str, db: Database, seconds: float) -> tuple[float, list[float]]:
    import nats

    run = uuid.uuid4().hex[:8]
    stream, subject = f"BRBENCH_{run}", f"brbench.{run}"
    with db.write() as conn:  # this stream starts at the outbox's end: only the load's events are measured
        set_cursor(conn, f"jetstream:{stream}", head(conn))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    relay = subprocess.Popen([sys.executable, "-m", "backroom_cli", "hub", "relay", "--db", db_url, "--nats", NATS_URL,
                              "--stream", stream, "--subject", subject, "--no-webhooks", "--risk-every", "0"],
                             cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    nc = await nats.connect(NATS_URL)
    lags: list[float] = []
    try:
        js = nc.jetstream()
        for _ in range(1200):  # the relay makes the stream (its start-up takes seconds on a busy machine)
            try:
                await js.stream_info(stream)
                break
            except Exception:  # noqa: BLE001 - not there yet
                await asyncio.sleep(0.05)

        async def arrived(msg) -> None:
            event = json.loads(msg.data)
            lags.append(time.time() - datetime.fromisoformat(event["time"]).timestamp())

        from nats.js.api import DeliverPolicy

        sub = await js.subscribe(f"{subject}.>", stream=stream, cb=arrived, ordered_consumer=True,
                                 deliver_policy=DeliverPolicy.NEW)
        stop, applied = threading.Event(), [0]
        writer = threading.Thread(target=_ingest, args=(db, stop, applied))
        started = time.perf_counter()
        writer.start()
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.to_thread(writer.join)
        rate = applied[0] / (time.perf_counter() - started)
        deadline = time.monotonic() + 30
        while len(lags) < applied[0] and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await sub.unsubscribe()
        await js.delete_stream(stream)
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(10)
        await nc.close()
    return rate, lags


def _start_relay(db_url: str, stream: str, subject: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "backroom_cli", "hub", "relay", "--db", db_url, "--nats", NATS_URL,
                             "--stream", stream, "--subject", subject, "--batch", "200", "--no-webhooks",
                             "--risk-every", "0"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)


async def kills(db_url: str, db: Database, n: int) -> tuple[int, int, int]:
    """The relay killed with SIGKILL `n` times while the hub writes; then every id is
    looked for in the stream. Returns (events, lost, copies stored)."""
    import nats

    run = uuid.uuid4().hex[:8]
    stream, subject = f"BRBENCH_{run}", f"brbench.{run}"
    with db.write() as conn:
        set_cursor(conn, f"jetstream:{stream}", head(conn))
        first = head(conn)
    stop, applied = threading.Event(), [0]
    writer = threading.Thread(target=_ingest, args=(db, stop, applied))
    writer.start()
    try:
        for _ in range(n):
            relay = _start_relay(db_url, stream, subject)
            await asyncio.sleep(2.0 + random.random() * 2)
            relay.send_signal(signal.SIGKILL)
            relay.wait()
    finally:
        stop.set()
        await asyncio.to_thread(writer.join)
    relay = _start_relay(db_url, stream, subject)
    with db.read() as conn:
        last = head(conn)
        ids = [e.id for e in page(conn, first, 10_000_000)]
    while True:
        with db.read() as conn:
            if cursor(conn, f"jetstream:{stream}") >= last:
                break
        await asyncio.sleep(0.2)
    relay.send_signal(signal.SIGTERM)
    relay.wait(10)
    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        stored = (await js.stream_info(stream)).state.messages
        sub = await js.subscribe(f"{subject}.>", stream=stream, ordered_consumer=True)
        got = set()
        for _ in range(stored):
            got.add((await sub.next_msg(timeout=10)).headers["Nats-Msg-Id"])
        await js.delete_stream(stream)
    finally:
        await nc.close()
    return len(ids), len(set(ids) - got), stored - len(got)


def _db_url(kind: str, folder: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder}/hub.db"
    from benchmarks.hubs import _pg_url

    return _pg_url()


def main() -> None:
    parser = argparse.ArgumentParser(description="The event relay against JetStream: throughput and lag.")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--kills", type=int, default=10, help="relay SIGKILLs during the no-loss run (0: skip it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = _db_url(args.db, folder)
        db = Database(url)
        migrate(db)
        seed_demo(db)
        rate = asyncio.run(throughput(db, args.events, args.batch))
        print(f"relay → JetStream ({args.db}): {args.events:,} events in pages of {args.batch}: {rate:,.0f} events/s")
        ingest, lags = asyncio.run(lag_under_load(url, db, args.seconds))
        lost = asyncio.run(kills(url, db, args.kills)) if args.kills else None
        db.dispose()
    if lags:
        lags.sort()
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        print(f"lag while the hub applies {ingest:,.0f} hub commands/s for {args.seconds:.0f} s: "
              f"{len(lags):,} events, p50 {statistics.median(lags) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
              f"max {lags[-1] * 1000:.0f} ms")
    else:
        print("lag: no event arrived")
    if lost is not None:
        print(f"{args.kills} relay SIGKILLs while the hub wrote: {lost[0]:,} events, {lost[1]} lost, "
              f"{lost[2]} stored twice")


if __name__ == "__main__":
    main()
