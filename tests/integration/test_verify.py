"""`backroom hub verify`: the digest covers every table logged ops write, so state
that a replay would not reach again (escrow leases, stock policy) is seen."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect

from hub.domain.routing_policy import DEFAULT_POLICY

from hub.seed import DARK_STORE
from hub.verify import DOMAIN_TABLES, NOT_FOLDED, replay
from tests.integration.test_routing import cmd

pytestmark = pytest.mark.anyio


def test_the_digest_covers_every_table_but_the_log_the_feed_and_credentials(hub):
    tables = set(inspect(hub.db.engine).get_table_names())
    assert tables - NOT_FOLDED == set(DOMAIN_TABLES)


async def test_verify_sees_an_allotment_that_the_log_does_not_explain(hub, tmp_path):
    device = await hub.device(tmp_path / "t", location=DARK_STORE, role="terminal")
    await device.sync()  # the terminal's first pull grants its allotments
    assert replay(hub.db).same
    with hub.db.write() as conn:
        conn.execute("UPDATE allotments SET granted = granted + 3 WHERE device_id = :d", {"d": device.replica.get_meta("device_id")})
    assert not replay(hub.db).same


async def test_verify_sees_a_stock_policy_that_the_log_does_not_explain(hub):
    with hub.db.write() as conn:
        conn.execute("UPDATE stock_policy SET safety_stock = safety_stock + 5 WHERE location = :l", {"l": DARK_STORE})
    assert not replay(hub.db).same


def _stored_policy(hub) -> dict:
    with hub.db.read() as conn:
        return json.loads(conn.execute("SELECT policy FROM routing_policies ORDER BY version DESC LIMIT 1").scalar_one())


def _store_policy(hub, policy: dict) -> None:
    with hub.db.write() as conn:
        conn.execute("UPDATE routing_policies SET policy = :p WHERE version = (SELECT MAX(version) FROM routing_policies)",
                     {"p": json.dumps(policy)})


def test_a_policy_stored_by_an_older_release_verifies_and_a_changed_one_does_not(hub):
    cmd(hub, "routing.policy_set", {"policy": DEFAULT_POLICY.model_dump(mode="json"), "note": "as shipped"})
    older = _stored_policy(hub)
    for rule in older["rules"]:
        del rule["split"]["keep_groups"]  # the release before keep_groups stored no such field
    _store_policy(hub, older)
    assert replay(hub.db).same  # the replay writes keep_groups: true, the same policy
    older["rules"][-1]["split"]["max_shipments"] = 3
    _store_policy(hub, older)
    assert not replay(hub.db).same
