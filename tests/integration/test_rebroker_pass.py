"""One re-brokering pass over orders that compete for the same stock and the same
location's capacity: a pass reads its orders and their SKUs' availability once
(hub.domain.routing._PassReads), so each order must still see what the orders before
it in the pass took. On SQLite and PostgreSQL; the network is test_routing's."""

from __future__ import annotations

import pytest

from hub.verify import replay
from tests.integration.test_routing import accept, cmd, network, read

pytestmark = pytest.mark.anyio


def test_orders_in_one_pass_see_the_stock_and_capacity_the_orders_before_them_took(hub):
    network(hub, {}, ST_1={"daily_capacity": 2})
    a, b, c, d = (accept(hub, f"RB-{n}", "ship", [("RT-A", 2)], at=f"2026-12-07T10:0{n}:00+00:00") for n in range(4))
    assert {read(hub, o["id"])["status"] for o in (a, b, c, d)} == {"awaiting_stock"}

    # Three arrive at WH-1: the oldest order takes two; the others see the one left, not three.
    cmd(hub, "stock.received", {"location": "WH-1", "bin": "B-1", "sku": "RT-A", "qty": 3})
    assert [read(hub, o["id"])["location"] for o in (a, b, c, d)] == ["WH-1", None, None, None]

    # Six at ST-1, which takes two orders a day: the third finds it full, though two units are left.
    cmd(hub, "stock.received", {"location": "ST-1", "bin": "B-1", "sku": "RT-A", "qty": 6})
    assert [read(hub, o["id"])["location"] for o in (b, c, d)] == ["ST-1", "ST-1", None]
    decision = read(hub, c["id"])["routing"]["decisions"][-1]
    assert (decision["trigger"], decision["outcome"]) == ("stock:stock.received", "routed")

    # Room for a third order there: a whole pass routes the last one to the two units left.
    cmd(hub, "location.profile_set", {"code": "ST-1", "lat": 52.39, "lon": 13.06, "daily_capacity": 3})
    assert cmd(hub, "routing.rebrokered", {"at": "2026-12-07T12:00:00+00:00"}).message == "1 parked orders routed"
    assert read(hub, d["id"])["location"] == "ST-1"
    assert replay(hub.db).same
