"""hub.store.group_commit: work queued behind the writer shares one transaction; a
piece that fails is rolled back alone and the others stand."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hub.store.db import Database
from hub.store.group_commit import WriterClosed


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
        return code_id, tx  # the transaction itself: kept alive, so told apart by identity
    return work


def _hold_writer(db: Database):
    """Queue work that keeps the writer busy until the returned event is set."""
    gate, started = threading.Event(), threading.Event()

    def held(tx):
        started.set()
        gate.wait(5)
        tx.execute("INSERT INTO scans (id, code) VALUES (0, 'first')")
        return 0, tx

    future = db.group_commit.submit(held)
    assert started.wait(5)
    return gate, future


def _failing(tx):
    tx.execute("INSERT INTO scans (id, code) VALUES (100, 'rolled back')")
    raise ValueError("a bad op")


def test_work_queued_behind_the_writer_shares_its_transaction_and_each_gets_its_own_answer(db):
    gate, first = _hold_writer(db)
    queued = [db.group_commit.submit(_insert(n)) for n in range(1, 6)]
    gate.set()

    answers = [f.result(10) for f in queued]
    assert first.result(10)[0] == 0
    assert [code for code, _tx in answers] == [1, 2, 3, 4, 5]
    assert len({id(tx) for _code, tx in answers}) == 1  # the five queued pieces: one transaction
    assert answers[0][1] is not first.result(10)[1]  # the one holding the writer had its own
    with db.read() as tx:
        assert tx.execute("SELECT id FROM scans ORDER BY id").scalars() == [0, 1, 2, 3, 4, 5]


def test_a_failing_piece_is_rolled_back_alone_and_its_caller_gets_the_error(db):
    gate, first = _hold_writer(db)
    queued = {n: db.group_commit.submit(_insert(n)) for n in (1, 2)}
    bad = db.group_commit.submit(_failing)
    queued[3] = db.group_commit.submit(_insert(3))
    gate.set()

    assert {n: f.result(10)[0] for n, f in queued.items()} == {1: 1, 2: 2, 3: 3}
    with pytest.raises(ValueError, match="a bad op"):
        bad.result(10)
    first.result(10)
    with db.read() as tx:
        assert tx.execute("SELECT id FROM scans ORDER BY id").scalars() == [0, 1, 2, 3]


def test_an_awaiting_caller_gets_its_answer_after_the_commit(db):
    async def insert_and_read():
        answer = await db.group_commit.run_async(_insert(7))
        with db.read() as tx:  # committed: another connection sees it
            return answer[0], tx.execute("SELECT code FROM scans WHERE id = 7").scalar_one()

    assert asyncio.run(insert_and_read()) == (7, "code-7")


def test_closing_finishes_queued_work_then_refuses_more(db):
    gate, first = _hold_writer(db)
    queued = db.group_commit.submit(_insert(1))
    closer = threading.Thread(target=db.group_commit.close)
    closer.start()
    gate.set()
    closer.join(10)

    assert queued.result(1)[0] == 1 and first.result(1)[0] == 0
    with pytest.raises(WriterClosed):
        db.group_commit.submit(_insert(2))


def test_on_the_loop_pieces_queued_in_one_turn_share_a_transaction_and_no_writer_thread_starts(db):
    async def queue_five():
        db.group_commit.write_on_loop(asyncio.get_running_loop())
        return await asyncio.gather(*(db.group_commit.run_async(_insert(n)) for n in range(1, 6)))

    answers = asyncio.run(queue_five())

    assert [code for code, _tx in answers] == [1, 2, 3, 4, 5]
    assert len({id(tx) for _code, tx in answers}) == 1
    assert "hub-writer" not in {t.name for t in threading.enumerate()}
    with db.read() as tx:
        assert tx.execute("SELECT id FROM scans ORDER BY id").scalars() == [1, 2, 3, 4, 5]


def test_on_the_loop_a_failing_piece_is_rolled_back_alone(db):
    async def queue_with_a_bad_one():
        db.group_commit.write_on_loop(asyncio.get_running_loop())
        works = [_insert(1), _failing, _insert(2)]
        return await asyncio.gather(*(db.group_commit.run_async(w) for w in works), return_exceptions=True)

    good, bad, also_good = asyncio.run(queue_with_a_bad_one())

    assert (good[0], also_good[0]) == (1, 2)
    assert isinstance(bad, ValueError) and str(bad) == "a bad op"
    with db.read() as tx:
        assert tx.execute("SELECT id FROM scans ORDER BY id").scalars() == [1, 2]


def test_on_the_loop_closing_writes_what_is_queued_before_the_loop_got_to_it(db):
    async def queue_then_close():
        db.group_commit.write_on_loop(asyncio.get_running_loop())
        queued = asyncio.ensure_future(db.group_commit.run_async(_insert(1)))
        await asyncio.sleep(0)  # queued, and its group due on the loop's next turn
        db.group_commit.close()  # as the writer process does on its way out
        return await queued

    assert asyncio.run(queue_then_close())[0] == 1
    with db.read() as tx:
        assert tx.execute("SELECT id FROM scans").scalars() == [1]
    with pytest.raises(WriterClosed):
        db.group_commit.submit(_insert(2))
