"""Claims: a handheld that opens an order to pick it asks the hub to be the one
picking it. Two handhelds can't both hold it; offline the claim is provisional and
a collision is settled by the hub, never silently; a stale claim can be taken over."""

from __future__ import annotations

import pytest

from edge_app.workflows.picking import PickSession, claim_order, claim_state, release_claim
from hub.seed import DARK_STORE
from hub.verify import replay
from sync.rules import CLAIM_TTL_MS, settle_claim
from tests.integration.test_pick_slice import order_body, post_order
from tests.walks import take_line

pytestmark = pytest.mark.anyio


async def two_handhelds(hub, tmp_path):
    order = await post_order(hub, order_body("C-1", [("MILK-1L", 2), ("SOAP-BAR", 1)]))
    first, second = await hub.device(tmp_path / "a", name="Zebra-1"), await hub.device(tmp_path / "b", name="Zebra-2")
    await first.sync(), await second.sync()
    return order, first, second


async def admin_order(hub, order_id):
    async with hub.admin() as admin:
        return (await admin.get(f"/v1/orders/{order_id}")).json()


async def test_the_first_claim_holds_the_order_and_the_second_handheld_is_told_to_stop(hub, tmp_path):
    order, first, second = await two_handhelds(hub, tmp_path)
    assert claim_order(first.replica, order["id"], "P1").state == "waiting"  # provisional until the hub answers
    await first.sync()
    assert claim_state(first.replica, order["id"]).state == "mine"
    assert claim_order(second.replica, order["id"], "P2").state == "waiting"
    report = await second.sync()
    assert [r["reason_code"] for r in report.rejected] == ["claimed_elsewhere"]
    refused = claim_state(second.replica, order["id"])
    assert refused.blocked and "being picked by P1 on another handheld" in refused.words
    assert (await admin_order(hub, order["id"]))["claimed_actor"] == "P1"


async def test_claims_made_offline_on_two_handhelds_collide_at_the_hub_and_picks_stand(hub, tmp_path):
    order, first, second = await two_handhelds(hub, tmp_path)
    for device, who in ((first, "P1"), (second, "P2")):  # both offline: each claims and picks the first line
        claim_order(device.replica, order["id"], who)
        take_line(PickSession(device.replica, order["id"], who))
    await first.sync()
    report = await second.sync()
    assert [r["reason_code"] for r in report.rejected] == ["claimed_elsewhere"]  # the claim is refused …
    hub_order = await admin_order(hub, order["id"])
    assert [l["qty_picked"] for l in hub_order["lines"] if l["sku"] == "MILK-1L"] == [2]  # … the picks are facts
    async with hub.admin() as admin:
        tasks = (await admin.get("/v1/tasks", params={"location": hub_order["location"]})).json()
    assert any(t["kind"] == "put_back" and t["order_id"] == order["id"] for t in tasks)  # the over-pick goes back
    assert claim_state(second.replica, order["id"]).blocked
    assert replay(hub.db).same


async def test_a_released_claim_lets_another_handheld_pick(hub, tmp_path):
    order, first, second = await two_handhelds(hub, tmp_path)
    claim_order(first.replica, order["id"], "P1")
    await first.sync()
    release_claim(first.replica, order["id"], "P1")
    await first.sync()
    assert (await admin_order(hub, order["id"]))["claimed_by"] is None
    claim_order(second.replica, order["id"], "P2")
    report = await second.sync()
    assert report.rejected == [] and claim_state(second.replica, order["id"]).state == "mine"


async def test_another_locations_order_cannot_be_claimed(hub, tmp_path):
    order = await post_order(hub, order_body("C-9", [("MILK-1L", 1)], location=DARK_STORE, fulfilment="quick"))
    device = await hub.device(tmp_path / "a")
    await device.sync()
    from edge_app.local import outbox

    with device.replica.transaction() as conn:
        outbox.record_op(conn, "pick.claimed", {"order_id": order["id"]}, "P1", outbox.PendingEffect())
    report = await device.sync()
    assert [r["reason_code"] for r in report.rejected] == ["unknown_order"]


@pytest.mark.parametrize("held, at, outcome", [
    (None, 0, "granted"),
    (("me", "P1", 0), 1, "granted"),
    (("other", "P2", 0), CLAIM_TTL_MS - 1, "claimed_elsewhere"),
    (("other", "P2", 0), CLAIM_TTL_MS, "taken over"),
])
def test_the_claim_rule(held, at, outcome):
    decision = settle_claim("released", "C-1", held, "me", at)
    if outcome == "claimed_elsewhere":
        assert decision.refusal == "claimed_elsewhere" and "picked by P2" in decision.message
    else:
        assert decision.refusal is None and decision.apply_qty == 1
        assert (decision.conflict is not None) == (outcome == "taken over")


def test_an_order_past_picking_cannot_be_claimed():
    assert settle_claim("picked", "C-1", None, "me", 0).refusal == "not_pickable"
