"""The hub is the authority over every op (issue 17, findings 1 and 2): hub commands
never from a device, each kind only from the device and operator roles the table in
sync.authority allows, entities only at the sender's location, privileged acts only
with a supervisor's proof. Refusals are logged answers: the queue moves on and the
log replays to the same state. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import uuid

import httpx
import pytest
from sqlalchemy import text

from edge_app.local import outbox
from edge_app.workflows.signin import sign_in_pin
from hub.authority import PROOF_FAILURES_LOCK
from hub.commands import operator_payload
from hub.seed import DARK_STORE, DEMO_LOCATION
from hub.verify import replay
from sync.authority import AUTHORITY, DEVICE_ROLES, HUB_COMMANDS, privileged_by_payload
from sync.kinds import SCHEMA_VERSION
from tests.integration.conftest import HUB_URL
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio

_seq = itertools.count(1)
AUTHORITY_CODES = {"hub_only", "role_not_allowed", "unknown_order", "unknown_bin", "unknown_task", "privilege_needed",
                   "operator_locked"}
SCOPE_CODES = {"order": "unknown_order", "bin": "unknown_bin", "task": "unknown_task"}


def op(device, kind: str, payload: dict, seq: int, actor: str = "tester", **extra) -> dict:
    device_id = device.replica.get_meta("device_id")
    return {"op_id": str(uuid.uuid4()), "device_id": device_id, "device_seq": seq, "kind": kind, "payload": payload,
            "actor": actor, "hlc": f"{1_700_000_000_000 + seq:015d}:000000:{device_id}", "schema_version": SCHEMA_VERSION,
            **extra}


async def push(hub, device, ops: list[dict]) -> list[dict]:
    headers = {"Authorization": f"Bearer {device.replica.get_meta('token')}"}
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport, headers=headers) as client:
        response = await client.post("/v1/ops", json={"ops": ops})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def scalar(hub, sql: str, **params):
    with hub.db.read() as conn:
        return conn.execute(text(sql), params).scalar()


async def supervisor_task(hub, tmp_path) -> dict:
    """An open recount task for a supervisor at the store: a count far off leaves one."""
    counter = await hub.device(tmp_path / "counter", role="associate")
    result, = await push(hub, counter, [op(counter, "count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": 900}, 1)])
    task, = result["compensations"]
    return {"task_id": task["details"]["task_id"], "kind": task["kind"], "sentence": task["sentence"]}


def payloads(order: dict, task: dict) -> dict[str, dict]:
    """A well-formed payload of every device kind, naming the store's order, bins and task."""
    line = order["lines"][0]
    sku, bin_code = line["sku"], line["pick_bin"]
    unique = uuid.uuid4().hex[:10]
    return {
        "pick.confirmed": {"order_id": order["id"], "line_no": 1, "bin": bin_code, "sku": sku, "qty": 1},
        "pick.shorted": {"order_id": order["id"], "line_no": 1, "bin": bin_code, "sku": sku, "qty": 1, "reason": "not_found"},
        "pick.claimed": {"order_id": order["id"]},
        "pick.released": {"order_id": order["id"]},
        "pack.carton_closed": {"order_id": order["id"], "carton_id": f"C{unique}", "carton_type": "S", "weight_g": 100,
                               "contents": [{"line_no": 1, "sku": sku, "qty": 1}]},
        "shipment.handed_to_carrier": {"order_id": order["id"], "carrier": "DHL", "cartons": [f"C{unique}"]},
        "pickup.handed_over": {"order_id": order["id"], "lines": [{"line_no": 1, "qty": 1}], "code_verified": True},
        "pickup.extended": {"order_id": order["id"], "pickup_by": "2030-01-01T00:00:00+00:00"},
        "order.staging_set": {"order_id": order["id"], "place": "SHELF-1"},
        "return.received": {"return_id": f"R{unique}", "order_id": order["id"],
                            "lines": [{"line_no": 1, "sku": sku, "qty": 1, "condition": "new", "disposition": "quarantine"}]},
        "refund.requested": {"order_id": order["id"], "line_no": 1, "qty": 1},
        "count.recorded": {"bin": bin_code, "sku": sku, "counted": 20},
        "stock.moved": {"from_bin": bin_code, "to_bin": "A-03-2" if bin_code != "A-03-2" else "A-03-1", "sku": sku, "qty": 1},
        "task.done": task,
        "reservation.requested": {"order_id": str(uuid.uuid4()), "number": f"T-{unique}", "fulfilment": "quick",
                                  "promised_by": "2030-01-01T00:00:00+00:00", "lines": [{"sku": "MILK-1L", "qty": 1}],
                                  "from_allotment": False},
        "allotment.released": {"sku": "MILK-1L", "qty": 1},
        # receiving
        "goods.received": {"bin": bin_code, "sku": sku, "qty": 1, "reference": "DN-1"},
        # routing: a line the order does not have, so the order stays for the other kinds
        "order.rejected": {"order_id": order["id"], "line_no": 999, "reason": "no staff"},
        # substitution at pick: a line the order does not have, so the order stays for the other kinds
        "pick.substituted": {"order_id": order["id"], "line_no": 999, "sku": sku, "substitute_sku": "CHOC-DARK",
                             "bin": bin_code, "qty": 1},
    }


