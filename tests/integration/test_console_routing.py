"""Routing in the console: an order's page says where routing sent it and why each other
location lost; a parked order is routed again and an unpicked one moved, each a logged
hub command under the console's roles. Both backends."""

from __future__ import annotations

import pytest

from tests.integration.test_console import message_of, signed_in
from tests.integration.test_routing import accept, cmd, network, read

pytestmark = pytest.mark.anyio


async def test_an_orders_page_explains_its_route_and_a_network_admin_moves_it(hub):
    network(hub, {"WH-1": {"RT-A": 5}, "ST-1": {"RT-A": 5}})
    order = accept(hub, "C-1", "ship", [("RT-A", 2)])
    client, csrf = await signed_in(hub)
    html = (await client.get(f"/console/orders/{order['id']}")).text
    assert "<h2>Routing</h2>" in html and "chosen" in html
    assert "ST-3:" in html  # a location that lost, with its reason
    moved = await client.post(f"/console/orders/{order['id']}/reassign",
                              data={"csrf": csrf, "location": "ST-1", "note": "closer van"})
    assert moved.status_code == 200, moved.text[:300]
    assert "ST-1" in message_of(moved.text)
    assert "order.reassigned" in moved.text  # in its timeline
    assert read(hub, order["id"])["location"] == "ST-1"


async def test_a_parked_order_is_routed_again_from_the_console_once_stock_is_there(hub):
    network(hub, {})
    order = accept(hub, "C-2", "ship", [("RT-B", 1)])
    assert read(hub, order["id"])["status"] == "awaiting_stock"
    client, csrf = await signed_in(hub)
    page = (await client.get(f"/console/orders/{order['id']}")).text
    assert "Route again" in page
    with hub.db.write() as conn:  # stock appears without the receipt re-brokering it: a snapshot elsewhere
        conn.execute("UPDATE routing_waits SET sku = 'NOT-THIS' WHERE order_id = :o", {"o": order["id"]})
    cmd(hub, "stock.received", {"location": "WH-1", "bin": "B-1", "sku": "RT-B", "qty": 3})
    again = await client.post(f"/console/orders/{order['id']}/release", data={"csrf": csrf})
    assert again.status_code == 200, again.text[:300]
    assert read(hub, order["id"])["location"] == "WH-1"


async def test_a_viewer_sees_the_route_but_may_not_move_an_order(hub):
    network(hub, {"WH-1": {"RT-A": 5}})
    order = accept(hub, "C-3", "ship", [("RT-A", 1)])
    client, csrf = await signed_in(hub, "vic", "viewer")
    html = (await client.get(f"/console/orders/{order['id']}")).text
    assert "<h2>Routing</h2>" in html and "Reassign" not in html
    refused = await client.post(f"/console/orders/{order['id']}/reassign", data={"csrf": csrf, "location": "ST-1"})
    assert refused.status_code == 403
    assert read(hub, order["id"])["location"] == "WH-1"


async def test_routing_reads_what_set_up_records_about_a_location(hub):
    """No routing profile: coordinates, time zone, hours and capacity come from the
    location's set-up. A quick order goes to the open dark store nearby, not to the one
    closed at that hour in its own time zone, nor to the one 150 km away."""
    week = {day: ["08:00-22:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    cmd(hub, "catalogue.item_upserted", {"sku": "RT-Q", "name": "Quick item"})
    for code, lat, lon, hours in (("QS-OPEN", 52.50, 13.45, week), ("QS-FAR", 51.34, 12.37, week),
                                  ("QS-SHUT", 52.51, 13.40, {"mon": ["13:00-22:00"]})):
        cmd(hub, "location.added", {"code": code, "name": code, "kind": "dark_store", "lat": lat, "lon": lon,
                                    "time_zone": "Europe/Berlin", "opening_hours": hours, "daily_capacity": 100})
        cmd(hub, "bin.added", {"location": code, "code": "B-1", "seq": 1})
        cmd(hub, "stock.received", {"location": code, "bin": "B-1", "sku": "RT-Q", "qty": 5})
    # Monday 10:00 UTC is 11:00 in Berlin: QS-SHUT opens at 13:00 local time
    order = accept(hub, "Q-1", "quick", [("RT-Q", 1)], ship_to={"lines": ["Alexanderplatz 1"], "postal_code": "10178",
                                                                  "country": "DE", "lat": 52.52, "lon": 13.41})
    assert order["location"] == "QS-OPEN"
    why = dict(line.split(": ", 1) for line in order["routing"]["decisions"][-1]["explanation"])
    assert "km" in why["QS-FAR"] and "closed" in why["QS-SHUT"]


async def test_the_routing_page_tries_a_candidate_with_what_if_then_sets_it_and_a_viewer_may_only_try(hub):
    import json
    from html import unescape

    network(hub, {"WH-1": {"RT-A": 5}, "ST-1": {"RT-A": 5}})
    order = accept(hub, "C-5", "ship", [("RT-A", 1)])
    client, csrf = await signed_in(hub)
    shown = (await client.get("/console/setup/routing")).text
    assert "In force: version 0 (the built-in default)" in shown and "ship-warehouse-first" in shown
    assert "rebroker" in shown and "sweep-pickups" in shown  # the scheduled jobs
    stores = {"rules": [{"name": "stores", "fulfilment": ["ship"], "kinds": ["store"], "sorts": ["distance"]},
                        {"name": "pickup", "fulfilment": ["pickup"], "kinds": ["store"]},
                        {"name": "quick", "fulfilment": ["quick"], "kinds": ["dark_store"]}]}
    tried = await client.post("/console/setup/routing/what-if", data={"csrf": csrf, "policy": json.dumps(stores), "since": ""})
    assert tried.status_code == 200 and message_of(tried.text) == "What-if done: nothing was changed."
    assert "C-5: WH-1 → ST-1" in unescape(tried.text)
    late = next(line for line in unescape(tried.text).splitlines() if line.startswith("late (estimated): "))
    assert late.endswith("; unfillable (parked, or cancelled by routing): 0 → 0")  # as the CLI prints it: nothing parked
    assert read(hub, order["id"])["location"] == "WH-1"  # nothing changed

    bad = await client.post("/console/setup/routing/what-if", data={"csrf": csrf, "policy": '{"rules": [', "since": ""})
    assert message_of(bad.text).startswith("policy: not JSON")
    bad = await client.post("/console/setup/routing", data={"csrf": csrf, "policy": json.dumps({"rules": []}), "note": ""})
    assert message_of(bad.text).startswith("rules:")
    bad = await client.post("/console/setup/routing/what-if", data={"csrf": csrf, "policy": json.dumps(stores), "since": "soon"})
    assert "since: 'soon' is neither" in message_of(bad.text)

    set_ = await client.post("/console/setup/routing", data={"csrf": csrf, "policy": json.dumps(stores), "note": "stores first"})
    assert message_of(set_.text) == "Routing policy version 1 is in force."
    assert "stores first" in set_.text and "console:kim" in set_.text
    assert accept(hub, "C-6", "ship", [("RT-A", 1)])["location"] == "ST-1"

    viewer, viewer_csrf = await signed_in(hub, "vic", "viewer")
    assert "Set as the policy" not in (await viewer.get("/console/setup/routing")).text
    refused = await viewer.post("/console/setup/routing", data={"csrf": viewer_csrf, "policy": json.dumps(stores), "note": ""})
    assert "only a network admin" in message_of(refused.text)
