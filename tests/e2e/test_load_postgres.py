"""Correctness under load: two hub workers on PostgreSQL take concurrent pushes
from many devices, re-sent batches and the same batch twice at once included.
No op is applied twice, every device's ops land in order, the stock invariant
holds, and replaying the log gives the same state (`backroom hub verify`)."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid

import httpx
import psycopg
import pytest

from hub.actions import accept_order
from hub.credentials import create_enrollment_code, enroll_device
from hub.log import run_hub_command
from hub.store.db import Database
from hub.store.migrations import migrate
from sync.kinds import SCHEMA_VERSION
from sync.models import OrderIn
from tests.e2e.procs import Processes, free_port, run_backroom, wait_for_http

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(120)]

PG_ADMIN_URL = os.environ.get("BACKROOM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
LOCATION = "LOAD-1"
DEVICES = 24
SKUS = 12
ORDERS = 72


@pytest.fixture
def pg_url():
    """A database of its own (advisory locks are per database), dropped afterwards."""
    name = f"backroom_load_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.Error as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rpartition("/")[0] + "/" + name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _store_through_the_log(db: Database) -> tuple[list[tuple], list[tuple[str, str]]]:
    """Items, bins, stock and routed orders, every one a logged hub command.
    Returns the order lines (order_id, line_no, sku, qty, bin) and (device id, token) pairs."""
    now = "2026-11-24T08:00:00+00:00"
    with db.write() as conn:
        run_hub_command(conn, "location.added", {"code": LOCATION, "name": "Load store", "kind": "store"})
        for n in range(SKUS):
            run_hub_command(conn, "catalogue.item_upserted", {"sku": f"L-{n}", "name": f"Load item {n}", "barcodes": [f"99{n:011d}"]})
            run_hub_command(conn, "bin.added", {"location": LOCATION, "code": f"B-{n}", "seq": n})
            # Ample stock: over-picks (facts) may take units no reservation held.
            run_hub_command(conn, "stock.received", {"location": LOCATION, "bin": f"B-{n}", "sku": f"L-{n}", "qty": 400})
        rnd = random.Random(11)
        for n in range(ORDERS):
            skus = rnd.sample(range(SKUS), rnd.randint(1, 3))
            order = OrderIn.model_validate({
                "number": f"L{n}", "channel": "web", "fulfilment": "ship", "location": LOCATION,
                "promised_by": "2026-11-25T12:00:00+00:00", "customer_name": f"Customer {n}",
                "lines": [{"sku": f"L-{s}", "qty": rnd.randint(1, 3)} for s in skus],
            })
            accept_order(conn, order, now)
        lines = conn.exec_driver_sql(
            "SELECT order_id, line_no, sku, qty, pick_bin FROM order_lines ORDER BY order_id, line_no").all()
        enrolled = [enroll_device(conn, create_enrollment_code(conn, LOCATION, "picker"), f"d{n}") for n in range(DEVICES)]
    return [tuple(line) for line in lines], [(device.id, token) for device, token in enrolled]


def _ops(device_id: str, lines: list[tuple]) -> list[dict]:
    wall = int(time.time() * 1000)
    return [{"op_id": str(uuid.uuid4()), "device_id": device_id, "device_seq": n, "kind": "pick.confirmed",
             "payload": {"order_id": o, "line_no": ln, "bin": b, "sku": s, "qty": 1}, "actor": f"device:{device_id}",
             "hlc": f"{wall:015d}:{n:06d}:{device_id}", "schema_version": SCHEMA_VERSION}
            for n, (o, ln, s, _q, b) in enumerate(lines, start=1)]


async def _device(client: httpx.AsyncClient, token: str, ops: list[dict], rnd: random.Random, answers: dict) -> None:
    """Push in batches of 1–6; every batch is sent twice (half the time both at once,
    otherwise again later) as a device does when an answer is lost."""
    headers = {"Authorization": f"Bearer {token}"}

    async def send(batch: list[dict]) -> None:
        for _attempt in range(20):
            response = await client.post("/v1/ops", json={"ops": batch}, headers=headers)
            if response.status_code == 200:
                for result in response.json()["results"]:
                    answers.setdefault(result["op_id"], []).append(result)
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"push kept failing: {response.status_code} {response.text}")

    i = 0
    while i < len(ops):
        batch = ops[i:i + rnd.randint(1, 6)]
        if rnd.random() < 0.5:
            await asyncio.gather(send(batch), send(batch))
        else:
            await send(batch)
            await send(batch[: rnd.randint(1, len(batch))])
        i += len(batch)


def test_two_workers_on_postgres_apply_each_concurrent_op_exactly_once(pg_url, tmp_path):
    db = Database(pg_url)
    migrate(db)
    lines, enrolled = _store_through_the_log(db)
    device_ids = [device_id for device_id, _token in enrolled]
    tokens = [token for _device_id, token in enrolled]
    # Every line is picked unit by unit; a third of the lines also by a second
    # device (the same line picked twice: an over-pick, a fact the hub keeps).
    per_device: list[list[tuple]] = [[] for _ in range(DEVICES)]
    for n, line in enumerate(lines):
        for _unit in range(line[3]):
            per_device[n % DEVICES].append(line)
        if n % 3 == 0:
            per_device[(n + 7) % DEVICES].append(line)
    ops = {device_id: _ops(device_id, work) for device_id, work in zip(device_ids, per_device)}
    db.dispose()

    procs = Processes(tmp_path / "logs")
    port = free_port()
    try:
        hub = procs.start("hub", "hub", "serve", "--db", pg_url, "--port", str(port), "--workers", "2")
        wait_for_http(f"http://127.0.0.1:{port}/healthz", hub, timeout=30)
        answers: dict[str, list[dict]] = {}

        async def load() -> None:
            limits = httpx.Limits(max_connections=32)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:
                await asyncio.gather(*(_device(client, token, ops[device_id], random.Random(device_id), answers)
                                       for token, device_id in zip(tokens, device_ids)))

        started = time.monotonic()
        asyncio.run(load())
        assert time.monotonic() - started < 45, "the load took too long"
    finally:
        procs.kill_all()

    all_ops = [op for device_ops in ops.values() for op in device_ops]
    statuses = {op["op_id"]: [a["status"] for a in answers.get(op["op_id"], [])] for op in all_ops}
    assert all(s and s.count("applied") == 1 and set(s) <= {"applied", "duplicate"} for s in statuses.values()), \
        "every op answered applied exactly once, and duplicate on every re-send"

    with psycopg.connect(pg_url) as conn:
        logged = conn.execute("SELECT COUNT(*) FROM op_log WHERE device_id <> 'hub'").fetchone()[0]
        picks = conn.execute("SELECT op_id, COUNT(*) FROM movements WHERE reason = 'pick' GROUP BY op_id").fetchall()
        last = dict(conn.execute("SELECT id, last_seq FROM devices").fetchall())
        broken = conn.execute(
            "SELECT s.sku, s.on_hand, COALESCE(r.qty, 0), COALESCE(a.qty, 0), COALESCE(p.safety_stock, 0) FROM "
            "(SELECT location, sku, SUM(on_hand) AS on_hand FROM stock GROUP BY location, sku) s "
            "LEFT JOIN (SELECT location, sku, SUM(qty) AS qty FROM reservations GROUP BY location, sku) r "
            "ON r.location = s.location AND r.sku = s.sku "
            "LEFT JOIN (SELECT location, sku, SUM(granted - used - released) AS qty FROM allotments GROUP BY location, sku) a "
            "ON a.location = s.location AND a.sku = s.sku "
            "LEFT JOIN stock_policy p ON p.location = s.location AND p.sku = s.sku "
            "WHERE COALESCE(r.qty, 0) + COALESCE(a.qty, 0) > s.on_hand - COALESCE(p.safety_stock, 0)").fetchall()
        qty_picked = conn.execute("SELECT COALESCE(SUM(qty_picked), 0) FROM order_lines").fetchone()[0]
    assert logged == len(all_ops)
    assert len(picks) == len(all_ops) and all(count == 1 for _op, count in picks), "one stock movement per pick op"
    assert last == {device_id: len(ops[device_id]) for device_id in device_ids}
    assert broken == [], "reserved + allotted ≤ on hand − safety for every SKU"
    assert qty_picked == sum(line[3] for line in lines), "over-picks do not overfill lines"
    run_backroom("hub", "verify", "--db", pg_url, timeout=120)  # exits non-zero when the replay differs