def expected_refusal(kind: str, role: str, away: bool, payload: dict) -> str | None:
    """What sync.authority's table says this sender gets: an authority refusal, or None."""
    rule = AUTHORITY[kind]
    if rule.hub_only:
        return "hub_only"
    if role not in rule.device_roles:
        return "role_not_allowed"
    if away and rule.scope:
        return SCOPE_CODES[rule.scope[0].entity]
    if privileged_by_payload(kind, payload) or rule.privileged_when == "supervisor_task":
        return "privilege_needed"  # no proof: these ops name no signed-in supervisor
    return None


async def test_every_kind_from_every_device_role_at_home_and_away_is_answered_as_the_table_says(hub, tmp_path):
    order = await post_order(hub, order_body("AUTH-1", [("MILK-1L", 5)]))
    task = await supervisor_task(hub, tmp_path)
    checked = 0
    for role, location in itertools.product(DEVICE_ROLES, (DEMO_LOCATION, DARK_STORE)):
        device = await hub.device(tmp_path / f"{role}-{location}", location=location, role=role)
        shapes = payloads(order, task)
        kinds = sorted(AUTHORITY)
        ops = [op(device, kind, shapes.get(kind, {"anything": 1}), seq) for seq, kind in enumerate(kinds, start=1)]
        results = await push(hub, device, ops)
        assert len(results) == len(kinds)
        for kind, sent, result in zip(kinds, ops, results):
            want = expected_refusal(kind, role, location != DEMO_LOCATION, sent["payload"])
            where = f"{kind} from a {role} device at {location}"
            if want is None:
                assert result["reason_code"] not in AUTHORITY_CODES, f"{where}: {result}"
            else:
                assert (result["status"], result["reason_code"]) == ("rejected", want), f"{where}: {result}"
            checked += 1
    assert checked == len(AUTHORITY) * len(DEVICE_ROLES) * 2
    assert replay(hub.db).same


