"""hub.group_commit: pushes waiting for the writer share one transaction; one
that fails is rolled back alone."""

from __future__ import annotations

import threading

import pytest

from hub.db import Database


@pytest.fixture
def db(hub_db_url):
    database = Database(hub_db_url)
    with database.write() as tx:
        tx.execute("CREATE TABLE scans (id INTEGER PRIMARY KEY, code TEXT NOT NULL)")
    yield database
    database.dispose()


def _insert(code_id: int):
    def work(tx):
        tx.execute("INSERT INTO scans (id, code) VALUES (:i, :c)", {"i": code_id, "c": f"code-{code_id}"})
        return code_id
    return work


def test_work_queued_behind_the_writer_shares_its_transaction_and_each_gets_its_own_answer(db):
    results, errors = {}, {}
    gate = threading.Event()

    def held(tx):  # keeps the writer busy while the others queue up
        gate.wait(5)
        tx.execute("INSERT INTO scans (id, code) VALUES (0, 'first')")
        return 0

    def run(n, work):
        try:
            results[n] = db.group_commit.run(work)
        except Exception as exc:  # noqa: BLE001 - the test reads it back
            errors[n] = exc

    def failing(tx):
        tx.execute("INSERT INTO scans (id, code) VALUES (100, 'rolled back')")
        raise ValueError("a bad op")

    first = threading.Thread(target=run, args=(0, held))
    first.start()
    while not db.group_commit._leader.locked():
        pass
    others = [threading.Thread(target=run, args=(n, _insert(n))) for n in range(1, 6)]
    others.append(threading.Thread(target=run, args=(100, failing)))
    for t in others:
        t.start()
    while len(db.group_commit._queue) < 6:
        threading.Event().wait(0.01)
    gate.set()
    for t in [first, *others]:
        t.join(10)

    assert results == {n: n for n in range(6)}
    assert isinstance(errors[100], ValueError)
    with db.read() as tx:
        assert tx.execute("SELECT id FROM scans ORDER BY id").scalars() == [0, 1, 2, 3, 4, 5]
