"""Lines a channel wants shipped together (`lines[].ship_with`: a set, a bundle, a gift):
a split or a partial shipment takes such a group whole or leaves it whole, the decision
says so, the rule may turn it off, and the label is checked at intake. On SQLite and
PostgreSQL, on the network of tests/integration/test_routing.py."""

from __future__ import annotations

import pytest

from edge_app.workflows.packing import pack_lines
from hub.verify import replay
from tests.integration.test_console import signed_in
from tests.integration.test_authority import op, push
from tests.integration.test_routing import BERLIN, accept, cmd, network, read, reasons, set_policy

pytestmark = pytest.mark.anyio


def accept_gift(hub, number: str) -> dict:
    """Lines 1 (RT-A) and 2 (RT-B) are the gift set GIFT-1; line 3 (RT-C) stands alone."""
    gift = {"ship_with": "GIFT-1"}
    return accept(hub, number, "ship", [("RT-A", 1, gift), ("RT-B", 1, gift), ("RT-C", 1)])


def test_a_split_takes_a_gift_set_whole_from_the_one_place_holding_all_of_it_and_says_so(hub):
    # WH-1 holds lines 1 and 3, ST-1 lines 1 and 2: the most lines first would part the set
    network(hub, {"WH-1": {"RT-A": 5, "RT-C": 5}, "ST-1": {"RT-A": 5, "RT-B": 5}})
    order = accept_gift(hub, "G-1")
    decision = order["routing"]["decisions"][0]
    assert decision["outcome"] == "split"
    assert decision["shipments"] == [{"location": "ST-1", "lines": [1, 2]}, {"location": "WH-1", "lines": [3]}]
    assert reasons(order)["ST-1"] == "chosen; keeps group GIFT-1 (lines 1, 2) together"
    assert order["routing"]["ship_groups"] == {1: "GIFT-1", 2: "GIFT-1"}
    child, = order["routing"]["linked_orders"]
    shipment = read(hub, child["order_id"])
    assert [line["line_no"] for line in shipment["lines"]] == [3]
    assert shipment["routing"]["ship_groups"] == order["routing"]["ship_groups"]  # copied with the lines' numbers

    set_policy(hub, {"name": "apart", "fulfilment": ["ship"], "kinds": ["warehouse", "store"],
                     "split": {"allow": True, "keep_groups": False}})
    apart = accept_gift(hub, "G-2")
    assert apart["routing"]["decisions"][0]["shipments"] == [{"location": "WH-1", "lines": [1, 3]},
                                                             {"location": "ST-1", "lines": [2]}]
    assert reasons(apart)["WH-1"] == "chosen"
    assert replay(hub.db).same


def test_a_set_no_place_holds_whole_parks_or_waits_whole_as_a_backorder(hub):
    network(hub, {"WH-1": {"RT-A": 5, "RT-C": 5}, "ST-1": {"RT-B": 5}})
    parked = accept_gift(hub, "G-3")
    assert (parked["status"], parked["location"]) == ("awaiting_stock", None)
    assert reasons(parked)["(split)"] == "keeps group GIFT-1 (lines 1, 2) together: no location holds both"

    set_policy(hub, {"name": "warehouse", "fulfilment": ["ship"], "kinds": ["warehouse", "store"],
                     "split": {"allow": True}}, when_none={"ship": "partial"})
    order = accept_gift(hub, "G-4")
    assert (order["status"], order["location"]) == ("released", "WH-1")
    assert [line["sku"] for line in order["lines"]] == ["RT-C"]
    assert reasons(order)["WH-1"] == ("chosen; ships what it holds; RT-A × 1, RT-B × 1 wait for stock; "
                                      "keeps group GIFT-1 (lines 1, 2) together: no location holds both")
    backorder, = order["routing"]["linked_orders"]
    waiting = read(hub, backorder["order_id"])
    assert [(line["line_no"], line["sku"]) for line in waiting["lines"]] == [(1, "RT-A"), (2, "RT-B")]

    cmd(hub, "stock.received", {"location": "WH-1", "bin": "B-1", "sku": "RT-B", "qty": 2})  # for G-3 and the backorder
    assert read(hub, parked["id"])["location"] == "WH-1"
    routed = read(hub, backorder["order_id"])
    assert (routed["location"], [line["line_no"] for line in routed["lines"]]) == ("WH-1", [1, 2])  # the set goes whole
    assert replay(hub.db).same