async def test_a_picker_handheld_can_push_no_hub_command_and_the_queue_moves_on(hub, tmp_path):
    order = await post_order(hub, order_body("AUTH-2", [("MILK-1L", 2)]))
    picker = await hub.device(tmp_path / "p")
    operators_before = scalar(hub, "SELECT COUNT(*) FROM operators")
    forged = {
        "operator.upserted": operator_payload("S9", "Mallory", "supervisor", DEMO_LOCATION, "000000"),
        "stock.received": {"location": DARK_STORE, "bin": "DS-01", "sku": "MILK-1L", "qty": 500},
        "order.cancelled": {"order_id": order["id"], "reason": "x"},
        "order.accepted": {"id": "chosen-id", "created_at": "2026-01-01T00:00:00+00:00", "order": order_body("F-1", [("MILK-1L", 1)])},
        "location.added": {"code": "EVIL", "name": "Evil", "kind": "store"},
        "bin.added": {"location": DEMO_LOCATION, "code": "Z-99", "seq": 1},
        "catalogue.item_upserted": {"sku": "MILK-1L", "name": "Free milk", "barcodes": []},
        "stock.policy_set": {"location": DEMO_LOCATION, "sku": "MILK-1L", "safety_stock": 0, "escrow_floor": 0},
        "allotment.granted": {"device_id": "other", "location": DARK_STORE, "sku": "MILK-1L", "qty": 5, "target": 5,
                              "expires_at": "2030-01-01T00:00:00+00:00"},
        "allotment.reclaimed": {"device_id": "other", "sku": "MILK-1L", "qty": 1},
        "pickup.expired": {"order_id": order["id"], "at": "2030-01-01T00:00:00+00:00"},
        "operator.disabled": {"operator_id": "S1"},
        "operator.removed": {"operator_id": "S1"},
        "task.assigned": {"task_id": 1, "to": "P1"},
        "task.closed": {"task_id": 1, "note": "done"},
        "conflict.resolved": {"conflict_id": 1, "note": "done", "by": "P1", "at": "2030-01-01T00:00:00+00:00"},
        "op.reviewed": {"op_id": "x", "note": "done", "by": "P1", "at": "2030-01-01T00:00:00+00:00"},
        # set-up
        "location.updated": {"code": DEMO_LOCATION, "name": "Evil"},
        "catalogue.items_imported": {"items": [{"sku": "MILK-1L", "name": "Free milk"}]},
        "bins.imported": {"bins": [{"location": DEMO_LOCATION, "code": "Z-99", "seq": 1}]},
        "stock.adjusted": {"location": DEMO_LOCATION, "bin": "A-01", "sku": "MILK-1L", "qty": 500, "reason": "found"},
        "stock.snapshot_imported": {"location": DEMO_LOCATION, "rows": [{"bin": "A-01", "sku": "MILK-1L", "on_hand": 500}]},
        "transfer.shipped": {"transfer_id": "T-EVIL", "from_location": DEMO_LOCATION, "to_location": DARK_STORE,
                             "lines": [{"bin": "A-01", "sku": "MILK-1L", "qty": 1}]},
        "transfer.received": {"transfer_id": "T-EVIL", "bin": "DS-01"},
        # events and foresight
        "order.risk_assessed": {"order_id": order["id"], "level": "ok", "reason": "x", "at": "2030-01-01T00:00:00+00:00"},
        "device.status_set": {"device_id": "other", "location": DEMO_LOCATION, "online": False, "unsent_ops": 0,
                              "at": "2030-01-01T00:00:00+00:00"},
        # routing
        "location.profile_set": {"code": DEMO_LOCATION, "lat": 0.0, "lon": 0.0},
        "routing.policy_set": {"policy": {"rules": []}},
        "order.released": {"order_id": order["id"], "at": "2030-01-01T00:00:00+00:00"},
        "order.reassigned": {"order_id": order["id"], "location": DARK_STORE, "at": "2030-01-01T00:00:00+00:00"},
        "routing.rebrokered": {"at": "2030-01-01T00:00:00+00:00"},
        # substitution at pick
        "catalogue.substitutes_set": {"sku": "MILK-1L", "substitutes": ["CHOC-DARK"]},
        # sync: a picker forging a hand-over to itself, to take another handheld's claims and leases
        "device.work_handed_over": {"from_device": "other", "to_device": picker.replica.get_meta("device_id"),
                                    "location": DEMO_LOCATION},
        # anomalies: a forged policy would raise safety stock; a forged raise would ask for recounts
        "anomaly.raised": {"key": "books_wrong:DEMO-1:A-01/MILK-1L", "kind": "books_wrong", "location": DEMO_LOCATION,
                           "subject": "A-01/MILK-1L", "evidence": "forged", "numbers": {"sku": "MILK-1L", "bin": "A-01"},
                           "at": "2030-01-01T00:00:00+00:00"},
        "anomaly.cleared": {"key": "books_wrong:DEMO-1:A-01/MILK-1L", "at": "2030-01-01T00:00:00+00:00"},
        "anomaly.policy_set": {"rules": [{"kind": "short_spike", "action": "raise_safety_stock", "by": 1000}]},
        # carriers
        "carriers.rates_set": {"table": {
            "services": [{"carrier": "EVIL", "service": "free", "name": "Free", "tracking_prefix": "EV"}],
            "zones": [{"zone": "ALL", "country": "DE"}],
            "rates": [{"carrier": "EVIL", "service": "free", "zone": "ALL", "max_weight_g": 70000, "price_cents": 0,
                       "transit_days": 0}]}},
    }
    assert set(forged) == HUB_COMMANDS
    line = order["lines"][0]
    pick = {"order_id": order["id"], "line_no": 1, "bin": line["pick_bin"], "sku": "MILK-1L", "qty": 1}
    ops = [op(picker, kind, payload, seq, actor="S1") for seq, (kind, payload) in enumerate(forged.items(), start=1)]
    ops.append(op(picker, "pick.confirmed", pick, len(ops) + 1))
    results = await push(hub, picker, ops)
    assert [r["reason_code"] for r in results[:-1]] == ["hub_only"] * len(forged)
    assert results[-1]["status"] == "applied"  # the queue behind the refusals moves on
    assert scalar(hub, "SELECT COUNT(*) FROM operators") == operators_before
    assert scalar(hub, "SELECT COUNT(*) FROM locations WHERE code = 'EVIL'") == 0
    assert scalar(hub, "SELECT COUNT(*) FROM carrier_rate_tables") == 1  # the demo's, no other
    assert scalar(hub, "SELECT status FROM orders WHERE id = :o", o=order["id"]) != "cancelled"
    assert scalar(hub, "SELECT COUNT(*) FROM changes WHERE entity = 'operator' AND key = 'S9'") == 0  # nothing reached a device
    assert scalar(hub, "SELECT COUNT(*) FROM anomalies") + scalar(hub, "SELECT COUNT(*) FROM anomaly_policies") == 0
    assert replay(hub.db).same


