"""Foresight and events in the console: orders at risk with the reason in words, webhook
subscribers with their lag and dead letters; a store manager sees only its locations'
risks and none of the network's subscribers. Both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hub.events.webhooks import subscribe
from hub.insight.risk import refresh
from tests.integration.test_console import signed_in
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


async def test_an_order_past_its_promise_is_listed_at_risk_with_why(hub):
    promised = (datetime.now(timezone.utc) - timedelta(minutes=10)).isoformat()
    order = await post_order(hub, order_body("RISK-C1", [("MILK-1L", 1)], promised_by=promised))
    refresh(hub.db)
    client, _csrf = await signed_in(hub)
    html = (await client.get("/console/risk")).text
    assert f'/console/orders/{order["id"]}">RISK-C1</a>' in html
    assert "promised " in html and ">late<" in html
    manager, _ = await signed_in(hub, "sam", "store_manager", ("DEMO-DS",))
    assert "RISK-C1" not in (await manager.get("/console/risk")).text


async def test_subscribers_and_dead_letters_are_shown_to_the_network_not_to_a_store(hub):
    with hub.db.write() as conn:
        subscribe(conn, "http://127.0.0.1:9/hook", ["backroom.order.*"], [], "tests")
    client, _csrf = await signed_in(hub)
    html = (await client.get("/console/events")).text
    assert "http://127.0.0.1:9/hook" in html and "backroom.order.*" in html and "Dead letters" in html
    manager, _ = await signed_in(hub, "sam", "store_manager", ("DEMO-1",))
    assert (await manager.get("/console/events")).status_code == 404
