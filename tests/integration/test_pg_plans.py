"""PostgreSQL: the hub's statements are planned for the tables as they are, never
from a generic plan kept since a table was empty (a sequential scan of op_log on
every push once it had grown)."""

from __future__ import annotations

import pytest

from hub.store.db import Database
from hub.store.migrations import migrate

pytestmark = pytest.mark.postgres

LOOK_UP = "SELECT device_id, device_seq, op_id, result FROM op_log WHERE op_id IN :ids"  # as hub.api.push asks


@pytest.fixture
def db():
    from tests.conftest import _postgres_url_or_skip

    database = Database(_postgres_url_or_skip())
    migrate(database)
    yield database
    database.dispose()


def test_a_statement_run_often_on_the_write_connection_is_planned_each_time(db):
    with db.write() as tx:
        tx.execute("ANALYZE op_log")  # empty: the moment a generic plan would be a scan
    for n in range(12):  # psycopg prepares it after 5 runs; PostgreSQL tries 5 custom plans
        with db.write() as tx:
            assert tx.execute(LOOK_UP, {"ids": [f"op-{n}-{i}" for i in range(20)]}).all() == []
    with db.write() as tx:
        plans = tx.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                           "WHERE statement LIKE 'SELECT device_id, device_seq, op_id, result FROM op_log%'").all()
    assert plans, "the look-up was not prepared: nothing to check"
    assert all(p.generic_plans == 0 and p.custom_plans > 0 for p in plans), plans


def test_readers_plan_each_time_too(db):
    with db.read() as tx:
        assert tx.execute("SHOW plan_cache_mode").scalar() == "force_custom_plan"