async def test_a_picker_handheld_cannot_do_privileged_or_other_roles_acts_whatever_actor_it_names(hub, tmp_path):
    picker = await hub.device(tmp_path / "p")
    await picker.sync()
    order = picker.replica.query_one("SELECT id FROM orders WHERE number = 'W-1001'")["id"]
    task = await supervisor_task(hub, tmp_path)
    acts = [
        ("pickup.extended", {"order_id": order, "pickup_by": "2099-12-31T00:00:00+00:00"}),
        ("return.received", {"return_id": "R-50", "lines": [{"sku": "MILK-1L", "qty": 50, "condition": "new",
                                                               "disposition": "restock", "bin": "A-01-1"}]}),
        ("reservation.requested", payloads({"id": order, "lines": [{"sku": "MILK-1L", "pick_bin": "A-01-1"}]}, task)["reservation.requested"]),
        ("task.done", task),
    ]
    results = await push(hub, picker, [op(picker, kind, payload, seq, actor="S1") for seq, (kind, payload) in enumerate(acts, 1)])
    assert [r["reason_code"] for r in results] == ["role_not_allowed", "role_not_allowed", "role_not_allowed", "privilege_needed"]
    assert scalar(hub, "SELECT status FROM tasks WHERE id = :i", i=task["task_id"]) == "open"
    assert scalar(hub, "SELECT COUNT(*) FROM movements WHERE reason = 'return'") == 0


