"""An op id used before by another op is refused (`op_id_reused`), whether its
push is written alone (its op ids looked up first) or in a group with others
(the op log's unique index finds it; the group rolls back and each push runs
again alone): the other pushes of that group stand, each op applied once."""

from __future__ import annotations

import threading

import pytest

from hub.api import push as ops
from hub.credentials import Device
from hub.seed import DEMO_LOCATION
from sync.models import Op
from tests.integration.test_hub_api import count, pick_op
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


async def _devices(hub, tmp_path, n: int) -> list[Device]:
    enrolled = [await hub.device(tmp_path / f"d{i}") for i in range(n)]
    return [Device(d.replica.get_meta("device_id"), "handheld", DEMO_LOCATION, "picker") for d in enrolled]


def _group(db, pieces: list[ops._PushWork]) -> list:
    """Write `pieces` as one group: queued while a first piece holds the writer."""
    gate, started = threading.Event(), threading.Event()

    def hold(_tx):
        started.set()
        gate.wait(5)

    held = db.group_commit.submit(hold)
    assert started.wait(5)
    futures = [db.group_commit.submit(piece) for piece in pieces]
    gate.set()
    held.result(10)
    return [ops._settled(f.result(10)) for f in futures]


async def test_a_reused_op_id_in_a_group_is_refused_and_the_groups_other_pushes_stand(hub, tmp_path):
    order = await post_order(hub, order_body("R-1", [("MILK-1L", 3)]))
    first, second, third = await _devices(hub, tmp_path, 3)
    used = pick_op(first.id, 1, order)
    assert [r.status for r in await ops.push(hub.db, first, [Op(**used)])] == ["applied"]

    answers = _group(hub.db, [
        ops._PushWork(second, [Op(**pick_op(second.id, 1, order))]),
        ops._PushWork(third, [Op(**pick_op(third.id, 1, order, op_id=used["op_id"]))]),  # the first device's op id
        ops._PushWork(first, [Op(**pick_op(first.id, 2, order))]),
    ])

    assert [[r.status.value for r in a] for a in answers] == [["applied"], ["rejected"], ["applied"]]
    assert answers[1][0].reason_code == "op_id_reused"
    assert await count(hub, f"op_log WHERE op_id = '{used['op_id']}'") == 1
    assert await count(hub, f"movements WHERE order_id = '{order['id']}'") == 3
    # The refused op consumed its number, as every refusal does: the third device's
    # next op is #2, and a re-send of the refused one gets the same refusal.
    again = await ops.push(hub.db, third, [Op(**pick_op(third.id, 1, order, op_id=used["op_id"])),
                                           Op(**pick_op(third.id, 2, order))])
    assert [(r.status.value, r.reason_code) for r in again] == [("duplicate", "op_id_reused"), ("applied", None)]


async def test_a_reused_op_id_in_a_push_alone_is_refused_before_it_is_applied(hub, tmp_path):
    order = await post_order(hub, order_body("R-2", [("MILK-1L", 2)]))
    first, second = await _devices(hub, tmp_path, 2)
    used = pick_op(first.id, 1, order)
    await ops.push(hub.db, first, [Op(**used)])

    answers = await ops.push(hub.db, second, [Op(**pick_op(second.id, 1, order, op_id=used["op_id"]))])

    assert [(r.status.value, r.reason_code) for r in answers] == [("rejected", "op_id_reused")]
    assert await count(hub, f"movements WHERE order_id = '{order['id']}'") == 1
