"""The benchmark harness runs end to end in its quick mode. It measures only:
no figure is asserted, just that every row of the table is there."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.hubs import Backend, pg_available
from hub.store.db import Database


@pytest.mark.timeout(600)  # three hubs start in it; slow on a busy machine
def test_quick_benchmark_writes_a_table_with_every_row(tmp_path, capsys):
    out = tmp_path / "benchmarks.md"
    assert run.main(["--quick", "--output", str(out)]) == 0
    table = out.read_text()
    expected = [
        "edge: scan→commit", "edge: bootstrap", "edge: apply a pull", "edge: peak RSS",
        "hub: push ingest, SQLite", "hub: pull served, SQLite",
        "raw: SQLite executemany", "raw: replica executemany", "raw: one-row commit", "Machine: cores",
        "routing: decision, SQLite", "routing: rebroker pass over", "hub: what-if replay of a week's log",
    ]
    if pg_available():
        expected += ["hub: push ingest, PostgreSQL, 1 worker", "hub: push ingest, PostgreSQL, 2 workers",
                     "hub: pull served, PostgreSQL", "raw: PostgreSQL executemany", "routing: decision, PostgreSQL"]
    missing = [name for name in expected if name not in table]
    assert not missing, f"rows missing from the table: {missing}\n{table}"


def test_a_copy_under_a_used_label_is_not_given_the_old_copys_wal(tmp_path):
    # A hub that ran on a copy can leave its -wal beside it; SQLite would replay it
    # onto the next copy under that name and find a malformed database.
    backend = Backend("sqlite", tmp_path)
    backend.open_base().dispose()
    first = backend.copy("same")[len("sqlite:///"):]
    db = Database(f"sqlite:///{first}")
    with db.write() as tx:
        tx.execute("INSERT INTO locations (code, name, kind) VALUES ('X1', 'left behind', 'store')")
    (tmp_path / "stale-wal").write_bytes(Path(first + "-wal").read_bytes())  # as a killed hub leaves it
    db.dispose()
    Path(first + "-wal").write_bytes((tmp_path / "stale-wal").read_bytes())
    again = backend.copy("same")[len("sqlite:///"):]
    assert not Path(again + "-wal").exists()
    conn = sqlite3.connect(again)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT COUNT(*) FROM locations WHERE code = 'X1'").fetchone() == (0,)
    conn.close()
