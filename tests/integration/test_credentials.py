"""Every credential can be taken back, and every admin act, failed authentication
and refused op is in the audit trail (issue 17, findings 4 and 5). On SQLite and
PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text

import hub.api.callers as callers
from edge_app.errors import HubRefused
from edge_app.local import outbox
from edge_app.workflows.quick_orders import take_order
from edge_app.workflows.signin import SignInRefused, sign_in_pin
from hub.api.app import create_app
from hub.seed import DARK_STORE
from tests.integration.conftest import HUB_URL
from tests.integration.test_pick_slice import order_body

pytestmark = pytest.mark.anyio


def client(hub, token: str | None, app=None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app) if app is not None else hub.transport
    return httpx.AsyncClient(base_url=HUB_URL, transport=transport, headers=headers)


def scalar(hub, sql: str, **params):
    with hub.db.read() as conn:
        return conn.execute(text(sql), params).scalar()


async def test_a_revoked_device_gets_401_within_seconds_and_its_unsent_ops_stay_on_it(hub, tmp_path, monkeypatch):
    terminal = await hub.device(tmp_path / "t", location=DARK_STORE, role="terminal")
    await terminal.sync()  # it holds escrow allotments now
    assert scalar(hub, "SELECT SUM(granted - used - released) FROM allotments") > 0
    other_worker = create_app(hub.db, run_migrations=False)  # a second HTTP worker, its cache warm
    async with client(hub, terminal.replica.get_meta("token"), other_worker) as c:
        assert (await c.get("/v1/changes")).status_code == 200
    take_order(terminal.replica, [("MILK-1L", 1)], "walk-in", "terminal")  # recorded, not pushed
    async with hub.admin() as admin:
        revoked = await admin.post(f"/v1/devices/{terminal.replica.get_meta('device_id')}/revoke")
    assert revoked.status_code == 200
    with pytest.raises(HubRefused, match="401"):
        await terminal.sync()  # the worker that revoked it refuses at once
    later = callers.clock() + callers.CALLER_TTL_S * 1.3
    monkeypatch.setattr(callers, "clock", lambda: later)
    async with client(hub, terminal.replica.get_meta("token"), other_worker) as c:
        assert (await c.get("/v1/changes")).status_code == 401  # every other worker within the cache's few seconds
    assert scalar(hub, "SELECT COUNT(*) FROM op_log WHERE device_id = :d", d=terminal.replica.get_meta("device_id")) == 0
    with terminal.replica.transaction() as conn:
        assert outbox.depth(conn) == 1  # never applied; kept on the device for a person to see
    assert scalar(hub, "SELECT SUM(granted - used - released) FROM allotments") == 0  # its escrow is back in the pool


async def test_api_tokens_are_listed_without_secrets_rotated_revoked_and_expire(hub):
    async with hub.admin() as admin:
        issued = (await admin.post("/v1/tokens", json={"role": "admin", "name": "ops-team"})).json()
        listed = (await admin.get("/v1/tokens")).json()
        rotated = (await admin.post(f"/v1/tokens/{issued['token_id']}/rotate")).json()
    assert [t["token_id"] for t in listed if t["name"] == "ops-team"] == [issued["token_id"]]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    async with client(hub, issued["token"]) as old, client(hub, rotated["token"]) as new:
        assert (await old.get("/v1/devices")).status_code == 200  # the old one lives on for the grace period
        assert (await new.get("/v1/devices")).status_code == 200
        assert (await new.post(f"/v1/tokens/{issued['token_id']}/revoke")).status_code == 200
        assert (await old.get("/v1/devices")).status_code == 401
    with hub.db.write() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = '2000-01-01T00:00:00+00:00' WHERE token_id = :i"),
                     {"i": rotated["token_id"]})
    async with client(hub, rotated["token"]) as expired:
        assert (await expired.get("/v1/devices")).status_code == 401


async def test_an_intake_token_posts_reads_and_cancels_only_its_own_channels_orders(hub):
    async with hub.admin() as admin:
        assert (await admin.post("/v1/tokens", json={"role": "intake", "name": "shop"})).status_code == 422  # no channel
        token = (await admin.post("/v1/tokens", json={"role": "intake", "name": "shop", "channel": "webshop"})).json()["token"]
        theirs = (await admin.get("/v1/orders", params={"limit": 100})).json()
    marketplace = next(o for o in theirs if o["channel"] == "marketplace")
    async with client(hub, token) as shop:
        stolen = await shop.post("/v1/orders", json={**order_body("M-2001", [("MILK-1L", 1)]), "channel": "marketplace"})
        peek = await shop.get(f"/v1/orders/{marketplace['id']}")
        cancel = await shop.post(f"/v1/orders/{marketplace['id']}/cancel", json={"reason": "x"})
        own = await shop.post("/v1/orders", json=order_body("W-9", [("MILK-1L", 1)]))
        again = await shop.get(f"/v1/orders/{own.json()['id']}")
        cancel_own = await shop.post(f"/v1/orders/{own.json()['id']}/cancel", json={"reason": "customer"})
    assert stolen.status_code == 403 and "pickup_code" not in stolen.text
    assert (peek.status_code, cancel.status_code) == (404, 404)
    assert (own.status_code, again.status_code, cancel_own.status_code) == (201, 200, 200)
    assert scalar(hub, "SELECT status FROM orders WHERE id = :o", o=marketplace["id"]) != "cancelled"


async def test_a_disabled_or_removed_operator_leaves_the_devices_and_can_no_longer_sign_in(hub, tmp_path):
    device = await hub.device(tmp_path / "d", role="packer")
    await device.sync()
    assert sign_in_pin(device.replica, "K1", "2222").operator_id == "K1"
    async with hub.admin() as admin:
        assert (await admin.post("/v1/operators/K1/disable", json={"reason": "left"})).status_code == 200
        assert (await admin.delete("/v1/operators/P1")).status_code == 200
        assert (await admin.delete("/v1/operators/NOBODY")).status_code == 422
    await device.sync()
    assert {r["operator_id"] for r in device.replica.query("SELECT operator_id FROM operators")} == {"A1", "S1"}
    with pytest.raises(SignInRefused):
        sign_in_pin(device.replica, "K1", "2222")
    assert scalar(hub, "SELECT active FROM operators WHERE operator_id = 'K1'") == 0
    assert scalar(hub, "SELECT COUNT(*) FROM operators WHERE operator_id = 'P1'") == 0


async def test_the_audit_trail_shows_admin_acts_failed_authentication_and_refused_ops(hub, hub_db_url, tmp_path):
    device = await hub.device(tmp_path / "d")
    async with client(hub, "not-a-token") as stranger:
        assert (await stranger.get("/v1/orders")).status_code == 401
        assert (await stranger.post("/v1/devices/enroll", json={"code": "WRONG-CODE"})).status_code == 401
    with device.replica.transaction() as conn:
        outbox.record_op(conn, "stock.moved", {"from_bin": "NOPE", "to_bin": "A-01-1", "sku": "MILK-1L", "qty": 1},
                         "tester", outbox.PendingEffect())
    await device.sync()
    async with hub.admin() as admin:
        await admin.post("/v1/tokens", json={"role": "intake", "name": "shop", "channel": "webshop"})
        await admin.post("/v1/operators/K1/disable", json={})
        await admin.post(f"/v1/devices/{device.replica.get_meta('device_id')}/revoke")
        trail = (await admin.get("/v1/audit", params={"limit": 500})).json()
        refused = (await admin.get("/v1/audit", params={"action": "op.refused"})).json()
    actions = {row["action"] for row in trail}
    assert {"token.issued", "device.enrolled", "device.revoked", "operator.disabled", "operator.upserted",
            "stock.policy_set", "auth.failed", "enroll.failed", "op.refused"} <= actions
    failed = next(row for row in trail if row["action"] == "auth.failed")
    assert failed["client"] == "127.0.0.1" and failed["target"] == "/v1/orders"
    assert [r["outcome"] for r in refused] == ["unknown_bin"]
    printed = CliRunner().invoke(__import__("backroom_cli").cli, ["hub", "audit", "--db", hub_db_url, "--action", "device.revoked"])
    assert printed.exit_code == 0 and "device.revoked" in printed.output
