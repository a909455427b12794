"""Disasters a retailer meets once a year (issue 22): the hub restored from last
night's backup after devices had dropped what it acknowledged since, and a handheld
whose replica was reset or restored. Nothing lost, nothing applied twice, the log
replays to the same state, and each device ends equal to the hub for its scope."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from edge_app.agent import SyncAgent, hub_client
from edge_app.local import outbox, recovery
from edge_app.local.replica import Replica
from hub.store.db import Database
from hub.verify import replay
from tests.conftest import _PG_COPIES, PG_ADMIN_URL
from tests.integration.conftest import Device, Hub

pytestmark = pytest.mark.anyio


def _pick(device: Device, order_id: str, line_no: int = 1, qty: int = 1) -> int:
    """Record one pick on the device, as the picking workflow would; returns its number."""
    line = device.replica.query_one("SELECT sku, pick_bin FROM order_lines WHERE order_id = ? AND line_no = ?",
                                    (order_id, line_no))
    payload = {"order_id": order_id, "line_no": line_no, "bin": line["pick_bin"], "sku": line["sku"], "qty": qty}
    with device.replica.transaction() as conn:
        op = outbox.record_op(conn, "pick.confirmed", payload, "pat",
                              outbox.PendingEffect(lines=((order_id, line_no, qty, 0),), stock=((line["pick_bin"], line["sku"], -qty),)))
    return op.device_seq


def _order_ids(device: Device) -> list[str]:
    return [r["id"] for r in device.replica.query("SELECT id FROM orders ORDER BY number")]


def _log(hub: Hub, device_id: str) -> dict[int, str]:
    with hub.db.read() as conn:
        return dict(conn.execute(text("SELECT device_seq, op_id FROM op_log WHERE device_id = :d ORDER BY device_seq"),
                                 {"d": device_id}).all())


def _picked(hub: Hub) -> dict[str, int]:
    with hub.db.read() as conn:
        rows = conn.execute(text("SELECT op_id, COUNT(*) FROM movements WHERE reason = 'pick' GROUP BY op_id")).all()
    return dict(rows)


def _same_as_hub(hub: Hub, device: Device) -> None:
    with hub.db.read() as conn:
        lines = {(r[0], r[1]): r[2] for r in conn.execute(text(
            "SELECT l.order_id, l.line_no, l.qty_picked FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE o.location = 'DEMO-1'")).all()}
        stock = {(r[0], r[1]): r[2] for r in conn.execute(text(
            "SELECT bin, sku, on_hand FROM stock WHERE location = 'DEMO-1'")).all()}
    assert {(r["order_id"], r["line_no"]): r["qty_picked"]
            for r in device.replica.query("SELECT order_id, line_no, qty_picked FROM order_lines_now")} == lines
    assert {(r["bin"], r["sku"]): r["on_hand"] for r in device.replica.query("SELECT bin, sku, on_hand FROM stock_now")} == stock


class Backups:
    """Last night's backup of the hub database, and putting it back: a copy of the SQLite
    file (as `sqlite3 .backup` takes it), or on PostgreSQL a database created from the
    live one as a template (a file-level copy; it needs the live one without connections,
    as `pg_basebackup` does not, so the hub is stopped for it and started again)."""

    def __init__(self, url: str):
        self.url = url
        self.file = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None
        self.name = url.rsplit("/", 1)[1]
        if self.file is None and "?" in self.name:
            pytest.skip("the PostgreSQL template database is not available (a schema per test)")

    def take(self, hub: Hub, to: Path) -> Hub:
        """Back the hub up into `to` (SQLite) or a database of its own; returns the hub running."""
        if self.file is not None:
            source, target = sqlite3.connect(self.file), sqlite3.connect(to)
            source.backup(target)
            source.close()
            target.close()
            return hub
        hub.db.dispose()
        self._admin(f"DROP DATABASE IF EXISTS {self._copy(to)}", f"CREATE DATABASE {self._copy(to)} TEMPLATE {self.name}")
        _PG_COPIES.append(self._copy(to))  # dropped at the session's end
        return Hub(Database(self.url))

    def restore(self, hub: Hub, backup: Path) -> Hub:
        """Stop the hub, put last night's copy back, start a hub on it."""
        hub.db.dispose()
        if self.file is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.file}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(backup, self.file)
        else:
            self._admin(f"DROP DATABASE {self.name} WITH (FORCE)", f"CREATE DATABASE {self.name} TEMPLATE {self._copy(backup)}")
        return Hub(Database(self.url))

    def _copy(self, backup: Path) -> str:
        return f"{self.name}_{backup.stem.replace('-', '_')}"

    @staticmethod
    def _admin(*statements: str) -> None:
        engine = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
        engine.dispose()


def _reconnect(device: Device, hub: Hub) -> None:
    device.agent = SyncAgent(device.replica, hub_client(device.replica, transport=hub.transport))


