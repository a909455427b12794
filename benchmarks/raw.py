"""The limit: what SQLite and PostgreSQL themselves do on this machine with the
same rows, plain executemany in large transactions, no Backroom code in between."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Sequence

import psycopg

from benchmarks.data import LOCATION, Store
from edge_app.local.replica import Replica

__all__ = ["oplog_rows", "sqlite_insert_rate", "pg_insert_rate", "replica_insert_seconds", "commit_latencies", "feed_read_rate"]

_OPLOG_COLS = ("op_id", "device_id", "device_seq", "kind", "payload", "actor", "hlc", "schema_version", "result", "applied_at", "location")
_TXN_ROWS = 10_000


def oplog_rows(ops: Sequence[dict]) -> list[tuple]:
    """The op_log rows the hub writes for these ops (with a typical answer)."""
    result = {"status": "applied", "compensations": [], "change_seq": 1}
    return [(op["op_id"], op["device_id"], op["device_seq"], op["kind"], json.dumps(op["payload"]), op["actor"], op["hlc"],
             op["schema_version"], json.dumps({**result, "op_id": op["op_id"], "device_seq": op["device_seq"]}),
             "2026-11-24T08:00:00+00:00", LOCATION) for op in ops]


def _batches(rows: list[tuple]):
    for i in range(0, len(rows), _TXN_ROWS):
        yield rows[i:i + _TXN_ROWS]


def sqlite_insert_rate(path: str, rows: list[tuple]) -> float:
    """Rows/s into op_log of a migrated hub file, WAL + synchronous=FULL like the hub."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    sql = f"INSERT INTO op_log ({', '.join(_OPLOG_COLS)}) VALUES ({', '.join('?' * len(_OPLOG_COLS))})"
    started = time.perf_counter()
    for batch in _batches(rows):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return len(rows) / seconds


def pg_insert_rate(url: str, rows: list[tuple]) -> float:
    """Rows/s into a table shaped like op_log (its indexes and constraints too),
    psycopg executemany; the table is dropped afterwards."""
    sql = f"INSERT INTO raw_op_log ({', '.join(_OPLOG_COLS)}) VALUES ({', '.join(['%s'] * len(_OPLOG_COLS))})"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw_op_log (LIKE op_log INCLUDING ALL)")
        try:
            started = time.perf_counter()
            for batch in _batches(rows):
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(sql, batch)
            return len(rows) / (time.perf_counter() - started)
        finally:
            conn.execute("DROP TABLE raw_op_log")


def replica_insert_seconds(data_dir: Path, store: Store) -> float:
    """Seconds to insert the scope's rows (what a bootstrap writes) into an empty replica."""
    replica = Replica(data_dir)
    conn = replica.conn
    lines = {}
    for line in store.lines:
        lines.setdefault(line[0], []).append(line)
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO items (sku, name, unit_weight_g) VALUES (?, ?, ?)", store.items)
    conn.executemany("INSERT INTO barcodes (code, sku) VALUES (?, ?)", store.barcodes)
    conn.executemany("INSERT INTO bins (code, seq) VALUES (?, ?)", [(b[1], b[2]) for b in store.bins])
    conn.executemany("INSERT OR REPLACE INTO stock (bin, sku, on_hand) VALUES (?, ?, ?)", store.stock_changes)
    conn.executemany("INSERT INTO orders (id, number, channel, fulfilment, promised_by, customer_name, location, status, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", store.orders)
    conn.executemany("INSERT INTO order_lines (order_id, line_no, sku, qty, pick_bin, qty_picked, qty_short) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", store.lines)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    replica.close()
    return seconds


def commit_latencies(data_dir: Path, count: int) -> list[float]:
    """ms per one-row INSERT + COMMIT in a WAL, synchronous=FULL file: the floor under scan→commit."""
    replica = Replica(data_dir)
    conn = replica.conn
    samples = []
    for n in range(count):
        started = time.perf_counter_ns()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO outbox (device_seq, op_id, kind, payload, actor, hlc, schema_version, created_at) "
                     "VALUES (?, ?, 'pick.confirmed', '{}', 'bench', '0', 2, '')", (n + 1, f"raw-{n}"))
        conn.execute("COMMIT")
        samples.append((time.perf_counter_ns() - started) / 1e6)
    replica.close()
    return samples


def feed_read_rate(path: str, page: int = 1000) -> float:
    """Change rows/s read by the feed's own query, page by page, no HTTP or JSON."""
    conn = sqlite3.connect(path)
    since, total = 0, 0
    started = time.perf_counter()
    while True:
        rows = conn.execute("SELECT seq, entity, key, data FROM changes WHERE seq > ? AND scope IN (?, '*', '') "
                            "ORDER BY seq LIMIT ?", (since, LOCATION, page)).fetchall()
        if not rows:
            break
        total += len(rows)
        since = rows[-1][0]
    seconds = time.perf_counter() - started
    conn.close()
    return total / seconds
