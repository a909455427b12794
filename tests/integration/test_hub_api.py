"""The hub's API contract: exactly-once push, gaps refused, scopes enforced,
bad input answered with a 4xx naming the field and writing nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from hub.seed import DEMO_ITEMS, DEMO_LOCATION
from sync.kinds import SCHEMA_VERSION
from tests.integration.conftest import HUB_URL
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


def pick_op(device_id: str, seq: int, order: dict, line_no: int = 1, qty: int = 1, **overrides) -> dict:
    line = order["lines"][line_no - 1]
    return {
        "op_id": str(uuid.uuid4()),
        "device_id": device_id,
        "device_seq": seq,
        "kind": "pick.confirmed",
        "payload": {"order_id": order["id"], "line_no": line_no, "bin": line["pick_bin"], "sku": line["sku"], "qty": qty},
        "actor": "tester",
        "hlc": f"{seq:015d}:000000:{device_id}",
        "schema_version": SCHEMA_VERSION,
        **overrides,
    }


def device_client(hub, device) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=HUB_URL, transport=hub.transport, headers={"Authorization": f"Bearer {device.replica.get_meta('token')}"}
    )


async def count(hub, table: str) -> int:
    from sqlalchemy import text

    with hub.db.read() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


async def test_resent_op_is_answered_duplicate_with_its_first_result_and_applied_once(hub, tmp_path):
    order = await post_order(hub, order_body("A-1", [("MILK-1L", 3)]))
    device = await hub.device(tmp_path / "d")
    device_id = device.replica.get_meta("device_id")
    op = pick_op(device_id, 1, order, qty=2)
    async with device_client(hub, device) as client:
        first = (await client.post("/v1/ops", json={"ops": [op]})).json()["results"][0]
        again = (await client.post("/v1/ops", json={"ops": [op]})).json()["results"][0]
    assert first["status"] == "applied"
    assert again["status"] == "duplicate" and again["change_seq"] == first["change_seq"]
    async with hub.admin() as admin:
        moves = (await admin.get("/v1/movements", params={"order_id": order["id"]})).json()
    assert [m["qty"] for m in moves] == [-2]


async def test_gap_in_device_sequence_is_refused_and_stops_the_batch(hub, tmp_path):
    order = await post_order(hub, order_body("A-2", [("MILK-1L", 3)]))
    device = await hub.device(tmp_path / "d")
    device_id = device.replica.get_meta("device_id")
    ops = [pick_op(device_id, 2, order), pick_op(device_id, 3, order)]
    async with device_client(hub, device) as client:
        results = (await client.post("/v1/ops", json={"ops": ops})).json()["results"]
    assert [r["reason_code"] for r in results] == ["sequence_gap"]
    assert await count(hub, "op_log WHERE device_id <> 'hub'") == 0


async def test_malformed_payload_is_rejected_with_reason_and_does_not_block_the_queue(hub, tmp_path):
    order = await post_order(hub, order_body("A-3", [("MILK-1L", 3)]))
    device = await hub.device(tmp_path / "d")
    device_id = device.replica.get_meta("device_id")
    bad = pick_op(device_id, 1, order)
    bad["payload"]["qty"] = "lots"
    unknown_schema = pick_op(device_id, 2, order, schema_version=99)
    good = pick_op(device_id, 3, order)
    async with device_client(hub, device) as client:
        results = (await client.post("/v1/ops", json={"ops": [bad, unknown_schema, good]})).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert results[0]["reason_code"] == "malformed_payload" and "payload.qty" in results[0]["message"]
    assert results[1]["reason_code"] == "unsupported_schema_version"


async def test_malformed_op_envelope_gets_422_naming_the_field_and_writes_nothing(hub, tmp_path):
    order = await post_order(hub, order_body("A-4", [("MILK-1L", 1)]))
    device = await hub.device(tmp_path / "d")
    op = pick_op(device.replica.get_meta("device_id"), 1, order)
    del op["device_seq"]
    async with device_client(hub, device) as client:
        response = await client.post("/v1/ops", json={"ops": [op]})
    assert response.status_code == 422
    assert "ops.0.device_seq" in response.json()["detail"]
    assert await count(hub, "op_log WHERE device_id <> 'hub'") == 0


async def test_a_push_past_the_size_limit_gets_413_and_writes_nothing(hub, tmp_path):
    device = await hub.device(tmp_path / "d")
    async with device_client(hub, device) as client:
        response = await client.post("/v1/ops", content=b'{"ops": [' + b" " * (9 * 1024 * 1024) + b"]}")
    assert response.status_code == 413 and "smaller batches" in response.json()["detail"]
    assert await count(hub, "op_log WHERE device_id <> 'hub'") == 0


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b.pop("number"), "number"),
        (lambda b: b.update(fulfilment="teleport"), "fulfilment"),
        (lambda b: b["lines"][0].update(qty=0), "lines.0.qty"),
        (lambda b: b.update(promised_by="tomorrow-ish"), "promised_by"),
        (lambda b: b.update(lines=[]), "lines"),
    ],
)
async def test_malformed_order_gets_422_naming_the_field_and_writes_nothing(hub, mutate, field):
    body = order_body("BAD-1", [("MILK-1L", 1)])
    mutate(body)
    before = await count(hub, "orders")
    async with hub.admin() as admin:
        response = await admin.post("/v1/orders", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert await count(hub, "orders") == before


async def test_order_with_unknown_sku_is_refused_naming_the_line(hub):
    before = await count(hub, "orders")
    async with hub.admin() as admin:
        response = await admin.post("/v1/orders", json=order_body("BAD-2", [("MILK-1L", 1), ("NOPE", 1)]))
    assert response.status_code == 422
    assert "lines[1].sku" in response.json()["detail"]
    assert await count(hub, "orders") == before


async def test_reposted_order_returns_the_stored_order_without_reserving_twice(hub):
    body = order_body("R-1", [("COFFEE-250", 2)])
    first = await post_order(hub, body)
    async with hub.admin() as admin:
        again = await admin.post("/v1/orders", json=body)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert await count(hub, "reservations") == 10 + 1  # demo orders' lines + this one


async def test_order_that_no_location_can_fill_waits_for_stock_unreserved(hub):
    order = await post_order(hub, order_body("BIG-1", [("MILK-1L", 9999)]))
    assert order["status"] == "awaiting_stock" and order["location"] is None


async def test_unknown_token_is_401_and_another_locations_data_is_404_to_a_device(hub, tmp_path):
    device = await hub.device(tmp_path / "d")
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport, headers={"Authorization": "Bearer nope"}) as c:
        assert (await c.get("/v1/changes")).status_code == 401
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport) as c:
        assert (await c.get("/v1/changes")).status_code == 401
    async with device_client(hub, device) as client:
        assert (await client.get("/v1/stock", params={"location": "DEMO-DS"})).status_code == 404
        assert (await client.get("/v1/stock", params={"location": DEMO_LOCATION})).status_code == 200
        assert (await client.get("/v1/devices")).status_code == 403
        assert (await client.post("/v1/orders", json=order_body("X-1", [("MILK-1L", 1)]))).status_code == 403


async def test_op_claiming_another_device_is_403_and_writes_nothing(hub, tmp_path):
    order = await post_order(hub, order_body("A-5", [("MILK-1L", 1)]))
    first, second = await hub.device(tmp_path / "d1"), await hub.device(tmp_path / "d2")
    op = pick_op(second.replica.get_meta("device_id"), 1, order)
    async with device_client(hub, first) as client:
        response = await client.post("/v1/ops", json={"ops": [op]})
    assert response.status_code == 403 and "ops[0].device_id" in response.json()["detail"]
    assert await count(hub, "op_log WHERE device_id <> 'hub'") == 0


async def test_device_of_another_location_cannot_pick_this_locations_order(hub, tmp_path):
    order = await post_order(hub, order_body("A-6", [("MILK-1L", 1)]))
    dark_store_device = await hub.device(tmp_path / "ds", location="DEMO-DS")
    op = pick_op(dark_store_device.replica.get_meta("device_id"), 1, order)
    async with device_client(hub, dark_store_device) as client:
        result = (await client.post("/v1/ops", json={"ops": [op]})).json()["results"][0]
        peek = await client.get(f"/v1/orders/{order['id']}")
    assert peek.status_code == 404 and peek.json()["detail"] == f"no order {order['id']!r}"  # not 403: no existence leak
    assert result["status"] == "rejected" and result["reason_code"] == "unknown_order"  # as if it did not exist
    assert result["message"] == f"there is no order {order['id']} at DEMO-DS"
    assert await count(hub, "movements WHERE reason <> 'receipt'") == 0


async def test_device_pulls_only_its_own_locations_data(hub, tmp_path):
    dark_store_device = await hub.device(tmp_path / "ds", location="DEMO-DS")
    await dark_store_device.sync()
    replica = dark_store_device.replica
    assert replica.query_one("SELECT COUNT(*) AS n FROM orders")["n"] == 0
    stocked = {r["sku"] for r in replica.query("SELECT sku FROM stock")}
    assert stocked == {"MILK-1L", "CHOC-DARK", "COFFEE-250"}  # the dark store's own range only
    assert replica.query_one("SELECT COUNT(*) AS n FROM items")["n"] == len(DEMO_ITEMS)  # the catalogue is shared


async def test_enrollment_code_works_once(hub, tmp_path):
    code = hub.code()
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport) as c:
        first = await c.post("/v1/devices/enroll", json={"code": code.lower(), "name": "a"})
        second = await c.post("/v1/devices/enroll", json={"code": code, "name": "b"})
    assert first.status_code == 200
    assert second.status_code == 401 and "already used" in second.json()["detail"]


async def test_token_is_stored_only_as_a_hash(hub, tmp_path):
    from sqlalchemy import text

    device = await hub.device(tmp_path / "d")
    token = device.replica.get_meta("token")
    with hub.db.read() as conn:
        stored = conn.execute(text("SELECT token_hash FROM devices")).scalar_one()
    assert token not in stored and len(stored) == 64


async def test_openapi_document_is_published(hub):
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport) as c:
        paths = (await c.get("/openapi.json")).json()["paths"]
    assert {"/v1/orders", "/v1/ops", "/v1/changes", "/v1/devices/enroll", "/v1/stock", "/v1/devices"} <= set(paths)