async def test_the_orders_console_page_shows_each_lines_group_and_why_the_set_stayed_whole(hub):
    network(hub, {"WH-1": {"RT-A": 5, "RT-C": 5}, "ST-1": {"RT-A": 5, "RT-B": 5}})
    order = accept_gift(hub, "G-6")
    client, _csrf = await signed_in(hub)
    html = (await client.get(f"/console/orders/{order['id']}")).text
    assert html.count("ships with group GIFT-1") == 2  # lines 1 and 2; line 3 went to WH-1 as a linked order
    assert "keeps group GIFT-1 (lines 1, 2) together" in html


@pytest.mark.parametrize(("label", "problem"), [
    ("", "a group label is 1 to 64 printable characters"),
    (" GIFT-1", "without spaces at either end"),
    ("GIFT-1 ", "without spaces at either end"),
    ("GIFT\t1", "a group label is 1 to 64 printable characters"),
    ("G" * 65, "at most 64 characters"),
])
async def test_intake_refuses_a_bad_group_label_naming_the_line(hub, label, problem):
    body = {"number": "G-5", "channel": "webshop", "fulfilment": "ship", "promised_by": "2030-01-01T00:00:00+00:00",
            "ship_to": BERLIN,
            "lines": [{"sku": "MILK-1L", "qty": 1}, {"sku": "SOAP-BAR", "qty": 1, "ship_with": label}]}
    async with hub.admin() as admin:
        response = await admin.post("/v1/orders", json=body)
    assert response.status_code == 422, response.text
    assert "lines.1.ship_with" in response.json()["detail"] and problem in response.json()["detail"], response.text


async def test_a_channel_posts_grouped_lines_and_reads_the_groups_back(hub):
    body = {"number": "G-7", "channel": "webshop", "fulfilment": "ship", "promised_by": "2030-01-01T00:00:00+00:00",
            "ship_to": BERLIN, "lines": [{"sku": "MILK-1L", "qty": 1, "ship_with": "Gift box 1"},
                                         {"sku": "SOAP-BAR", "qty": 1, "ship_with": "Gift box 1"}]}
    async with hub.admin() as admin:
        response = await admin.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["routing"]["ship_groups"] == {"1": "Gift box 1", "2": "Gift box 1"}  # JSON: line numbers as keys


async def test_a_store_turning_away_one_line_of_a_set_sends_the_whole_set_on(hub, tmp_path):
    network(hub, {"WH-1": {"RT-A": 5, "RT-B": 5, "RT-C": 5}, "ST-1": {"RT-A": 5, "RT-B": 5}})
    order = accept_gift(hub, "G-9")
    assert order["location"] == "WH-1"
    associate = await hub.device(tmp_path / "wh", location="WH-1", role="associate")
    result, = await push(hub, associate, [op(associate, "order.rejected",
                                             {"order_id": order["id"], "line_no": 2, "reason": "damaged box"}, 1)])
    assert result["status"] == "applied", result
    kept = read(hub, order["id"])
    assert (kept["location"], [line["line_no"] for line in kept["lines"]]) == ("WH-1", [3])
    moved, = kept["routing"]["linked_orders"]
    assert (moved["reason"], moved["location"]) == ("rejected", "ST-1")
    assert [(line["line_no"], line["sku"]) for line in read(hub, moved["order_id"])["lines"]] == [(1, "RT-A"), (2, "RT-B")]
    assert replay(hub.db).same


async def test_the_packer_sees_which_lines_go_in_one_parcel(hub, tmp_path):
    network(hub, {"WH-1": {"RT-A": 5, "RT-B": 5, "RT-C": 5}})
    order = accept_gift(hub, "G-10")
    packer = await hub.device(tmp_path / "pack", location="WH-1", role="packer")
    await packer.sync()
    rows = packer.replica.query("SELECT line_no, ship_with FROM order_lines WHERE order_id = ? ORDER BY line_no", (order["id"],))
    assert [(r["line_no"], r["ship_with"]) for r in rows] == [(1, "GIFT-1"), (2, "GIFT-1"), (3, None)]
    assert [line.ship_with for line in pack_lines(packer.replica, order["id"])] == ["GIFT-1", "GIFT-1", None]
