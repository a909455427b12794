"""A refused op whose answer is lost on the way back: the device sends it again,
the hub answers `duplicate` with the original refusal, and the device must record
it as refused — shown to the person, its effect dropped — not as applied."""

from __future__ import annotations

import httpx
import pytest

from edge_app.agent import SyncAgent, hub_client
from edge_app.errors import HubUnreachable
from edge_app.local import outbox

pytestmark = pytest.mark.anyio


class LosesFirstPushAnswer(httpx.AsyncBaseTransport):
    """The hub gets the first push and answers it; the answer never arrives."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.lost = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == "/v1/ops" and not self.lost:
            self.lost = True
            await response.aread()
            raise httpx.ReadError("connection lost after the hub answered", request=request)
        return response


async def test_refused_op_whose_answer_was_lost_is_recorded_refused_when_resent(hub, tmp_path):
    device = await hub.device(tmp_path / "d", role="associate")
    await device.sync()
    order_id = device.replica.query_one("SELECT id FROM orders ORDER BY number LIMIT 1")["id"]
    with device.replica.transaction() as conn:
        outbox.record_op(conn, "refund.requested", {"order_id": order_id, "line_no": 1, "qty": 1}, "ana",
                         outbox.PendingEffect(lines=((order_id, 1, 0, 1),)))
    device.agent = SyncAgent(device.replica, hub_client(device.replica, transport=LosesFirstPushAnswer(hub.transport)))
    with pytest.raises(HubUnreachable):
        await device.sync()

    report = await device.sync()

    assert report.duplicates == 1
    row = device.replica.query_one("SELECT state, reason_code FROM outbox WHERE device_seq = 1")
    assert (row["state"], row["reason_code"]) == ("rejected", "nothing_to_refund")
    with device.replica.transaction() as conn:
        assert [r["reason_code"] for r in outbox.rejections(conn)] == ["nothing_to_refund"]
    assert device.replica.query_one("SELECT COUNT(*) AS n FROM line_effects")["n"] == 0
