"""SLA risk on the hub: a refresh logs `order.risk_assessed` where a level changed, the
outbox raises and clears it (and tells `order.delayed`), the API lists it, the log
replays to the same state, and /metrics shows it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hub.events.stream import envelope, page
from hub.insight.risk import refresh
from hub.log import run_hub_command
from hub.verify import replay
from tests.integration.test_conflicts import cancel
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


def risk_events(hub, order_id: str) -> list[str]:
    with hub.db.read() as conn:
        return [e["type"] for e in map(envelope, page(conn, 0, 100_000))
                if e["type"].startswith(("backroom.risk.", "backroom.order.delayed")) and e["subject"] == order_id]


async def test_a_late_order_raises_a_risk_and_a_delay_once_and_clears_when_closed(hub):
    promised = (datetime.now(timezone.utc) - timedelta(minutes=10)).isoformat()
    order = await post_order(hub, order_body("RISK-1", [("MILK-1L", 1)], promised_by=promised))
    counts = refresh(hub.db)
    assert counts["late"] >= 1 and counts["changed"] >= 1
    assert refresh(hub.db)["changed"] == 0  # nothing new: nothing logged
    assert risk_events(hub, order["id"]) == ["backroom.risk.raised", "backroom.order.delayed"]
    async with hub.admin() as admin:
        listed = (await admin.get("/v1/admin/risk")).json()
        mine = next(r for r in listed if r["order_id"] == order["id"])
        assert mine["level"] == "late" and mine["reason"].startswith("promised ")
        metrics = (await admin.get("/metrics")).text
    assert 'backroom_open_risks{level="late",location="' in metrics
    assert "backroom_outbox_events_total " in metrics
    await cancel(hub, order["id"])
    refresh(hub.db)
    assert risk_events(hub, order["id"])[-1] == "backroom.risk.cleared"
    async with hub.admin() as admin:
        assert order["id"] not in {r["order_id"] for r in (await admin.get("/v1/admin/risk")).json()}
    assert replay(hub.db).same


async def test_metrics_and_risk_need_an_admin_token(hub):
    async with hub.admin() as admin:
        admin.headers.pop("Authorization")
        assert (await admin.get("/metrics")).status_code == 401
        assert (await admin.get("/v1/admin/risk")).status_code == 401


async def test_a_device_not_seen_for_a_while_goes_offline_once_and_online_when_it_syncs(hub, tmp_path):
    from hub.insight.devices import refresh_devices

    device = await hub.device(tmp_path / "d")
    await device.sync()
    device_id = device.replica.get_meta("device_id")
    assert refresh_devices(hub.db) == 0  # seen just now: online, as assumed
    away = (datetime.now(timezone.utc) - timedelta(minutes=12)).isoformat()
    with hub.db.write() as conn:
        conn.execute("UPDATE devices SET last_seen_at = :t, health = :h WHERE id = :d",
                     {"t": away, "h": '{"outbox_depth": 3}', "d": device_id})
    assert refresh_devices(hub.db) == 1
    assert refresh_devices(hub.db) == 0
    await device.sync()
    assert refresh_devices(hub.db) == 1
    with hub.db.read() as conn:
        mine = [e for e in map(envelope, page(conn, 0, 100_000)) if e.get("subject") == f"device/{device_id}"]
    assert [e["type"] for e in mine] == ["backroom.device.offline", "backroom.device.online"]
    async with hub.admin() as admin:
        metrics = (await admin.get("/metrics")).text
    location = mine[0]["location"]
    assert f'backroom_devices_offline{{location="{location}"}} 0' in metrics  # online again
    assert f'backroom_device_unsent_ops{{location="{location}"}} ' in metrics
    assert mine[0]["data"]["unsent_ops"] == 3 and mine[0]["location"] == mine[0]["data"]["location"]
    assert replay(hub.db).same


async def test_a_late_order_goes_to_the_top_of_the_stores_pick_list_with_its_reason_and_drops_back_when_cleared(hub, tmp_path):
    from edge_app.ui.words import risk_words
    from edge_app.workflows.pick_list import open_orders

    device = await hub.device(tmp_path / "d")
    await device.sync()
    first_before = open_orders(device.replica)[0].number
    promised = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()  # last by promise
    order = await post_order(hub, order_body("RISK-2", [("MILK-1L", 1)], promised_by=promised))
    await device.sync()
    assert open_orders(device.replica)[-1].number == "RISK-2"

    with hub.db.write() as conn:  # the hub's foresight says it will be late (hub.insight.risk logs the same)
        run_hub_command(conn, "order.risk_assessed", {"order_id": order["id"], "location": order["location"],
                                                      "level": "late", "reason": "42 orders ahead at 30/h",
                                                      "at": datetime.now(timezone.utc).isoformat()}, actor="risk")
    await device.sync()
    top = open_orders(device.replica)[0]
    assert (top.number, top.risk_level) == ("RISK-2", "late")
    assert risk_words(top.risk_level, top.risk_reason) == "LATE: 42 orders ahead at 30/h"

    with hub.db.write() as conn:
        run_hub_command(conn, "order.risk_assessed", {"order_id": order["id"], "location": order["location"],
                                                      "level": "ok", "reason": "",
                                                      "at": datetime.now(timezone.utc).isoformat()}, actor="risk")
    await device.sync()
    listed = open_orders(device.replica)
    assert listed[0].number == first_before and listed[-1].number == "RISK-2" and listed[-1].risk_level is None
    assert replay(hub.db).same
