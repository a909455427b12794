"""hub.store.tx: the hub's SQL goes to the driver as written, parameters and all."""

from __future__ import annotations

import pytest

from hub.store.db import Database
from hub.store.tx import FEED, LOG, TABLES, _expand_lists, _to_pyformat


@pytest.mark.parametrize("sql, expected", [
    ("SELECT a FROM t WHERE b = :b", "SELECT a FROM t WHERE b = %(b)s"),
    ("SELECT a::int FROM t", "SELECT a::int FROM t"),
    ("SELECT ':not_a_param' FROM t WHERE c = :c", "SELECT ':not_a_param' FROM t WHERE c = %(c)s"),
    ("SELECT a FROM t WHERE r LIKE 'count%' AND n % 2 = :z", "SELECT a FROM t WHERE r LIKE 'count%%' AND n %% 2 = %(z)s"),
    ("SELECT 'it''s :x' FROM t", "SELECT 'it''s :x' FROM t"),
    ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES (%s, %s)"),
    ("SELECT 'why?' FROM t WHERE a = ?", "SELECT 'why?' FROM t WHERE a = %s"),
])
def test_named_parameters_become_pyformat_and_literal_percents_are_doubled(sql, expected):
    assert _to_pyformat(sql) == expected


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'tx.db'}")
    with database.write() as tx:
        tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        tx.executemany("INSERT INTO t (id, name) VALUES (:id, :name)", [{"id": i, "name": f"n{i}"} for i in range(1, 6)])
    yield database
    database.dispose()


def test_rows_read_by_column_name_index_and_as_dicts(db):
    with db.read() as tx:
        row = tx.execute("SELECT id, name FROM t WHERE id = :i", {"i": 2}).one()
        assert (row.id, row[1], tuple(row)) == (2, "n2", (2, "n2"))
        assert tx.execute("SELECT name FROM t ORDER BY id").scalars().all() == ["n1", "n2", "n3", "n4", "n5"]
        assert tx.execute("SELECT id, name FROM t WHERE id = 3").mappings().first() == {"id": 3, "name": "n3"}
        assert tx.execute("SELECT id FROM t WHERE id = 99").first() is None


def test_a_list_parameter_expands_into_an_in_list(db):
    with db.read() as tx:
        assert tx.execute("SELECT id FROM t WHERE id IN :ids ORDER BY id", {"ids": [4, 1]}).scalars() == [1, 4]
        assert tx.execute("SELECT id FROM t WHERE name IN :n ORDER BY id", {"n": ("n5", "n2", "x")}).scalars() == [2, 5]
        assert tx.execute("SELECT id FROM t WHERE id NOT IN :ids ORDER BY id", {"ids": [1, 2, 3]}).scalars() == [4, 5]
        assert tx.execute("SELECT id FROM t WHERE id IN :ids", {"ids": []}).all() == []
        assert len(tx.execute("SELECT id FROM t WHERE id NOT IN :ids", {"ids": []}).all()) == 5
        # bytes have no JSON form: such a list still goes as one parameter per value
        assert tx.execute("SELECT id FROM t WHERE CAST(name AS BLOB) IN :b", {"b": [b"n3"]}).scalars() == [3]


def test_a_list_on_sqlite_is_one_statement_text_whatever_its_length():
    # SQLite matches each :name against those before it: thousands of them took 4x the look-up itself
    short = _expand_lists("SELECT 1 WHERE x IN :ids", {"ids": ["a"]}, as_array=False)
    long = _expand_lists("SELECT 1 WHERE x IN :ids", {"ids": [str(i) for i in range(3000)]}, as_array=False)
    assert short[0] == long[0] == "SELECT 1 WHERE x IN (SELECT value FROM json_each(:ids))"
    assert long[1]["ids"].startswith('["0", "1",')


def test_rows_of_positional_parameters_are_written_like_named_ones(db):
    with db.write() as tx:
        tx.executemany("INSERT INTO t (id, name) VALUES (?, ?)", [(20, "twenty"), (21, "twenty-one")])
    with db.read() as tx:
        assert tx.execute("SELECT name FROM t WHERE id IN :ids ORDER BY id", {"ids": [20, 21]}).scalars() == ["twenty", "twenty-one"]


def test_one_names_how_many_rows_there_were(db):
    with db.read() as tx, pytest.raises(LookupError, match="expected one row, got 5"):
        tx.execute("SELECT id FROM t").one()


def test_a_write_that_raises_leaves_nothing_behind_staged_writes_included(db):
    def stage(tx):
        tx.staged.setdefault("names", []).append("staged")
        tx.on_flush("names", lambda t: t.execute("INSERT INTO t (id, name) VALUES (10, 'staged')"))

    with pytest.raises(RuntimeError), db.write() as tx:
        tx.execute("UPDATE t SET name = 'changed' WHERE id = 1")
        stage(tx)
        raise RuntimeError("the op failed")
    with db.write() as tx:
        stage(tx)  # flushed before the commit
    with db.read() as tx:
        assert tx.execute("SELECT name FROM t WHERE id = 1").scalar_one() == "n1"
        assert tx.execute("SELECT name FROM t WHERE id = 10").scalar_one() == "staged"


def test_flushes_run_stage_by_stage_tables_then_feed_then_log(db):
    order = []
    with db.write() as tx:
        tx.on_flush("log", lambda t: order.append("log"), stage=LOG)
        tx.on_flush("feed", lambda t: order.append("feed"), stage=FEED)
        tx.on_flush("state", lambda t: order.append("state"))
        tx.flush(through=TABLES)
        assert order == ["state"]
    assert order == ["state", "feed", "log"]
