"""What the hub answered, per operator: refusals are sync issues, follow-ups (an op
that stood and made work for someone) are routine reading; each is the business of
the operator whose op it was, and goes away when they have read it."""

from __future__ import annotations

from datetime import datetime, timezone

from edge_app.agent import RoundReport
from edge_app.local import outbox
from edge_app.sync_loop import SyncStatus
from edge_app.ui.status_bar import after_sync_now
from sync.models import OpResult, OpStatus
from tests.unit.floor_store import store


def answered(replica, actor: str, status: OpStatus, compensations=()) -> int:
    with replica.transaction() as conn:
        op = outbox.record_op(conn, "task.done", {"task_id": 1, "kind": "put_back", "sentence": "x"}, actor,
                              outbox.PendingEffect())
        outbox.apply_results(conn, [OpResult(op_id=op.op_id, device_seq=op.device_seq, status=status,
                                             reason_code="unknown_task" if status == OpStatus.REJECTED else None,
                                             compensations=list(compensations))])
    return op.device_seq


def test_refusals_and_follow_ups_are_each_operators_own_and_go_once_read(tmp_path):
    replica = store(tmp_path / "d")
    mine = answered(replica, "P1", OpStatus.REJECTED)
    answered(replica, "K1", OpStatus.REJECTED)
    answered(replica, "P1", OpStatus.APPLIED, [{"kind": "put_back", "sentence": "Put 1 back"}])
    answered(replica, "P1", OpStatus.APPLIED)  # nothing to follow up
    with replica.transaction() as conn:
        assert [r["actor"] for r in outbox.refusals(conn, "P1")] == ["P1"]  # not K1's
        assert len(outbox.refusals(conn)) == 2  # a supervisor sees both
        assert [r["actor"] for r in outbox.follow_ups(conn, "P1")] == ["P1"]
        assert outbox.follow_ups(conn, "K1") == []
        outbox.dismiss(conn, mine)
        assert outbox.refusals(conn, "P1") == []
        assert len(outbox.rejections(conn)) == 3  # the full history stays


def test_sync_now_says_what_happened():
    offline = SyncStatus(online=False, last_error="hub not reachable: ConnectError: refused", outbox_depth=3, rounds=2)
    assert after_sync_now(offline) == ("Could not reach the hub (ConnectError: refused). Keep working offline. "
                                       "3 actions are saved on this device and go when the hub is back.")
    online = SyncStatus(online=True, last_sync_at=datetime.now(timezone.utc), outbox_depth=0,
                        last_report=RoundReport(pushed=2, pulled=5), rounds=3)
    assert after_sync_now(online) == "Synced: 2 sent, 5 received. Nothing waits to be sent."
    refused = SyncStatus(online=False, last_error="hub refused POST /v1/ops: 401 unknown token")
    assert after_sync_now(refused).startswith("The hub refused this device")


def test_the_status_bar_after_a_restart_knows_the_last_sync_and_what_waits(tmp_path):
    from edge_app.ui.runtime import FloorRuntime

    replica = store(tmp_path / "d")
    replica.set_meta("last_sync_at", "2026-12-05T06:00:00+00:00")
    with replica.transaction() as conn:
        outbox.record_op(conn, "task.done", {"task_id": 1, "kind": "put_back", "sentence": "x"}, "P1", outbox.PendingEffect())
    replica.close()
    runtime = FloorRuntime(str(tmp_path / "d"))
    try:
        status = runtime.board.status
        assert status.outbox_depth == 1 and status.last_sync_at == datetime(2026, 12, 5, 6, tzinfo=timezone.utc)
    finally:
        runtime.replica.close()