async def test_privileged_acts_need_a_proof_from_a_supervisor_signed_in_on_that_device(hub, tmp_path):
    counter = await hub.device(tmp_path / "counter", role="associate")
    other = await hub.device(tmp_path / "other", role="associate")
    await counter.sync(), await other.sync()
    order = counter.replica.query_one("SELECT id FROM orders WHERE number = 'W-1001'")["id"]
    extend = {"order_id": order, "pickup_by": "2030-06-01T00:00:00+00:00"}
    # Signed in with the PIN: the op carries S1's proof and is applied.
    sign_in_pin(counter.replica, "S1", "999999")
    with counter.replica.transaction() as conn:
        signed = outbox.record_op(conn, "pickup.extended", extend, "S1", outbox.PendingEffect())
    assert signed.proof and (await counter.sync()).rejected == []
    # The same proof on another device's op, and made-up proofs, are refused and counted.
    copied = op(other, "pickup.extended", extend, 1, actor="S1", proof=signed.proof)
    made_up = [op(other, "pickup.extended", extend, seq, actor="S1", proof=proof)
               for seq, proof in enumerate([f"v1.00.{'0' * 64}", "v1.\x00.zz", 12, "x" * 5000, f"v1.ab.{'f' * 64}"], start=2)]
    results = await push(hub, other, [copied, *made_up])
    assert [r["reason_code"] for r in results] == ["privilege_needed"] * PROOF_FAILURES_LOCK + ["operator_locked"]
    assert scalar(hub, "SELECT failures FROM proof_failures WHERE device_id = :d",
                  d=other.replica.get_meta("device_id")) == PROOF_FAILURES_LOCK
    # An associate's own proof is no supervisor's: a return without a receipt is still refused.
    sign_in_pin(other.replica, "A1", "3333")
    other.replica.set_meta("next_seq", str(len(results) + 1))  # after the ops pushed by hand above
    no_receipt = {"return_id": "R-NR", "lines": [{"sku": "SOAP-BAR", "qty": 1, "condition": "new", "disposition": "quarantine"}]}
    with other.replica.transaction() as conn:
        assert outbox.record_op(conn, "return.received", no_receipt, "A1", outbox.PendingEffect()).proof
    assert [r["reason_code"] for r in (await other.sync()).rejected] == ["privilege_needed"]
    assert json.loads(scalar(hub, "SELECT result FROM op_log WHERE op_id = :o", o=signed.op_id))["status"] == "applied"
    verdict = replay(hub.db)
    assert verdict.same, verdict.different_answers


# returns from any channel: a return code is checked only for a sender that may send returns
async def test_a_picker_pushing_a_return_with_a_forged_code_hears_its_role_first_and_a_counter_the_forgery(hub, tmp_path):
    picker = await hub.device(tmp_path / "picker", role="picker")
    counter = await hub.device(tmp_path / "counter", role="associate")
    await counter.sync()
    row = counter.replica.query_one("SELECT id, return_code FROM orders WHERE number = 'W-1002'")
    forged = row["return_code"][:-2] + ("00" if not row["return_code"].endswith("00") else "11")
    back = {"return_id": "R-F", "order_id": row["id"], "return_code": forged,
            "lines": [{"line_no": 1, "sku": "OLIVE-OIL", "qty": 1, "condition": "new", "disposition": "quarantine"}]}
    refused, = await push(hub, picker, [op(picker, "return.received", back, 1)])
    assert refused["reason_code"] == "role_not_allowed"
    refused, = await push(hub, counter, [op(counter, "return.received", back, 1)])
    assert refused["reason_code"] == "return_code_forged"
    assert scalar(hub, "SELECT COUNT(*) FROM returns") == 0
    verdict = replay(hub.db)
    assert verdict.same, verdict.different_answers
