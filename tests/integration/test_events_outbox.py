"""The outbox: every applied op leaves events in its own transaction, with stable ids
and increasing positions, on SQLite and PostgreSQL, through the device push path
(group commit) and hub commands; refused ops leave none; verify still replays."""

from __future__ import annotations

import pytest

from hub.events.stream import envelope, head, page
from hub.events.types import CloudEvent, event_models
from hub.log import run_hub_command
from hub.seed import DEMO_LOCATION
from hub.verify import replay
from tests.integration.test_conflicts import cancel, pick_all
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


def all_events(hub) -> list[dict]:
    with hub.db.read() as conn:
        return [envelope(e) for e in page(conn, 0, 100_000)]


def of_order(events, order_id: str) -> list[str]:
    return [e["type"] for e in events if e.get("subject") == order_id]


async def test_a_picked_pickup_order_tells_accepted_routed_picked_and_pickup_ready(hub, tmp_path):
    order = await post_order(hub, order_body("EV-1", [("MILK-1L", 2), ("TOM-CAN", 1)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    pick_all(device, order["id"])
    await device.sync()
    events = all_events(hub)
    # One push, one transaction: its status changes once (picking is passed within it).
    assert of_order(events, order["id"]) == ["backroom.order.accepted", "backroom.order.routed", "backroom.order.picked",
                                             "backroom.pickup.ready"]
    accepted = next(e for e in events if e["type"] == "backroom.order.accepted" and e.get("subject") == order["id"])
    assert [(line["sku"], line["qty"]) for line in accepted["data"]["lines"]] == [("MILK-1L", 2), ("TOM-CAN", 1)]
    picks = [e["data"] for e in events if e["type"] == "backroom.stock.changed" and e["data"]["order_id"] == order["id"]]
    assert sorted((p["sku"], p["delta"]) for p in picks) == [("MILK-1L", -2), ("TOM-CAN", -1)]
    assert all(p["location"] == DEMO_LOCATION and p["reason"] == "pick" for p in picks)


async def test_events_have_unique_ids_made_of_their_op_and_increasing_positions(hub, tmp_path):
    order = await post_order(hub, order_body("EV-2", [("MILK-1L", 1)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    pick_all(device, order["id"])
    await device.sync()
    events = all_events(hub)
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert len({e["id"] for e in events}) == len(events)
    with hub.db.read() as conn:
        op_ids = set(conn.execute("SELECT op_id FROM op_log WHERE status = 'applied'").scalars())
        assert head(conn) == positions[-1]
    assert {e["id"].rsplit(":", 1)[0] for e in events} == op_ids  # every applied op has events, no other


async def test_every_event_is_a_cloudevent_whose_data_fits_its_published_model(hub, tmp_path):
    order = await post_order(hub, order_body("EV-3", [("MILK-1L", 2)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    pick_all(device, order["id"])
    await device.sync()
    await cancel(hub, order["id"])  # cancelled after picking: a put-back task follows
    models = event_models()
    events = all_events(hub)
    assert {"backroom.order.cancelled", "backroom.task.recorded", "backroom.stock.changed"} <= {e["type"] for e in events}
    for event in events:
        CloudEvent.model_validate(event)
        assert event["type"] in models, event["type"]
        models[event["type"]].model_validate(event["data"])


async def test_a_refused_command_writes_no_event_and_secrets_are_left_out(hub):
    with hub.db.read() as conn:
        before = head(conn)
    with pytest.raises(Exception):
        with hub.db.write() as conn:
            run_hub_command(conn, "order.cancelled", {"order_id": "no-such-order"})
    with hub.db.read() as conn:
        assert head(conn) == before
    operators = [e for e in all_events(hub) if e["type"] == "backroom.operator.upserted"]
    assert operators and all("pin_hash" not in e["data"]["payload"] and "salt" not in e["data"]["payload"] for e in operators)


async def test_verify_replays_to_the_same_state_with_the_outbox_beside_the_log(hub, tmp_path):
    order = await post_order(hub, order_body("EV-4", [("MILK-1L", 1)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    pick_all(device, order["id"])
    await device.sync()
    assert replay(hub.db).same


async def test_the_api_replays_the_outbox_from_any_position(hub):
    async with hub.admin() as admin:
        first = (await admin.get("/v1/events", params={"after": 0, "limit": 5})).json()
        assert [e["position"] for e in first] == sorted(e["position"] for e in first) and len(first) == 5
        rest = (await admin.get("/v1/events", params={"after": first[2]["position"], "limit": 2})).json()
        assert [e["id"] for e in rest] == [e["id"] for e in first[3:5]]
        assert (await admin.get("/v1/events", params={"after": 2**40})).json() == []
        assert (await admin.get("/v1/events", params={"after": -1})).status_code == 422
        admin.headers.pop("Authorization")
        assert (await admin.get("/v1/events")).status_code == 401
