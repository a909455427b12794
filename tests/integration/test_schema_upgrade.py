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