async def test_a_hub_restored_from_a_backup_gets_back_every_op_devices_had_dropped_each_once(hub, tmp_path, hub_db_url):
    backups = Backups(hub_db_url)
    picker, other = await hub.device(tmp_path / "p"), await hub.device(tmp_path / "o")
    await picker.sync()
    await other.sync()
    orders = _order_ids(picker)
    for order_id in orders[:2]:
        _pick(picker, order_id)
    await picker.sync()
    hub = backups.take(hub, tmp_path / "last-night.db")  # the backup: the picker's ops #1 and #2 are in it
    _reconnect(picker, hub)
    _reconnect(other, hub)

    for order_id in orders[:3]:  # #3..#5 acknowledged after the backup
        _pick(picker, order_id)
    _pick(other, orders[3])
    await picker.sync()
    await other.sync()
    picker_id, other_id = picker.replica.get_meta("device_id"), other.replica.get_meta("device_id")
    acknowledged = {**_log(hub, picker_id)}
    assert sorted(acknowledged) == [1, 2, 3, 4, 5]

    hub = backups.restore(hub, tmp_path / "last-night.db")
    assert sorted(_log(hub, picker_id)) == [1, 2] and _log(hub, other_id) == {}
    _reconnect(picker, hub)
    _reconnect(other, hub)
    _pick(picker, orders[3])  # #6, recorded while nobody knew

    report = await picker.sync()
    other_report = await other.sync()

    assert report.out_of_step[0] == "hub_behind_device" and report.resent == 3
    assert other_report.out_of_step[0] == "hub_behind_device" and other_report.resent == 1
    assert _log(hub, picker_id) == {**acknowledged, 6: _log(hub, picker_id)[6]}  # the same ops, in their order
    assert all(n == 1 for n in _picked(hub).values()) and len(_picked(hub)) == 7
    with picker.replica.transaction() as conn:
        told = recovery.resent(conn)
    assert sorted(r["device_seq"] for r in told) == [3, 4, 5] and all(r["state"] == "applied" for r in told)
    with hub.db.read() as conn:  # the operators are told which ops came again
        asked = conn.execute(text("SELECT actor, target FROM audit WHERE action = 'sync.hub_behind_device' ORDER BY id")).all()
    assert [tuple(a) for a in asked] == [(f"device:{picker_id}", "ops #3..#5"), (f"device:{other_id}", "ops #1..#1")]
    for device in (picker, other):
        await device.sync()
        _same_as_hub(hub, device)
    assert replay(hub.db).same
    hub.db.dispose()


async def test_a_handheld_whose_replica_was_reset_keeps_its_unsent_work_numbered_after_the_hubs_last(hub, tmp_path):
    device = await hub.device(tmp_path / "d")
    await device.sync()
    orders = _order_ids(device)
    for order_id in orders[:3]:
        _pick(device, order_id)
    await device.sync()
    device_id = device.replica.get_meta("device_id")
    # The app is reinstalled: a fresh replica with the same identity (restored from the enrolment backup).
    identity = {k: device.replica.get_meta(k) for k in ("device_id", "token", "hub_url", "location", "role", "name")}
    device.replica.close()
    fresh = Replica(tmp_path / "reinstalled")
    for key, value in identity.items():
        if value is not None:
            fresh.set_meta(key, value)
    fresh.set_meta("next_seq", "1")
    reset = Device(fresh, SyncAgent(fresh, hub_client(fresh, transport=hub.transport)))
    await reset.sync()  # its first pull: the hub holds #1..#3 this replica never numbered
    assert reset.replica.get_meta("next_seq") == "4"
    _pick(reset, orders[3])

    report = await reset.sync()

    assert report.applied == 1 and not report.rejected
    assert sorted(_log(hub, device_id)) == [1, 2, 3, 4]
    _same_as_hub(hub, reset)
    assert replay(hub.db).same


async def test_a_handheld_restored_from_an_old_copy_sends_its_new_work_after_the_hubs_last_not_over_it(hub, tmp_path):
    device = await hub.device(tmp_path / "d")
    await device.sync()
    orders = _order_ids(device)
    _pick(device, orders[0])
    await device.sync()
    device.replica.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(tmp_path / "d", tmp_path / "copy")
    for order_id in orders[1:3]:  # #2, #3 reach the hub; then the handheld is restored from the copy
        _pick(device, order_id)
    await device.sync()
    device.replica.close()
    restored = Replica(tmp_path / "copy")
    again = Device(restored, SyncAgent(restored, hub_client(restored, transport=hub.transport)))
    for order_id in orders[:3]:  # offline work on the restored copy, numbered #2..#4 again
        _pick(again, order_id)

    report = await again.sync()

    device_id = restored.get_meta("device_id")
    assert "device_behind_hub" in report.out_of_step and not report.rejected
    assert sorted(_log(hub, device_id)) == [1, 2, 3, 4, 5, 6]
    assert all(n == 1 for n in _picked(hub).values()) and len(_picked(hub)) == 6
    _same_as_hub(hub, again)
    assert replay(hub.db).same


async def test_a_device_that_only_pulls_sees_a_restored_hub_by_its_cursors_fingerprint(hub, tmp_path, hub_db_url):
    from tests.integration.test_pick_slice import order_body, post_order

    backups = Backups(hub_db_url)
    watcher = await hub.device(tmp_path / "w")
    await watcher.sync()
    hub = backups.take(hub, tmp_path / "last-night.db")
    _reconnect(watcher, hub)
    lost = await post_order(hub, order_body("LOST-1", [("MILK-1L", 1)]))
    await watcher.sync()  # its cursor is past the backup now
    assert lost["id"] in _order_ids(watcher)

    hub = backups.restore(hub, tmp_path / "last-night.db")
    _reconnect(watcher, hub)
    for i in range(3):  # the restored hub's feed passes the watcher's cursor with other changes
        await post_order(hub, order_body(f"NEW-{i}", [("OATS-500", 1)]))

    report = await watcher.sync()

    assert report.out_of_step == ["cursor_unknown"]
    with hub.db.read() as conn:
        hub_orders = {r[0] for r in conn.execute(text("SELECT id FROM orders WHERE location = 'DEMO-1'")).all()}
    assert set(_order_ids(watcher)) == hub_orders and lost["id"] not in hub_orders
    _same_as_hub(hub, watcher)
    hub.db.dispose()
