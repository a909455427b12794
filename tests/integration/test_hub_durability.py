"""The hub answers `applied` only for what survives a power cut."""

from __future__ import annotations

from hub.store.db import Database

SQLITE_SYNCHRONOUS_FULL = 2


def test_hub_sqlite_syncs_every_commit_to_disk_before_answering(sqlite_hub_url):
    db = Database(sqlite_hub_url)
    try:
        with db.write() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == SQLITE_SYNCHRONOUS_FULL
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == SQLITE_SYNCHRONOUS_FULL
    finally:
        db.dispose()
