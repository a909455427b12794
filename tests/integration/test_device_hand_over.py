"""A swapped handheld (issue 22): the old device's unfinished work (its pick claims, its
allotments, the open tasks given to it) moves to the new one only through an explicit,
logged hand-over that revokes the old one; the new device sees the work through its
feed; the old one, if it comes back, has its unsent ops refused with the reason; the
audit trail says who handed over what; and the log replays to the same state."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from backroom_cli import cli
from edge_app.errors import HubRefused
from edge_app.local import outbox
from edge_app.workflows.picking import claim_order, claim_state
from edge_app.workflows.quick_orders import take_order
from edge_app.workflows.tasks import open_tasks
from hub.api.callers import forget_callers
from hub.domain.stock import commitments
from hub.log import run_hub_command
from hub.seed import DARK_STORE
from hub.verify import replay
from tests.integration.conftest import Device, Hub
from tests.integration.test_sync_disasters import _order_ids, _pick

pytestmark = pytest.mark.anyio


def _id(device: Device) -> str:
    return device.replica.get_meta("device_id") or ""


def _audit(hub: Hub, action: str) -> list[tuple[str, str, dict]]:
    with hub.db.read() as conn:
        rows = conn.execute(text("SELECT actor, target, detail FROM audit WHERE action = :a ORDER BY id"), {"a": action}).all()
    return [(r.actor, r.target, json.loads(r.detail or "{}")) for r in rows]


def _task_given_to(hub: Hub, device: Device) -> int:
    """An open put-back task (from an over-pick) that an administrator gave to `device`."""
    with hub.db.write() as conn:
        task_id = conn.execute(text("SELECT id FROM tasks WHERE status = 'open' ORDER BY id")).scalars().first()
        assert task_id is not None
        run_hub_command(conn, "task.assigned", {"task_id": task_id, "to": _id(device)}, "tests")
    return int(task_id)


async def _hand_over(hub: Hub, old: Device, new: Device) -> dict:
    async with hub.admin() as admin:
        answer = await admin.post(f"/v1/devices/{_id(old)}/hand-over", json={"to": _id(new)})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_swapped_handheld_takes_over_the_old_ones_claims_and_tasks_and_the_old_one_is_refused(hub, tmp_path):
    old, new = await hub.device(tmp_path / "old", name="old-scanner"), await hub.device(tmp_path / "new", name="new-scanner")
    await old.sync()
    await new.sync()
    orders = _order_ids(old)
    claimed, other = orders[0], orders[1]
    claim_order(old.replica, claimed, "pat")
    for _ in range(4):  # more than the line holds: the excess makes a put-back task
        _pick(old, other)
    await old.sync()
    task_id = _task_given_to(hub, old)
    _pick(old, claimed)  # recorded on the old handheld, never sent: it is dropped on the floor
    held = outbox.pending_ops(old.replica.conn, 10)
    await new.sync()
    assert claim_state(new.replica, claimed).state == "other"

    moved = await _hand_over(hub, old, new)

    number = old.replica.query_one("SELECT number FROM orders WHERE id = ?", (claimed,))["number"]
    assert moved["claims"] == [number] and moved["tasks"] == [task_id] and moved["allotments"] == {}
    await new.sync()
    assert claim_state(new.replica, claimed).state == "mine"  # the new handheld carries on picking it
    assert open_tasks(new.replica)[0].id == task_id and open_tasks(new.replica)[0].assigned_to == _id(new)
    with pytest.raises(HubRefused, match=f"revoked on the hub and its unfinished work handed over to device {_id(new)}"):
        await old.sync()
    assert outbox.pending_ops(old.replica.conn, 10) == held  # refused, not lost: they stay on the old handheld
    for _ in range(12):  # the old handheld keeps trying, past the failed-sign-in limit of an address
        with pytest.raises(HubRefused):
            await old.sync()
    assert (await new.sync()).pulled >= 0  # the store's other devices, behind the same address, are not locked out
    with hub.db.read() as conn:
        logged = conn.execute(text("SELECT COUNT(*) FROM op_log WHERE device_id = :d"), {"d": _id(old)}).scalar_one()
    assert logged == 5  # the claim and four picks: nothing of what it held unsent
    ((actor, target, detail),) = _audit(hub, "device.handed_over")
    assert (actor, target) == ("admin:tests", _id(old))
    assert (detail["to_device"], detail["claims"], detail["tasks"]) == (_id(new), [number], [task_id])
    assert [t for _a, t, _d in _audit(hub, "device.revoked")] == [_id(old)]
    assert replay(hub.db).same


async def test_a_swapped_terminal_takes_over_the_old_ones_allotments_by_the_cli(hub, tmp_path, hub_db_url):
    old = await hub.device(tmp_path / "old", location=DARK_STORE, role="terminal")
    await old.sync()
    new = await hub.device(tmp_path / "new", location=DARK_STORE, role="terminal")  # out of its box, never synced
    take_order(old.replica, [("MILK-1L", 1)], "Walk-in", "kim")  # confirmed offline from its allotment, never sent
    with hub.db.read() as conn:
        allotted = commitments(conn, DARK_STORE, "MILK-1L").allotted
        held = dict(conn.execute(text("SELECT sku, granted - used - released FROM allotments WHERE device_id = :d"),
                                 {"d": _id(old)}).all())
    assert held["MILK-1L"] == 5

    result = CliRunner().invoke(cli, ["hub", "device", "hand-over", "--db", hub_db_url, "--from", _id(old), "--to", _id(new)])

    assert result.exit_code == 0, result.output
    assert f"device {_id(old)} revoked; handed over from {_id(old)} to {_id(new)}" in result.output
    forget_callers(hub.app)  # the CLI is another process: the app's token cache would forget within seconds
    with hub.db.read() as conn:
        rows = conn.execute(text("SELECT device_id, granted - used - released FROM allotments WHERE sku = 'MILK-1L'")).all()
        assert commitments(conn, DARK_STORE, "MILK-1L").allotted == allotted  # moved, not granted twice
    assert dict(rows) == {_id(old): 0, _id(new): 5}
    await new.sync()
    assert {r["sku"]: r["outstanding"] for r in new.replica.query("SELECT sku, outstanding FROM allotments")} == held
    with pytest.raises(HubRefused, match="handed over"):
        await old.sync()
    assert [op.kind for op in outbox.pending_ops(old.replica.conn, 10)] == ["reservation.requested"]
    ((actor, _target, detail),) = _audit(hub, "device.handed_over")
    assert actor == "cli" and detail["allotments"] == held
    assert replay(hub.db).same


async def test_a_hand_over_names_what_is_wrong_and_changes_nothing(hub, tmp_path, hub_db_url):
    picker = await hub.device(tmp_path / "p")
    terminal = await hub.device(tmp_path / "t", location=DARK_STORE, role="terminal")
    runner = CliRunner()

    def hand_over(source: str, target: str) -> str:
        result = runner.invoke(cli, ["hub", "device", "hand-over", "--db", hub_db_url, "--from", source, "--to", target])
        assert result.exit_code != 0
        return result.output

    assert "same role at the same location" in hand_over(_id(picker), _id(terminal))
    assert "is the device handing over" in hand_over(_id(picker), _id(picker))
    assert "no device 'nobody'" in hand_over(_id(picker), "nobody")
    assert _audit(hub, "device.handed_over") == [] and _audit(hub, "device.revoked") == []
    await picker.sync()  # still enrolled
