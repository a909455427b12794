"""A device upgrades its app with ops still queued under the previous op schema
version: they are delivered as written, and the hub reads them."""

from __future__ import annotations

import json
import uuid

import pytest

from edge_app.local import outbox
from hub.verify import replay
from sync.kinds import SCHEMA_VERSION, parse_payload
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


def queue_as_old_app(device, kind: str, payload: dict, schema_version: int) -> None:
    """Write an outbox row the way the previous app version did."""
    with device.replica.transaction() as conn:
        seq = int(device.replica.get_meta("next_seq", "1"))
        conn.execute(
            "INSERT INTO outbox (device_seq, op_id, kind, payload, actor, hlc, schema_version, created_at) "
            "VALUES (?, ?, ?, ?, 'old-app', ?, ?, '2026-11-01T00:00:00+00:00')",
            (seq, str(uuid.uuid4()), kind, json.dumps(payload), f"{seq:015d}:000000:old", schema_version),
        )
        conn.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(seq + 1),))


def test_previous_version_payload_is_upcast_to_the_current_one():
    parsed = parse_payload("order.staging_set", 1, {"order_id": "o1", "staging": "LOCKER-4"})
    assert parsed.place == "LOCKER-4"
    assert SCHEMA_VERSION == 2


async def test_ops_queued_before_an_upgrade_are_delivered_and_applied(hub, tmp_path):
    order = await post_order(hub, order_body("U-1", [("SOAP-BAR", 1)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    queue_as_old_app(device, "order.staging_set", {"order_id": order["id"], "staging": "SHELF-4"}, 1)
    line = order["lines"][0]
    queue_as_old_app(device, "pick.confirmed", {"order_id": order["id"], "line_no": 1, "bin": line["pick_bin"], "sku": "SOAP-BAR", "qty": 1}, 1)
    # The app is upgraded: new ops are written under the current version.
    with device.replica.transaction() as conn:
        outbox.record_op(conn, "order.staging_set", {"order_id": order["id"], "place": "CURBSIDE-2"}, "ana", outbox.PendingEffect())
    report = await device.sync()
    assert report.rejected == [] and report.applied == 3
    async with hub.admin() as admin:
        stored = (await admin.get(f"/v1/orders/{order['id']}")).json()
    assert stored["status"] == "picked" and stored["staging"] == "CURBSIDE-2"
    assert replay(hub.db).same  # the log keeps the v1 payloads; replay upcasts them again


async def test_op_from_an_unknown_schema_version_is_rejected_and_does_not_block_the_queue(hub, tmp_path):
    order = await post_order(hub, order_body("U-2", [("SOAP-BAR", 1)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    queue_as_old_app(device, "order.staging_set", {"order_id": order["id"], "place": "X"}, 99)
    with device.replica.transaction() as conn:
        outbox.record_op(conn, "order.staging_set", {"order_id": order["id"], "place": "SHELF-1"}, "ana", outbox.PendingEffect())
    report = await device.sync()
    assert [r["reason_code"] for r in report.rejected] == ["unsupported_schema_version"]
    assert report.applied == 1 and report.outbox_depth == 0
    shown = outbox.rejections(device.replica.conn)
    assert shown[0]["reason_code"] == "unsupported_schema_version"


async def test_ops_from_schema_versions_the_hub_does_not_read_are_refused_one_by_one_and_the_rest_applies(hub, tmp_path):
    """A device two app versions behind, or a newer app on an older hub: its ops are read
    or refused with a reason each; a version the hub does not read never fails the push."""
    from tests.integration.test_hub_api import device_client, pick_op

    order = await post_order(hub, order_body("U-3", [("SOAP-BAR", 3)]))
    device = await hub.device(tmp_path / "d")
    device_id = device.replica.get_meta("device_id")
    staging_v1 = {**pick_op(device_id, 2, order, schema_version=1), "kind": "order.staging_set",
                  "payload": {"order_id": order["id"], "staging": "SHELF-9"}}
    ops = [pick_op(device_id, 1, order, schema_version=0), staging_v1, pick_op(device_id, 3, order, schema_version=99),
           pick_op(device_id, 4, order, schema_version=1), pick_op(device_id, 5, order, schema_version=-3),
           pick_op(device_id, 6, order, schema_version=SCHEMA_VERSION)]
    async with device_client(hub, device) as client:
        response = await client.post("/v1/ops", json={"ops": ops})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["reason_code"] or r["status"] for r in results] == [
        "unsupported_schema_version", "applied", "unsupported_schema_version", "applied", "unsupported_schema_version",
        "applied"]
    assert "schema version 99 is not supported" in results[2]["message"]
    async with hub.admin() as admin:
        stored = (await admin.get(f"/v1/orders/{order['id']}")).json()
    assert stored["staging"] == "SHELF-9" and stored["lines"][0]["qty_picked"] == 2
    assert replay(hub.db).same  # the refused ops are logged as sent and refused again on replay


async def test_a_device_two_app_versions_behind_delivers_its_queue_and_its_unread_ops_are_shown(hub, tmp_path):
    """Ops of every kind the oldest supported app wrote (schema 1) apply; one from a version
    the hub does not read is refused and shown, and the queue behind it moves on."""
    order = await post_order(hub, order_body("U-4", [("SOAP-BAR", 2)]))
    device = await hub.device(tmp_path / "d")
    await device.sync()
    line = order["lines"][0]
    queue_as_old_app(device, "pick.confirmed", {"order_id": order["id"], "line_no": 1, "bin": line["pick_bin"], "sku": "SOAP-BAR", "qty": 1}, 1)
    queue_as_old_app(device, "order.staging_set", {"order_id": order["id"], "staging": "SHELF-2"}, 0)
    queue_as_old_app(device, "count.recorded", {"bin": line["pick_bin"], "sku": "SOAP-BAR", "counted": 7}, 1)
    queue_as_old_app(device, "order.staging_set", {"order_id": order["id"], "staging": "SHELF-3"}, 1)

    report = await device.sync()

    assert [r["reason_code"] for r in report.rejected] == ["unsupported_schema_version"]
    assert report.applied == 3 and report.outbox_depth == 0
    assert [r["reason_code"] for r in outbox.refusals(device.replica.conn)] == ["unsupported_schema_version"]
    async with hub.admin() as admin:
        stored = (await admin.get(f"/v1/orders/{order['id']}")).json()
    assert stored["staging"] == "SHELF-3" and stored["lines"][0]["qty_picked"] == 1
    assert replay(hub.db).same


async def test_an_app_that_predates_an_entity_skips_it_keeps_syncing_and_pulls_it_once_upgraded(hub, tmp_path, monkeypatch):
    from edge_app.local import hub_state

    older = {k: v for k, v in hub_state._APPLY.items() if k != "carrier_rates"}  # as an app built before carriers
    monkeypatch.setattr(hub_state, "_APPLY", older)
    device = await hub.device(tmp_path / "d")
    report = await device.sync()
    assert report.pulled > 0 and not report.out_of_step
    assert device.replica.query_one("SELECT COUNT(*) AS n FROM orders")["n"] > 0  # the rest of the page applied
    assert device.replica.query_one("SELECT COUNT(*) AS n FROM carrier_rates")["n"] == 0
    assert device.replica.get_meta("skipped_entities") == "carrier_rates"

    monkeypatch.undo()  # the app is upgraded: it knows carrier_rates now
    report = await device.sync()
    assert report.out_of_step == ["app_learned:carrier_rates"]
    assert device.replica.query_one("SELECT COUNT(*) AS n FROM carrier_rates")["n"] == 1
    assert device.replica.get_meta("skipped_entities") is None
    assert (await device.sync()).out_of_step == []  # once
