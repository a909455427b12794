"""Each device reports its sync health; the hub shows it per device; the app
says it in words."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from edge_app.health import describe_health, device_health
from edge_app.workflows.picking import PickSession
from hub.seed import DARK_STORE
from sync.models import SyncHealth
from tests.integration.test_pick_slice import order_body, post_order
from tests.walks import take_line

pytestmark = pytest.mark.anyio


async def devices_on_hub(hub) -> dict[str, dict]:
    async with hub.admin() as admin:
        return {d["id"]: d for d in (await admin.get("/v1/devices")).json()}


async def test_hub_shows_each_devices_reported_health(hub, tmp_path):
    order = await post_order(hub, order_body("H-1", [("MILK-1L", 1)]))
    picker = await hub.device(tmp_path / "p")
    terminal = await hub.device(tmp_path / "t", location=DARK_STORE, role="terminal")
    await picker.sync(), await terminal.sync()
    session = PickSession(picker.replica, order["id"], "ana")
    take_line(session, 1)
    shown = await devices_on_hub(hub)
    picker_health = shown[picker.replica.get_meta("device_id")]["health"]
    terminal_health = shown[terminal.replica.get_meta("device_id")]["health"]
    assert picker_health["outbox_depth"] == 0 and picker_health["last_sync_at"]
    assert terminal_health["escrow_headroom"] == {"CHOC-DARK": 4, "COFFEE-250": 2, "MILK-1L": 5}


def test_health_counts_waiting_actions_and_their_age(tmp_path):
    from edge_app.local import outbox
    from edge_app.local.replica import Replica

    replica = Replica(tmp_path / "d")
    replica.set_meta("device_id", "dev")
    with replica.transaction() as conn:
        outbox.record_op(conn, "order.staging_set", {"order_id": "o1", "place": "SHELF-1"}, "ana", outbox.PendingEffect())
        health = device_health(conn, datetime.now(timezone.utc) + timedelta(minutes=3))
    assert health.outbox_depth == 1 and 170 < health.oldest_pending_age_s < 200
    assert health.last_sync_at is None


def test_health_reads_as_sentences_for_the_floor():
    now = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
    waiting = SyncHealth(outbox_depth=3, oldest_pending_age_s=240, last_sync_at=(now - timedelta(minutes=5)).isoformat(),
                         escrow_headroom={"MILK-1L": 4})
    lines = describe_health(waiting, now)
    assert lines == [
        "3 action(s) saved on this device, waiting to reach the hub (oldest 4 min ago). They are safe.",
        "Last synced 5 min ago.",
        "Can still confirm offline: MILK-1L 4.",
    ]
    assert describe_health(SyncHealth(outbox_depth=0), now)[0] == "Everything done on this device has reached the hub."
