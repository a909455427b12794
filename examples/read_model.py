"""An example consumer of Backroom's events: reads the JetStream stream the relay
publishes to and keeps a read model in SQLite — each order's status, the pickups ready
for collection, and stock on hand per location and SKU as the movements add up.

    python examples/read_model.py --nats nats://127.0.0.1:4222 --stream BACKROOM_EVENTS \
        --subject backroom.events --db read_model.db [--until-idle 5]

At-least-once delivery means an event may arrive twice: each is applied in one SQLite
transaction with its id recorded, and an id seen before is skipped. The durable
consumer (named by --consumer) remembers where this reader got to; the read model
also keeps the last position it applied, so it can be rebuilt from any position.
Needs only nats-py and the standard library."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, number TEXT, location TEXT, status TEXT, promised_by TEXT);
CREATE TABLE IF NOT EXISTS pickups_ready (order_id TEXT PRIMARY KEY, number TEXT, location TEXT, customer TEXT);
CREATE TABLE IF NOT EXISTS stock (location TEXT, sku TEXT, on_hand INTEGER, PRIMARY KEY (location, sku));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
"""

CLOSED = ("handed_over", "shipped", "cancelled", "expired", "refused")


def apply(db: sqlite3.Connection, event: dict) -> bool:
    """Apply one CloudEvent to the read model; False if it was applied before."""
    with db:
        if db.execute("INSERT OR IGNORE INTO seen (id) VALUES (?)", (event["id"],)).rowcount == 0:
            return False
        kind, data = event["type"], event["data"]
        if kind.startswith("backroom.order.") and "status" in data:
            db.execute("INSERT INTO orders (id, number, location, status, promised_by) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET status = excluded.status, location = excluded.location",
                       (data["order_id"], data["number"], data["location"], data["status"], data["promised_by"]))
            if data["status"] in CLOSED:
                db.execute("DELETE FROM pickups_ready WHERE order_id = ?", (data["order_id"],))
        elif kind == "backroom.pickup.ready":
            db.execute("INSERT OR REPLACE INTO pickups_ready VALUES (?, ?, ?, ?)",
                       (data["order_id"], data["number"], data["location"], data["customer_name"]))
        elif kind == "backroom.stock.changed":
            db.execute("INSERT INTO stock (location, sku, on_hand) VALUES (?, ?, ?) ON CONFLICT (location, sku) "
                       "DO UPDATE SET on_hand = on_hand + excluded.on_hand", (data["location"], data["sku"], data["delta"]))
        db.execute("INSERT OR REPLACE INTO meta VALUES ('position', ?)", (event["position"],))
    return True


async def consume(args: argparse.Namespace) -> int:
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    nc = await nats.connect(args.nats)
    applied = idle = 0
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(f"{args.subject}.>", durable=args.consumer, stream=args.stream)
        while args.until_idle is None or idle < args.until_idle:
            try:
                messages = await sub.fetch(500, timeout=1)
            except (NatsTimeout, asyncio.TimeoutError):
                idle += 1
                continue
            idle = 0
            for msg in messages:
                applied += apply(db, json.loads(msg.data))
                await msg.ack()
    finally:
        await nc.close()
        db.close()
    return applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--stream", default="BACKROOM_EVENTS")
    parser.add_argument("--subject", default="backroom.events", help="the relay's subject prefix")
    parser.add_argument("--consumer", default="read-model", help="durable consumer name")
    parser.add_argument("--db", default="read_model.db")
    parser.add_argument("--until-idle", type=int, default=None, help="stop after this many idle seconds")
    args = parser.parse_args()
    applied = asyncio.run(consume(args))
    print(f"applied {applied} events to {args.db}")


if __name__ == "__main__":
    main()
