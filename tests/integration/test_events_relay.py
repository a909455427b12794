"""The relay against the real NATS JetStream server (127.0.0.1:4222): run as a process
of its own, killed with SIGKILL mid-stream while the hub keeps writing, started again:
every event arrives, under its own id, and the server de-duplicates what is sent twice.
Each test run uses a stream and subjects of its own."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from hub.events.stream import cursor, head, page
from hub.log import run_hub_command
from hub.seed import DEMO_LOCATION, seed_demo
from hub.store.db import Database
from hub.store.migrations import migrate

pytestmark = pytest.mark.anyio

NATS_URL = os.environ.get("BACKROOM_TEST_NATS", "nats://127.0.0.1:4222")
ROOT = Path(__file__).resolve().parents[2]


def receive(db: Database, n: int) -> None:
    """`n` stock receipts, one hub command (and one event) each, twenty to a transaction."""
    for start in range(0, n, 20):
        with db.write() as conn:
            for _ in range(min(20, n - start)):
                run_hub_command(conn, "stock.received", {"location": DEMO_LOCATION, "bin": "A-01-1", "sku": "MILK-1L",
                                                         "qty": 1})


def start_relay(db_url: str, stream: str, subject: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "backroom_cli", "hub", "relay", "--db", db_url, "--nats", NATS_URL, "--stream", stream,
         "--subject", subject, "--batch", "40", "--no-webhooks", "--risk-every", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def relay_cursor(db: Database, stream: str) -> int:
    with db.read() as conn:
        return cursor(conn, f"jetstream:{stream}")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


async def stream_messages(stream: str, subject: str, expected: int) -> list[tuple[str, dict]]:
    """Every message in the stream: (its Nats-Msg-Id, its CloudEvent)."""
    import json

    import nats

    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        sub = await js.subscribe(f"{subject}.>", stream=stream, ordered_consumer=True)
        got = []
        for _ in range(info.state.messages):
            msg = await sub.next_msg(timeout=10)
            got.append((msg.headers["Nats-Msg-Id"], json.loads(msg.data)))
        await sub.unsubscribe()
        assert info.state.messages >= expected
        return got
    finally:
        await nc.close()


async def delete_stream(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


@pytest.fixture
def relay_db(hub_db_url):
    db = Database(hub_db_url)
    migrate(db)
    seed_demo(db)
    yield hub_db_url, db
    db.dispose()


async def test_a_relay_killed_mid_stream_loses_nothing_and_publishes_every_event_under_its_id(relay_db):
    db_url, db = relay_db
    run = uuid.uuid4().hex[:10]
    stream, subject = f"BRTEST_{run}", f"brtest.{run}"
    receive(db, 300)
    relay = start_relay(db_url, stream, subject)
    writing = threading.Event()
    writer = threading.Thread(target=lambda: [receive(db, 20) for _ in iter(writing.is_set, True)])
    try:
        # Killed once it has published some pages, while the hub is still writing events
        # (on a quiet machine the relay outruns a fixed backlog before the kill lands).
        writing.clear()
        writer.start()
        wait_for(lambda: relay_cursor(db, stream) > 0 or relay.poll() is not None, 60, "the relay's first page")
        assert relay.poll() is None, relay.stderr.read().decode() if relay.stderr else ""
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
        killed_at = relay_cursor(db, stream)
        time.sleep(0.2)
        writing.set()
        writer.join(30)
        with db.read() as conn:
            total = head(conn)
        assert 0 < killed_at < total, "the kill should land mid-stream"
        receive(db, 100)  # the hub goes on while the relay is down
        relay = start_relay(db_url, stream, subject)
        with db.read() as conn:
            total = head(conn)
        wait_for(lambda: relay_cursor(db, stream) >= total, 120, "the restarted relay to catch up")
        with db.read() as conn:
            ids = [e.id for e in page(conn, 0, 1_000_000)]
        messages = await stream_messages(stream, subject, len(ids))
        received = [msg_id for msg_id, _event in messages]
        assert set(received) == set(ids)  # nothing lost
        assert len(received) == len(ids)  # pages sent again were de-duplicated by the server
        assert all(event["id"] == msg_id and event["specversion"] == "1.0" for msg_id, event in messages)
        assert [e["position"] for _i, e in messages] == sorted(e["position"] for _i, e in messages)
    finally:
        writing.set()
        if relay.poll() is None:
            relay.send_signal(signal.SIGTERM)
            relay.wait(10)
        await delete_stream(stream)


async def test_a_page_published_twice_is_stored_once(relay_db):
    """At-least-once from the relay's side: a cursor that did not move sends the page again
    under the same ids, and JetStream keeps one copy."""
    from hub.events.relay import JetStreamPublisher, RelayConfig
    from hub.events.stream import set_cursor

    _url, db = relay_db
    run = uuid.uuid4().hex[:10]
    config = RelayConfig(nats_url=NATS_URL, stream=f"BRTEST_{run}", subject=f"brtest.{run}", batch=10_000)
    publisher = JetStreamPublisher(db, config)
    await publisher.connect()
    try:
        first = await publisher.publish_page()
        with db.write() as conn:
            set_cursor(conn, publisher.cursor_name, 0)  # as if killed before the cursor was saved
        again = await publisher.publish_page()
        assert first == again > 0
        assert publisher.duplicates == first
        messages = await stream_messages(config.stream, config.subject, first)
        assert len(messages) == first
    finally:
        await publisher.close()
        await delete_stream(config.stream)


def test_subjects_are_the_prefix_and_the_type_without_its_namespace():
    from hub.events.relay import subject_of

    assert subject_of("backroom.events", "backroom.order.picked") == "backroom.events.order.picked"


async def test_the_relay_runs_inside_an_asyncio_loop_until_stopped(relay_db):
    from hub.events.relay import RelayConfig, run_relay

    _url, db = relay_db
    run = uuid.uuid4().hex[:10]
    config = RelayConfig(nats_url=NATS_URL, stream=f"BRTEST_{run}", subject=f"brtest.{run}", webhooks=False, risk_every_s=0)
    stop = asyncio.Event()
    task = asyncio.ensure_future(run_relay(db, config, stop))
    try:
        with db.read() as conn:
            total = head(conn)
        for _ in range(500):
            if relay_cursor(db, config.stream) >= total:
                break
            await asyncio.sleep(0.02)
        assert relay_cursor(db, config.stream) == total
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await delete_stream(config.stream)


async def test_the_example_consumer_keeps_a_read_model_from_the_stream(relay_db, tmp_path):
    """examples/read_model.py, run as documented against what the relay published."""
    import sqlite3

    from hub.events.relay import JetStreamPublisher, RelayConfig

    _url, db = relay_db
    run = uuid.uuid4().hex[:10]
    config = RelayConfig(nats_url=NATS_URL, stream=f"BRTEST_{run}", subject=f"brtest.{run}", batch=10_000)
    publisher = JetStreamPublisher(db, config)
    await publisher.connect()
    try:
        assert await publisher.publish_page() > 0
        model = tmp_path / "model.db"
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "read_model.py"), "--nats", NATS_URL, "--stream", config.stream,
             "--subject", config.subject, "--db", str(model), "--until-idle", "2"],
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        read = sqlite3.connect(model)
        with db.read() as conn:
            hub_orders = dict(conn.execute("SELECT id, status FROM orders").tuples())
            hub_stock = {(loc, sku): int(n) for loc, sku, n in conn.execute(
                "SELECT location, sku, SUM(on_hand) FROM stock GROUP BY location, sku").tuples()}
        assert dict(read.execute("SELECT id, status FROM orders")) == hub_orders
        assert {(loc, sku): n for loc, sku, n in read.execute("SELECT location, sku, on_hand FROM stock")} == hub_stock
        read.close()
    finally:
        await publisher.close()
        await delete_stream(config.stream)


async def test_a_relay_whose_server_is_away_keeps_trying_and_stops_when_told(relay_db):
    from hub.events.relay import RelayConfig, run_relay

    _url, db = relay_db
    config = RelayConfig(nats_url="nats://127.0.0.1:1", webhooks=False, risk_every_s=0)  # nothing listens there
    stop = asyncio.Event()
    task = asyncio.ensure_future(run_relay(db, config, stop))
    await asyncio.sleep(1)
    assert not task.done()  # still trying, not crashed
    stop.set()
    await asyncio.wait_for(task, 10)
    assert relay_cursor(db, config.stream) == 0
