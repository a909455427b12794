"""The benchmark harness runs end to end in its quick mode. It measures only:
no figure is asserted, just that every row of the table is there."""

from __future__ import annotations

import pytest

from benchmarks import run
from benchmarks.hubs import pg_available


@pytest.mark.timeout(180)
def test_quick_benchmark_writes_a_table_with_every_row(tmp_path, capsys):
    out = tmp_path / "benchmarks.md"
    assert run.main(["--quick", "--output", str(out)]) == 0
    table = out.read_text()
    expected = [
        "edge: scan→commit", "edge: bootstrap", "edge: apply a pull", "edge: peak RSS",
        "hub: push ingest, SQLite", "hub: pull served, SQLite",
        "raw: SQLite executemany", "raw: replica executemany", "raw: one-row commit", "Machine: cores",
    ]
    if pg_available():
        expected += ["hub: push ingest, PostgreSQL, 1 worker", "hub: push ingest, PostgreSQL, 2 workers",
                     "hub: pull served, PostgreSQL", "raw: PostgreSQL executemany"]
    missing = [name for name in expected if name not in table]
    assert not missing, f"rows missing from the table: {missing}\n{table}"
