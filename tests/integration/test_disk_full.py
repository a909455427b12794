"""The disk fills on the hub or on a handheld (issue 22): writes fail cleanly with a
sentence, nothing confirmed is lost, and work resumes once space returns.

A full disk is SQLite's real SQLITE_FULL path: `PRAGMA max_page_count` stops the
database growing, and a filler table takes the room it had (as another app's files
would). PostgreSQL refuses writes on a full disk with `disk_full` (SQLSTATE 53100);
that error is raised inside a real push on both backends."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from edge_app.errors import HubUnreachable, StorageFull
from edge_app.local import outbox
from edge_app.local.replica import STORAGE_FULL
from edge_app.sync_loop import SyncLoop
from edge_app.ui.screen import _guarded
from edge_app.workflows.picking import PickSession
from hub.domain import picking
from hub.handlers import HANDLERS, Handler
from hub.log import run_hub_command
from hub.seed import DEMO_LOCATION, ean13
from hub.store.db import is_storage_full
from hub.verify import replay
from tests.integration.conftest import Device, Hub
from tests.integration.test_hub_api import device_client
from tests.integration.test_pick_slice import order_body, post_order
from tests.integration.test_sync_disasters import _log, _order_ids, _pick, _picked, _same_as_hub

pytestmark = pytest.mark.anyio

MANY = 10**9
MILK = ean13("400638133393")  # whole milk (hub.seed)


def _more_milk(hub: Hub) -> None:
    with hub.db.write() as conn:
        bin_code = conn.execute(text("SELECT bin FROM stock WHERE location = :l AND sku = 'MILK-1L'"), {"l": DEMO_LOCATION}).scalar_one()
        run_hub_command(conn, "stock.received", {"location": DEMO_LOCATION, "bin": bin_code, "sku": "MILK-1L", "qty": 500})


def fill_the_disk(conn: sqlite3.Connection) -> None:
    """The database may grow no further, and the room it had is taken."""
    conn.execute("CREATE TABLE IF NOT EXISTS disk_filler (junk BLOB)")
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    for size in (4000, 500, 50, 1):
        try:
            while True:
                conn.execute("INSERT INTO disk_filler VALUES (randomblob(?))", (size,))
        except sqlite3.OperationalError as exc:
            assert exc.sqlite_errorcode == sqlite3.SQLITE_FULL


def free_space(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA max_page_count = {MANY}")
    conn.execute("DROP TABLE disk_filler")


def _outbox(device: Device) -> list[tuple]:
    return [tuple(r) for r in device.replica.query("SELECT device_seq, op_id, kind, payload FROM outbox ORDER BY device_seq")]


async def test_a_pick_on_a_handheld_whose_disk_is_full_tells_the_picker_and_loses_nothing(hub, tmp_path):
    _more_milk(hub)
    order = await post_order(hub, order_body("FULL-1", [("MILK-1L", 300)]))
    single = await post_order(hub, order_body("FULL-2", [("MILK-1L", 1)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    bin_code = device.replica.query_one("SELECT pick_bin FROM order_lines WHERE order_id = ?", (order["id"],))["pick_bin"]
    session = PickSession(device.replica, order["id"], "pat")
    session.scan(f"BIN:{bin_code}")
    fill_the_disk(device.replica.conn)

    # Picking on: each confirmed pick is saved until the replica has no room for the next.
    confirmed, said = _outbox(device), None
    for _ in range(300):
        session.scan(MILK)
        said = _guarded(lambda: session.confirm(1))
        if said is not None and not said.ok:
            break
        assert len(_outbox(device)) == len(confirmed) + 1
        confirmed = _outbox(device)
    assert said is not None and not said.ok and said.message == STORAGE_FULL
    assert _outbox(device) == confirmed  # the refused pick left nothing; every saved one is there
    # A scan that completes a line is not counted either: scanning the unit again records it.
    other = PickSession(device.replica, single["id"], "pat")
    other.scan(f"BIN:{bin_code}")
    said = _guarded(lambda: other.scan(MILK))
    assert said is not None and said.message == STORAGE_FULL and other.scanned_units == 0 and other.step == "item"
    with pytest.raises(StorageFull):  # the sync round's own writes meet the same sentence
        await device.sync()
    background = SyncLoop(device.agent)
    await background.round()  # the app's sync loop says so and goes on, backing off
    assert background.status.last_error == STORAGE_FULL and background.status.rounds == 1
    assert [r[:3] for r in _outbox(device)] == [r[:3] for r in confirmed]

    free_space(device.replica.conn)
    assert session.confirm(1).ok  # the unit in hand, confirmed again once there is room
    assert other.scan(MILK).ok and other.current is None
    await device.sync()
    report = await device.sync()  # the round the full disk cut short had answers it could not record

    assert report.outbox_depth == 0 and not report.rejected
    assert all(n == 1 for n in _picked(hub).values()) and len(_picked(hub)) == len(confirmed) + 2
    _same_as_hub(hub, device)


def _hub_write_conn(hub: Hub) -> sqlite3.Connection:
    """The hub's one write connection (hub.store.db), where a full disk would be met."""
    raw = hub.db._write_engine.raw_connection()
    conn = raw.driver_connection
    raw.close()  # back to its pool of one: the hub's writes use this very connection
    assert isinstance(conn, sqlite3.Connection)
    return conn


