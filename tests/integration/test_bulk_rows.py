"""Tx.executemany with `?` rows: on PostgreSQL the shapes hub.store.bulk knows go as
one statement (COPY, or unnest'ed arrays); the rows written must be exactly
what executemany would write, odd characters and all."""

from __future__ import annotations

import pytest

from hub.store.bulk import write_rows
from hub.store.db import Database

ODD = "tab\there, new\nline, back\\slash, 'quote', \"dq\", 100% ✓"


@pytest.fixture
def db(hub_db_url):
    database = Database(hub_db_url)
    with database.write() as tx:
        tx.execute("CREATE TABLE shelf (loc VARCHAR(64) NOT NULL, code VARCHAR(64) NOT NULL, qty INTEGER NOT NULL, "
                   "note TEXT, PRIMARY KEY (loc, code))")
    yield database
    database.dispose()


def _rows(db):
    with db.read() as tx:
        return [tuple(r) for r in tx.execute("SELECT loc, code, qty, note FROM shelf ORDER BY loc, code").all()]


def test_inserted_rows_arrive_whole_with_odd_characters_and_nulls(db):
    rows = [("S1", f"B-{n}", n, ODD if n % 2 else None) for n in range(50)]
    with db.write() as tx:
        tx.executemany("INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?)", rows)
    assert _rows(db) == sorted(rows)


def test_an_upsert_adds_to_existing_rows_and_inserts_new_ones(db):
    with db.write() as tx:
        tx.executemany("INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?)", [("S1", "A", 5, None)])
        tx.executemany(
            "INSERT INTO shelf (loc, code, qty) VALUES (?, ?, ?) "
            "ON CONFLICT (loc, code) DO UPDATE SET qty = shelf.qty + excluded.qty",
            [("S1", "A", -2), ("S1", "B", 7)],
        )
    assert _rows(db) == [("S1", "A", 3, None), ("S1", "B", 7, None)]


def test_updates_and_deletes_by_a_two_column_key(db):
    with db.write() as tx:
        tx.executemany("INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?)",
                       [("S1", "A", 1, None), ("S1", "B", 2, None), ("S2", "A", 3, None)])
        tx.executemany("UPDATE shelf SET qty = ?, note = ? WHERE loc = ? AND code = ?", [(10, ODD, "S1", "A"), (30, None, "S2", "A")])
        tx.executemany("DELETE FROM shelf WHERE loc = ? AND code = ?", [("S1", "B")])
    assert _rows(db) == [("S1", "A", 10, ODD), ("S2", "A", 30, None)]


def test_text_that_array_literals_treat_specially_arrives_as_written(db):
    # The unnest'ed statements send text columns as array literals: quoting must keep
    # these as the strings they are (not NULL, not split, not trimmed).
    notes = ["NULL", "null", "", "  spaced  ", "{a,b}", "a,b", '"', "\\", '\\"', "x\\", ODD, None]
    rows = [("S1", f"K-{n:02d}", n, None) for n in range(len(notes))]
    with db.write() as tx:
        tx.executemany("INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?)", rows)
        tx.executemany("UPDATE shelf SET note = ?, qty = ? WHERE loc = ? AND code = ?",
                       [(note, -n, "S1", f"K-{n:02d}") for n, note in enumerate(notes)])
        returned = tx.executemany_returning(
            "INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (loc, code) DO UPDATE SET note = excluded.note RETURNING code, note",
            [("S2", f"K-{n:02d}", n, note) for n, note in enumerate(notes)])
    assert _rows(db) == sorted([("S1", f"K-{n:02d}", -n, note) for n, note in enumerate(notes)]
                               + [("S2", f"K-{n:02d}", n, note) for n, note in enumerate(notes)])
    assert sorted(tuple(r) for r in returned) == [(f"K-{n:02d}", note) for n, note in enumerate(notes)]


def test_a_batch_naming_one_key_twice_is_applied_row_by_row(db):
    with db.write() as tx:
        tx.executemany("INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?)", [("S1", "A", 1, None)])
        tx.executemany("UPDATE shelf SET qty = ? WHERE loc = ? AND code = ?", [(5, "S1", "A"), (6, "S1", "A")])
    assert _rows(db) == [("S1", "A", 6, None)]  # the last one, as executemany leaves it


@pytest.mark.parametrize("sql, rows", [
    ("UPDATE shelf SET qty = qty + ? WHERE loc = ?", [(1, "S1")]),  # not `col = ?`: not a known shape
    ("UPDATE shelf SET qty = ? WHERE loc = ?", [(1, "S1"), (2, "S1")]),  # the same key twice
    ("INSERT INTO shelf (loc, code, qty) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [("S1", "A", 1)]),  # no conflict key
])
def test_statements_of_other_shapes_are_left_to_executemany(db, sql, rows):
    if db.is_sqlite:
        pytest.skip("hub.store.bulk is PostgreSQL's")
    with db.write() as tx:
        assert write_rows(tx._cursor, sql, rows) is False


@pytest.mark.parametrize("sql, rows", [
    ("INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?)", [("S9", "A", 1, None)]),
    ("INSERT INTO shelf (loc, code, qty) VALUES (?, ?, ?) ON CONFLICT (loc, code) DO UPDATE SET qty = excluded.qty", [("S9", "B", 1)]),
    ("UPDATE shelf SET qty = ? WHERE loc = ? AND code = ?", [(2, "S9", "A")]),
    ("DELETE FROM shelf WHERE loc = ? AND code = ?", [("S9", "A")]),
])
def test_known_shapes_go_as_one_statement_on_postgres(db, sql, rows):
    if db.is_sqlite:
        pytest.skip("hub.store.bulk is PostgreSQL's")
    with db.write() as tx:
        assert write_rows(tx._cursor, sql, rows) is True


def test_an_upsert_returns_every_row_as_it_left_it(db):
    sql = ("INSERT INTO shelf (loc, code, qty) VALUES (?, ?, ?) "
           "ON CONFLICT (loc, code) DO UPDATE SET qty = shelf.qty + excluded.qty RETURNING loc, code, qty")
    with db.write() as tx:
        tx.executemany("INSERT INTO shelf (loc, code, qty, note) VALUES (?, ?, ?, ?)", [("S1", "A", 5, None)])
        many = tx.executemany_returning(sql, [("S1", "A", -2)] + [("S1", f"N-{n:03d}", n) for n in range(300)])
        repeated = tx.executemany_returning(sql, [("S1", "A", 1), ("S1", "A", 1)])  # the same key twice: row by row
    assert sorted(tuple(r) for r in many) == sorted([("S1", "A", 3)] + [("S1", f"N-{n:03d}", n) for n in range(300)])
    assert [tuple(r) for r in repeated] == [("S1", "A", 4), ("S1", "A", 5)]
    assert _rows(db)[0] == ("S1", "A", 5, None)
