"""Anomalies on the hub, both backends: a bin counted off the books again and again is
raised once by a refresh, with its evidence; the anomaly policy asks for a recount in
the same logged command; the outbox tells it; GET /v1/anomalies pages and filters it
and scopes it to a device's location; the console lists it; it clears when the counts
leave the window; the log replays to the same state."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from hub.errors import Invalid
from hub.events.stream import envelope, page
from hub.insight.anomalies import refresh, set_policy
from hub.log import hub_hlc
from hub.seed import DARK_STORE, DEMO_LOCATION
from hub.verify import replay
from sync.hlc import Timestamp
from sync.kinds import SCHEMA_VERSION
from tests.integration.conftest import HUB_URL
from tests.integration.test_authority import push, scalar
from tests.integration.test_console import signed_in
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio

KEY = f"bin_accuracy:{DEMO_LOCATION}:A-01-1/MILK-1L"


def count_op(device, seq: int, bin_code: str, sku: str, counted: int) -> dict:
    """A count stamped after the hub's clock (which a device ahead in another test may
    have moved past the wall), so it is a snapshot after the seeded receipts."""
    device_id = device.replica.get_meta("device_id")
    wall = max(int(time.time() * 1000), Timestamp.decode(hub_hlc()).wall_ms) + seq
    return {"op_id": str(uuid.uuid4()), "device_id": device_id, "device_seq": seq, "kind": "count.recorded",
            "payload": {"bin": bin_code, "sku": sku, "counted": counted}, "actor": "tester",
            "hlc": f"{wall:015d}:000000:{device_id}", "schema_version": SCHEMA_VERSION}


def on_hand(hub, bin_code: str, sku: str) -> int:
    return int(scalar(hub, "SELECT on_hand FROM stock WHERE location = :l AND bin = :b AND sku = :s",
                      l=DEMO_LOCATION, b=bin_code, s=sku))


async def miscount_a_bin(hub, tmp_path) -> None:
    """Three counts of MILK-1L in A-01-1 each 2 short of the books; the store's other
    bins counted right three times each."""
    counter = await hub.device(tmp_path / "counter", role="associate")
    with hub.db.read() as conn:
        others = conn.execute("SELECT bin, sku FROM stock WHERE location = :l AND on_hand > 0 AND bin <> 'A-01-1' "
                              "ORDER BY bin, sku LIMIT 2", {"l": DEMO_LOCATION}).tuples()
    seq = 0
    for _round in range(3):
        seq += 1
        await push(hub, counter, [count_op(counter, seq, "A-01-1", "MILK-1L", on_hand(hub, "A-01-1", "MILK-1L") - 2)])
        for bin_code, sku in others:
            seq += 1
            await push(hub, counter, [count_op(counter, seq, bin_code, sku, on_hand(hub, bin_code, sku))])


def anomaly_events(hub) -> list[dict]:
    with hub.db.read() as conn:
        return [e for e in map(envelope, page(conn, 0, 100_000)) if e["type"].startswith("backroom.anomaly.")]


async def test_a_miscounted_bin_is_raised_once_with_evidence_and_the_policy_asks_for_a_recount(hub, tmp_path):
    with hub.db.write() as conn:
        set_policy(conn, [{"kind": "bin_accuracy", "below": 0.8, "action": "recount"}], "tests", "tests")
    await miscount_a_bin(hub, tmp_path)
    recounts_before = scalar(hub, "SELECT COUNT(*) FROM tasks WHERE kind = 'recount' AND details LIKE '%anomaly%'")
    counts = refresh(hub.db)
    assert counts["raised"] >= 1 and refresh(hub.db)["raised"] == 0  # raised once
    with hub.db.read() as conn:
        row = conn.execute("SELECT * FROM anomalies WHERE key = :k", {"k": KEY}).mappings().one()
    assert row["status"] == "open" and row["kind"] == "bin_accuracy"
    assert row["evidence"].startswith("3 of 3 counts of MILK-1L in bin A-01-1 were off the books (accuracy 0 %")
    assert "variances -2, -2, -2, net -6 units" in row["evidence"]
    assert row["action"] == "recount of MILK-1L in bin A-01-1 asked for"
    assert recounts_before == 0
    assert scalar(hub, "SELECT COUNT(*) FROM tasks WHERE kind = 'recount' AND status = 'open' "
                       "AND details LIKE :k", k=f"%{KEY}%") == 1
    raised = [e for e in anomaly_events(hub) if e.get("subject") == KEY]
    assert [e["type"] for e in raised] == ["backroom.anomaly.raised"] and raised[0]["location"] == DEMO_LOCATION
    assert raised[0]["data"]["numbers"]["off"] == 3
    assert replay(hub.db).same


async def test_the_api_pages_filters_and_scopes_anomalies_and_they_clear_when_gone(hub, tmp_path):
    await miscount_a_bin(hub, tmp_path)
    now = datetime.now(timezone.utc)
    refresh(hub.db, now)
    refresh(hub.db, now + timedelta(hours=2))  # the seeded orders have not moved for two hours: stuck
    async with hub.admin() as admin:
        everything = (await admin.get("/v1/anomalies", params={"status": "open"})).json()
        assert KEY in {a["key"] for a in everything["items"]} and len(everything["items"]) >= 2
        first = (await admin.get("/v1/anomalies", params={"limit": 1})).json()
        second = (await admin.get("/v1/anomalies", params={"limit": 1, "after": first["next"]})).json()
        assert first["next"] and first["items"][0]["key"] != second["items"][0]["key"]
        bins = (await admin.get("/v1/anomalies", params={"kind": "bin_accuracy"})).json()["items"]
        assert [a["key"] for a in bins] == [KEY] and bins[0]["numbers"]["accuracy"] == 0.0
        assert (await admin.get("/v1/anomalies", params={"kind": "nonsense"})).status_code == 422
        assert (await admin.get("/v1/anomalies", params={"after": "x!"})).status_code == 422
        metrics = (await admin.get("/metrics")).text
    assert f'backroom_open_anomalies{{kind="bin_accuracy",location="{DEMO_LOCATION}"}} 1' in metrics
    here = await hub.device(tmp_path / "sup", role="supervisor")
    there = await hub.device(tmp_path / "far", location=DARK_STORE, role="supervisor")
    picker = await hub.device(tmp_path / "pick")
    assert KEY in {a["key"] for a in (await _get(hub, here, "/v1/anomalies")).json()["items"]}
    assert (await _get(hub, there, "/v1/anomalies")).json()["items"] == []  # another location's do not exist for it
    assert (await _get(hub, picker, "/v1/anomalies")).status_code == 403
    counts = refresh(hub.db, now + timedelta(days=30))  # the counts have left the window
    assert counts["cleared"] >= 1
    assert scalar(hub, "SELECT status FROM anomalies WHERE key = :k", k=KEY) == "cleared"
    assert [e["type"] for e in anomaly_events(hub) if e.get("subject") == KEY][-1] == "backroom.anomaly.cleared"
    assert replay(hub.db).same


async def test_the_console_lists_anomalies_to_those_who_see_their_location(hub, tmp_path):
    await miscount_a_bin(hub, tmp_path)
    refresh(hub.db)
    client, _csrf = await signed_in(hub)
    html = (await client.get("/console/anomalies")).text
    assert "3 of 3 counts of MILK-1L in bin A-01-1 were off the books" in html
    assert 'href="/console/anomalies"' in html and "bin accuracy" in html
    assert "3 of 3 counts" in (await client.get("/console/anomalies", params={"kind": "bin_accuracy"})).text
    assert "No anomaly matches." in (await client.get("/console/anomalies", params={"status": "cleared"})).text
    assert "No anomaly policy is set" in html
    with hub.db.write() as conn:
        set_policy(conn, [{"kind": "bin_accuracy", "below": 0.8, "action": "recount"}], "weak bins", "tests")
    html = (await client.get("/console/anomalies")).text
    assert "Policy version 1" in html and "bin accuracy below 80 %: recount" in html
    manager, _ = await signed_in(hub, "sam", "store_manager", (DARK_STORE,))
    assert "3 of 3 counts" not in (await manager.get("/console/anomalies")).text


async def test_a_short_spike_policy_raises_safety_stock_where_it_was_short_and_replays(hub):
    with hub.db.write() as conn:
        set_policy(conn, [{"kind": "short_spike", "action": "raise_safety_stock", "by": 2}], "tests", "tests")
        with pytest.raises(Invalid, match="recount needs a bin"):
            set_policy(conn, [{"kind": "stuck_order", "action": "recount"}], "", "tests")
    from hub.log import run_hub_command

    with hub.db.write() as conn:
        run_hub_command(conn, "anomaly.raised", {
            "key": "short_spike:*:OATS-500", "kind": "short_spike", "subject": "OATS-500", "evidence": "a spike",
            "numbers": {"sku": "OATS-500", "locations": [DEMO_LOCATION, DARK_STORE]}, "at": "2026-12-05T10:00:00+00:00"})
    assert scalar(hub, "SELECT safety_stock FROM stock_policy WHERE location = :l AND sku = 'OATS-500'", l=DEMO_LOCATION) == 2
    action = scalar(hub, "SELECT action FROM anomalies WHERE key = 'short_spike:*:OATS-500'")
    assert f"safety stock of OATS-500 at {DEMO_LOCATION} raised by 2 to 2" in action
    with hub.db.write() as conn:  # it clears and comes back two days later: no second raise
        run_hub_command(conn, "anomaly.cleared", {"key": "short_spike:*:OATS-500", "at": "2026-12-06T10:00:00+00:00"})
        again = run_hub_command(conn, "anomaly.raised", {
            "key": "short_spike:*:OATS-500", "kind": "short_spike", "subject": "OATS-500", "evidence": "a spike",
            "numbers": {"sku": "OATS-500", "locations": [DEMO_LOCATION]}, "at": "2026-12-07T10:00:00+00:00"})
    assert again.message == "safety stock of OATS-500 left as it is: this anomaly was raised before on 2026-12-05 10:00"
    assert scalar(hub, "SELECT safety_stock FROM stock_policy WHERE location = :l AND sku = 'OATS-500'", l=DEMO_LOCATION) == 2
    assert replay(hub.db).same


async def _get(hub, device, path: str):
    import httpx

    headers = {"Authorization": f"Bearer {device.replica.get_meta('token')}"}
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport, headers=headers) as client:
        return await client.get(path)


def floor_op(device, seq: int, kind: str, payload: dict, ahead: timedelta = timedelta(0)) -> dict:
    device_id = device.replica.get_meta("device_id")
    wall = int((time.time() + ahead.total_seconds()) * 1000) + seq
    return {"op_id": str(uuid.uuid4()), "device_id": device_id, "device_seq": seq, "kind": kind, "payload": payload,
            "actor": "tester", "hlc": f"{wall:015d}:000000:{device_id}", "schema_version": SCHEMA_VERSION}


@pytest.fixture
def hub_clock_put_back():
    """A device 7 min ahead moves the process's hub clock ahead (hub.log.observe_hlc);
    the tests after this one start from where the clock was."""
    import hub.log

    saved = hub.log._clock.last
    yield
    hub.log._clock.last = saved


async def test_shorts_from_a_bin_the_books_say_holds_stock_and_a_clock_ahead_are_found(hub, tmp_path, hub_clock_put_back):
    picker = await hub.device(tmp_path / "picker")
    for seq, number in enumerate(("BW-1", "BW-2"), start=1):
        order = await post_order(hub, order_body(number, [("OATS-500", 1)]))
        line = order["lines"][0]
        await push(hub, picker, [floor_op(picker, seq, "pick.shorted", {
            "order_id": order["id"], "line_no": 1, "bin": line["pick_bin"], "sku": "OATS-500", "qty": 1,
            "reason": "empty_bin"}, ahead=timedelta(minutes=7))])
    refresh(hub.db)
    with hub.db.read() as conn:
        found = {r["kind"]: r for r in conn.execute("SELECT kind, subject, evidence FROM anomalies").mappings()}
    assert found["books_wrong"]["subject"] == f"{line['pick_bin']}/OATS-500"
    assert found["books_wrong"]["evidence"].startswith(f"2 shorts of OATS-500 from bin {line['pick_bin']} while the "
                                                       "books showed ")
    assert found["device_clock"]["evidence"].endswith("'s clock runs 7 min ahead of the hub's (its recent ops, "
                                                      "by their clock against when the hub applied them)")
    assert replay(hub.db).same


async def test_a_tally_kept_between_refreshes_reads_only_new_events_and_matches_a_fresh_read(hub, tmp_path):
    from hub.insight.anomalies import Tally, read_window

    tally = Tally()
    now = datetime.now(timezone.utc)
    with hub.db.read() as conn:
        assert tally.fold(conn, now).counts == []
    first = tally.position
    await miscount_a_bin(hub, tmp_path)
    with hub.db.read() as conn:
        kept, fresh = tally.fold(conn, now + timedelta(seconds=1)), read_window(conn, now + timedelta(seconds=1))
        again = tally.fold(conn, now + timedelta(seconds=2))
    assert tally.position > first and len(kept.counts) == len(fresh.counts) == 9
    assert sorted(map(repr, kept.counts)) == sorted(map(repr, fresh.counts)) and len(again.counts) == 9
    with hub.db.read() as conn:
        assert tally.fold(conn, now + timedelta(days=30)).counts == []  # left the window: forgotten
    counts = refresh(hub.db, now, tally=Tally())
    assert counts["raised"] >= 1, counts


async def test_raising_an_open_anomaly_again_does_nothing_twice_and_a_cleared_one_reopens(hub):
    from hub.log import run_hub_command

    with hub.db.write() as conn:
        set_policy(conn, [{"kind": "books_wrong", "action": "recount"}], "", "tests")
    raise_it = {"key": "books_wrong:DEMO-1:A-02-1/COFFEE-250", "kind": "books_wrong", "location": DEMO_LOCATION,
                "subject": "A-02-1/COFFEE-250", "evidence": "2 shorts", "numbers": {"sku": "COFFEE-250", "bin": "A-02-1"},
                "at": "2026-12-05T10:00:00+00:00"}
    with hub.db.write() as conn:
        first = run_hub_command(conn, "anomaly.raised", raise_it)
        again = run_hub_command(conn, "anomaly.raised", raise_it)
        run_hub_command(conn, "anomaly.cleared", {"key": raise_it["key"], "at": "2026-12-05T11:00:00+00:00"})
        not_open = run_hub_command(conn, "anomaly.cleared", {"key": raise_it["key"], "at": "2026-12-05T11:00:00+00:00"})
        reopened = run_hub_command(conn, "anomaly.raised", {**raise_it, "at": "2026-12-05T12:00:00+00:00"})
    assert first.message == "recount of COFFEE-250 in bin A-02-1 asked for" and len(first.compensations) == 1
    assert again.message == f"anomaly {raise_it['key']} is already open" and not again.compensations
    assert not_open.message == f"anomaly {raise_it['key']} was not open"
    assert not reopened.message and not reopened.compensations  # its recount is still open: not asked twice
    assert scalar(hub, "SELECT status FROM anomalies WHERE key = :k", k=raise_it["key"]) == "open"
    assert scalar(hub, "SELECT COUNT(*) FROM tasks WHERE kind = 'recount' AND details LIKE '%COFFEE-250%'") == 1
    assert replay(hub.db).same


async def test_the_relay_round_keeps_its_tally_and_starts_afresh_after_a_failure(hub, tmp_path, caplog):
    from hub.events.relay import _refresh_anomalies
    from hub.insight.anomalies import Tally

    await miscount_a_bin(hub, tmp_path)
    tally = await _refresh_anomalies(hub.db, None)
    assert isinstance(tally, Tally) and tally.position > 0
    assert scalar(hub, "SELECT COUNT(*) FROM anomalies WHERE key = :k", k=KEY) == 1
    assert await _refresh_anomalies(hub.db, tally) is tally

    class Broken:
        def read(self):
            raise RuntimeError("database gone")

    assert await _refresh_anomalies(Broken(), tally) is None  # type: ignore[arg-type]
    assert "anomalies: refresh failed (database gone)" in caplog.text


async def test_the_policy_is_read_and_set_over_the_api_by_an_admin_only(hub, tmp_path):
    async with hub.admin() as admin:
        assert (await admin.get("/v1/admin/anomaly-policy")).json()["version"] == 0
        made = await admin.post("/v1/admin/anomaly-policy", json={
            "rules": [{"kind": "short_spike", "action": "raise_safety_stock", "by": 3}], "note": "busy season"})
        assert made.status_code == 201 and made.json()["version"] == 1
        assert made.json()["rules"] == [{"kind": "short_spike", "action": "raise_safety_stock", "by": 3}]
        wrong = await admin.post("/v1/admin/anomaly-policy", json={"rules": [{"kind": "device_clock", "action": "recount"}]})
        assert wrong.status_code == 422 and "recount needs a bin" in wrong.text
    supervisor = await hub.device(tmp_path / "sup", role="supervisor")
    assert (await _get(hub, supervisor, "/v1/admin/anomaly-policy")).status_code == 403
    assert replay(hub.db).same
