"""Escrow through a restore: a terminal's order confirmed offline from a grant that a hub
restored from an older backup has forgotten is honoured once, on the hub's own signed
word (sync.escrow_evidence); evidence the hub did not sign, or signed for another
device or SKU, is refused at the door and never creates stock."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from edge_app.local import recovery
from edge_app.workflows.quick_orders import take_order
from hub.domain.stock import commitments
from hub.seed import DARK_STORE
from hub.verify import replay
from tests.integration.test_escrow import terminal, web_order
from tests.integration.test_sync_disasters import Backups, _reconnect

pytestmark = pytest.mark.anyio


def _payload(device, device_seq: int) -> dict:
    return json.loads(device.replica.query_one("SELECT payload FROM outbox WHERE device_seq = ?", (device_seq,))["payload"])


def _rewrite(device, device_seq: int, payload: dict) -> None:
    """What another app wrote at that number (the op was never sent)."""
    device.replica.conn.execute("UPDATE outbox SET payload = ? WHERE device_seq = ?", (json.dumps(payload), device_seq))


def _last_seq(device) -> int:
    return device.replica.query_one("SELECT MAX(device_seq) AS n FROM outbox")["n"]


@pytest.mark.parametrize("web_units, evidence, answer, over", [
    (10, True, "applied", 4),  # the stock was promised again meanwhile: honoured, a supervisor is told
    (0, True, "applied", 0),  # the stock is still free: honoured, stock honest
    (10, False, "escrow_lapsed", 0),  # an app before evidence: refused as before
], ids=["stock-moved", "stock-free", "old-op"])
async def test_an_order_confirmed_from_a_grant_the_restored_hub_forgot_is_honoured_once(
        hub, tmp_path, hub_db_url, web_units, evidence, answer, over):
    backups = Backups(hub_db_url)
    device = await hub.device(tmp_path / "t", location=DARK_STORE, role="terminal")
    hub = backups.take(hub, tmp_path / "last-night.db")  # the terminal enrolled, granted nothing yet
    _reconnect(device, hub)
    await device.sync()  # the grant: 5 × MILK-1L
    taken = take_order(device.replica, [("MILK-1L", 5)], "walk-in", "dana")  # confirmed offline
    seq = _last_seq(device)
    assert taken.guaranteed and [e["sku"] for e in _payload(device, seq)["allotment_evidence"]] == ["MILK-1L"]
    if not evidence:
        _rewrite(device, seq, {k: v for k, v in _payload(device, seq).items() if k != "allotment_evidence"})
    assert (await device.sync()).rejected == []  # applied from the allotment, acknowledged, then the hub fails

    hub = backups.restore(hub, tmp_path / "last-night.db")
    _reconnect(device, hub)
    for n in range(web_units // 2):  # the restored hub takes web orders before the terminal is back
        assert (await web_order(hub, f"WEB-{n}", 2))["status"] == "released"
    report = await device.sync()

    assert report.out_of_step[0] == "hub_behind_device" and report.resent == 1
    with device.replica.transaction() as conn:
        told = recovery.resent(conn)
    assert [r["state"] if r["state"] != "rejected" else r["reason_code"] for r in told] == [answer]
    with hub.db.read() as conn:
        held = conn.execute(text("SELECT COALESCE(SUM(qty), 0) FROM reservations WHERE order_id = :o"),
                            {"o": taken.order_id}).scalar_one()
        conflicts = conn.execute(text("SELECT inputs, outcome FROM conflicts WHERE rule = 'escrow_regranted'")).all()
        tasks = [r.sentence for r in conn.execute(text("SELECT sentence FROM tasks WHERE kind = 'escrow_over'"))]
        milk = commitments(conn, DARK_STORE, "MILK-1L")
    if answer == "applied":
        assert held == 5  # once
        assert len(conflicts) == 1 and json.loads(conflicts[0].inputs)["regranted"] == {"MILK-1L": 5}
        assert json.loads(conflicts[0].inputs)["over"] == ({"MILK-1L": over} if over else {})
    else:
        assert held == 0 and conflicts == []
    if over:
        assert tasks == [f"Escrow honoured after restore: {over} × MILK-1L over what the store holds. "
                         "Check MILK-1L's stock and the orders waiting on it."]
        assert milk.reserved == web_units + 5 and milk.free == -over
    else:
        assert tasks == [] and milk.free >= 0  # nothing promised beyond the stock
    await device.sync()
    assert replay(hub.db).same
    hub.db.dispose()


def _forge(evidence: dict, other: dict) -> dict[str, tuple[dict, str]]:
    """Evidence the way a forger would change it, and the refusal each gets."""
    return {
        "bumped qty": ({**evidence, "granted": 500}, "allotment_evidence_forged"),
        "bad signature": ({**evidence, "mac": "0" * 32}, "allotment_evidence_forged"),
        "unknown key": ({**evidence, "key_id": "zz"}, "allotment_evidence_forged"),
        "other device": (other, "allotment_evidence_mismatch"),
        "other sku": ({**evidence, "sku": "COFFEE-250"}, "allotment_evidence_forged"),
    }


async def test_forged_or_foreign_allotment_evidence_is_refused_and_creates_no_stock(hub, tmp_path):
    device, other = await terminal(hub, tmp_path / "t"), await terminal(hub, tmp_path / "o")
    theirs = json.loads(other.replica.query_one("SELECT evidence FROM allotments WHERE sku = 'MILK-1L'")["evidence"])
    coffee = json.loads(device.replica.query_one("SELECT evidence FROM allotments WHERE sku = 'COFFEE-250'")["evidence"])
    forged = _forge(json.loads(device.replica.query_one("SELECT evidence FROM allotments WHERE sku = 'MILK-1L'")["evidence"]), theirs)
    forged["evidence for an item not ordered"] = (coffee, "allotment_evidence_mismatch")
    for n, (evidence, _code) in enumerate(forged.values()):
        take_order(device.replica, [("MILK-1L", 1)], f"walk-in {n}", "dana")
        seq = _last_seq(device)
        # 50 units drawn on evidence: only a genuine forgotten grant could cover them
        _rewrite(device, seq, {**_payload(device, seq), "lines": [{"sku": "MILK-1L", "qty": 50}],
                               "from_allotment": True, "allotment_evidence": [evidence]})

    report = await device.sync()

    assert [(r["reason_code"], r["message"].split(":")[0]) for r in report.rejected] == [
        (code, "payload.allotment_evidence.0") for _evidence, code in forged.values()]
    assert "not signed by this hub" in report.rejected[0]["message"]
    assert "names a key this hub does not have" in report.rejected[2]["message"]
    assert "another device or location" in report.rejected[3]["message"]
    with hub.db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM orders WHERE channel LIKE 'terminal%'")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM conflicts WHERE rule = 'escrow_regranted'")).scalar_one() == 0
    assert granted(hub, device) == logged_grants(hub, device)  # every unit it holds, granted by a logged grant
    assert commitments_at(hub, "MILK-1L").reserved == 0
    assert replay(hub.db).same


async def test_genuine_evidence_re_grants_nothing_the_hub_still_remembers(hub, tmp_path):
    """No restore: the order asks more than the allotment the hub granted and remembers,
    so its genuine evidence re-grants nothing and the order meets the store's free stock."""
    device = await terminal(hub, tmp_path / "t")
    taken = take_order(device.replica, [("MILK-1L", 5)], "walk-in", "dana")
    seq = _last_seq(device)
    _rewrite(device, seq, {**_payload(device, seq), "lines": [{"sku": "MILK-1L", "qty": 12}]})
    assert taken.guaranteed

    report = await device.sync()

    assert [r["reason_code"] for r in report.rejected] == ["escrow_lapsed"]
    assert granted(hub, device) == logged_grants(hub, device)
    with hub.db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM conflicts WHERE rule = 'escrow_regranted'")).scalar_one() == 0
    assert replay(hub.db).same


def commitments_at(hub, sku: str):
    with hub.db.read() as conn:
        return commitments(conn, DARK_STORE, sku)


def granted(hub, device) -> dict[str, int]:
    with hub.db.read() as conn:
        return dict(conn.execute(text("SELECT sku, granted FROM allotments WHERE device_id = :d"),
                                 {"d": device.replica.get_meta("device_id")}).all())


def logged_grants(hub, device) -> dict[str, int]:
    grants: dict[str, int] = {}
    with hub.db.read() as conn:
        for row in conn.execute(text("SELECT payload FROM op_log WHERE kind = 'allotment.granted'")):
            p = json.loads(row.payload)
            if p["device_id"] == device.replica.get_meta("device_id"):
                grants[p["sku"]] = grants.get(p["sku"], 0) + p["qty"]
    return grants