async def test_a_push_to_a_hub_whose_disk_is_full_is_answered_503_writes_nothing_and_goes_through_later(hub, tmp_path, hub_db_url):
    if not hub_db_url.startswith("sqlite"):
        pytest.skip("SQLite's page limit; PostgreSQL's disk_full is the next test")
    device = await hub.device(tmp_path / "d")
    await device.sync()
    orders = _order_ids(device)
    for _round in range(10):
        for order_id in orders:
            _pick(device, order_id)
    held = _outbox(device)
    device_id = device.replica.get_meta("device_id")
    conn = _hub_write_conn(hub)
    fill_the_disk(conn)

    with pytest.raises(HubUnreachable, match="503: the hub's database disk is full"):
        await device.sync()
    assert _log(hub, device_id) == {} and _picked(hub) == {}  # nothing applied half-way
    assert _outbox(device) == held and outbox.depth(device.replica.conn) == len(held)
    pending = [op.model_dump(mode="json", exclude_none=True) for op in outbox.pending_ops(device.replica.conn, 500)]
    async with device_client(hub, device) as client:  # the answer a device acts on: a reason, sent again later
        answer = await client.post("/v1/ops", json={"ops": pending})
    assert answer.status_code == 503 and answer.json()["reason"] == "hub_storage_full"
    assert _log(hub, device_id) == {}

    free_space(conn)
    report = await device.sync()

    assert report.applied == len(held) and report.outbox_depth == 0
    assert sorted(_log(hub, device_id)) == list(range(1, len(held) + 1))
    assert all(n == 1 for n in _picked(hub).values())
    _same_as_hub(hub, device)
    assert replay(hub.db).same


async def test_a_database_refusing_writes_for_a_full_disk_answers_the_push_503_and_the_device_sends_it_again(hub, tmp_path, monkeypatch):
    """PostgreSQL out of disk answers `disk_full`; SQLAlchemy raises it as an OperationalError.
    Raised inside the push's transaction, after the op's first writes, on both backends."""
    device = await hub.device(tmp_path / "d")
    await device.sync()
    orders = _order_ids(device)
    _pick(device, orders[0])
    _pick(device, orders[1])
    device_id = device.replica.get_meta("device_id")

    def disk_full_after_writing(tx, ctx, op, payload):
        picking.pick_confirmed(tx, ctx, op, payload)
        raise OperationalError("INSERT INTO movements …", {}, psycopg.errors.DiskFull("could not extend file: No space left on device"))

    monkeypatch.setitem(HANDLERS, "pick.confirmed", Handler(disk_full_after_writing, held=True, prefetch=picking.hold_picked_orders))
    with pytest.raises(HubUnreachable, match="503"):
        await device.sync()
    assert _log(hub, device_id) == {} and _picked(hub) == {}

    monkeypatch.undo()
    report = await device.sync()
    assert report.applied == 2 and report.outbox_depth == 0
    assert len(_picked(hub)) == 2 and all(n == 1 for n in _picked(hub).values())
    assert replay(hub.db).same


def test_only_a_full_disk_is_taken_for_one():
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    assert is_storage_full(OperationalError("INSERT", {}, full))
    assert is_storage_full(OperationalError("INSERT", {}, psycopg.errors.DiskFull("no space")))
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    assert not is_storage_full(OperationalError("INSERT", {}, locked))
    assert not is_storage_full(ValueError("disk is full"))


async def test_the_writer_process_answers_a_full_disk_as_the_hub_does(monkeypatch):
    """Under `hub serve` pushes are applied in a writer process (hub.api.writer): a full disk
    there comes back to the HTTP worker as the 503 the in-process hub answers, not a 500."""
    from hub.api import writer
    from hub.errors import StorageFull as HubStorageFull
    from hub.store.db import STORAGE_FULL as HUB_FULL

    async def disk_full(*_args):
        raise HubStorageFull(HUB_FULL)

    class Socket:
        frames: list[bytes] = []

        def is_closing(self) -> bool:
            return False

        def write(self, frame: bytes) -> None:
            self.frames.append(frame)

    monkeypatch.setattr(writer, "push", disk_full)
    await writer._answer(None, {"id": 7, "device": ["d-1", "scanner", DEMO_LOCATION, "picker"]}, b'{"ops": []}', Socket())
    head_len, body_len = writer._LENGTHS.unpack(Socket.frames[0][:writer._LENGTHS.size])
    header = json.loads(Socket.frames[0][writer._LENGTHS.size:writer._LENGTHS.size + head_len])
    assert header == {"id": 7, "status": 503}
    assert Socket.frames[0][-body_len:].decode() == HUB_FULL
