"""No poison op (issue 17, finding 6): an integer past its bounds, a NUL or control
character, a reused id, a handler that fails: each is answered `rejected` with a
reason code, never a 500, so the ops queued behind it move on. Then a fuzz of op
payloads (Hypothesis, a fixed budget) on both backends."""

from __future__ import annotations

import itertools
import json
import uuid
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what the project uses
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from hub.handlers import HANDLERS, Handler
from hub.log import INCIDENT_CODES
from hub.seed import DARK_STORE, DEMO_LOCATION
from hub.verify import replay
from sync.authority import AUTHORITY
from sync.kinds import KINDS, SCHEMA_VERSION
from tests.integration.conftest import HUB_URL


class Pusher:
    """A device of `role` pushing ops one batch at a time through a sync client."""

    def __init__(self, hub, client: TestClient, role: str, location: str = DEMO_LOCATION):
        enrolled = client.post("/v1/devices/enroll", json={"code": hub.code(location, role)}).json()
        self.client, self.device_id, self.token = client, enrolled["device_id"], enrolled["token"]
        self.seq = itertools.count(1)

    def push(self, *items: tuple[str, dict]) -> list[dict]:
        ops = []
        for kind, payload in items:
            seq = next(self.seq)
            ops.append({"op_id": str(uuid.uuid4()), "device_id": self.device_id, "device_seq": seq, "kind": kind,
                        "payload": payload, "actor": "tester", "hlc": f"{1_700_000_000_000 + seq:015d}:000000:{self.device_id}",
                        "schema_version": SCHEMA_VERSION})
        response = self.client.post("/v1/ops", json={"ops": ops}, headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, response.text
        return response.json()["results"]


@pytest.fixture
def api(hub):
    with TestClient(hub.app, base_url=HUB_URL) as client:
        yield client


def a_pickup_order(api, hub) -> dict:
    orders = api.get("/v1/orders", params={"location": DEMO_LOCATION}, headers={"Authorization": f"Bearer {hub.admin_token}"})
    return next(o for o in orders.json() if o["number"] == "W-1001")


GOOD_COUNT = ("count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": 20})


def test_integers_past_their_bounds_are_refused_and_the_queue_moves_on(hub, api):
    order = a_pickup_order(api, hub)
    supervisor = Pusher(hub, api, "supervisor")
    big = 2**63
    results = supervisor.push(
        ("count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": big}),
        ("pick.confirmed", {"order_id": order["id"], "line_no": big, "bin": "A-01-1", "sku": "MILK-1L", "qty": 1}),
        ("stock.moved", {"from_bin": "A-01-1", "to_bin": "A-02-1", "sku": "MILK-1L", "qty": big}),
        ("task.done", {"task_id": big, "kind": "recount", "sentence": "x"}),
        ("pack.carton_closed", {"order_id": order["id"], "carton_id": "C1", "carton_type": "S", "weight_g": big,
                                "contents": [{"line_no": 1, "sku": "MILK-1L", "qty": 1}]}),
        ("pickup.extended", {"order_id": order["id"], "pickup_by": "9999-12-31T23:59:59+00:00"}),
        GOOD_COUNT,
        GOOD_COUNT,
    )
    assert [r["reason_code"] for r in results[:6]] == ["malformed_payload"] * 6
    assert [r["status"] for r in results[6:]] == ["applied", "applied"]  # the bin is counted as usual afterwards
    with hub.db.read() as conn:
        assert conn.execute(text("SELECT MAX(ABS(on_hand)) FROM stock")).scalar() < 1000


def test_nul_and_control_characters_anywhere_in_a_payload_are_refused_not_a_500(hub, api):
    order = a_pickup_order(api, hub)
    supervisor = Pusher(hub, api, "supervisor")
    results = supervisor.push(
        ("count.recorded", {"bin": "A-01-1\x00", "sku": "MILK-1L", "counted": 1}),
        ("order.staging_set", {"order_id": order["id"] + "\x00", "place": "SHELF-1"}),
        ("order.staging_set", {"order_id": order["id"], "place": "SHELF\x1b[2J"}),
        ("task.done", {"task_id": 1, "kind": "recount", "sentence": "ok", "note": "line\nbreak"}),
        ("count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": 1, "extra\x00": "x"}),
        GOOD_COUNT,
    )
    assert [r["reason_code"] for r in results[:5]] == ["malformed_payload"] * 5
    assert results[5]["status"] == "applied"


def test_a_reused_return_id_or_order_number_is_a_refusal_with_a_reason(hub, api):
    order = a_pickup_order(api, hub)
    counter, terminal = Pusher(hub, api, "associate"), Pusher(hub, api, "terminal", DARK_STORE)
    returned = {"return_id": "R-1", "order_id": order["id"],
                "lines": [{"line_no": 1, "sku": "MILK-1L", "qty": 1, "condition": "new", "disposition": "quarantine"}]}
    assert [r["reason_code"] for r in counter.push(("return.received", returned), ("return.received", returned))] == [
        None, "return_exists"]
    taken = {"number": "T-1", "fulfilment": "quick", "promised_by": "2030-01-01T00:00:00+00:00",
             "lines": [{"sku": "MILK-1L", "qty": 1}], "from_allotment": False}
    first, second = terminal.push(("reservation.requested", {**taken, "order_id": str(uuid.uuid4())}),
                                  ("reservation.requested", {**taken, "order_id": str(uuid.uuid4())}))
    assert (first["status"], second["reason_code"]) == ("applied", "duplicate_order")


def _boom(conn, _ctx, _op, _payload):
    raise RuntimeError("a bug in a handler")


def _breaks_a_constraint(conn, _ctx, _op, _payload):
    conn.execute("INSERT INTO locations (code, name, kind) VALUES ('DEMO-1', 'again', 'store')")
    raise AssertionError("unreachable: the insert breaks the primary key")


@pytest.mark.parametrize("handler, code", [(_boom, "incident"), (_breaks_a_constraint, "constraint_violation")])
def test_a_failure_while_applying_one_op_is_an_incident_and_the_queue_moves_on(hub, api, monkeypatch, handler, code):
    monkeypatch.setitem(HANDLERS, "count.recorded", Handler(handler))
    counter = Pusher(hub, api, "associate")
    bad, moved = counter.push(GOOD_COUNT, ("stock.moved", {"from_bin": "A-01-1", "to_bin": "A-02-1", "sku": "MILK-1L", "qty": 1}))
    assert (bad["status"], bad["reason_code"]) == ("rejected", code)
    incident = bad["message"].split("incident ")[1].split(")")[0]
    assert moved["status"] == "applied"
    trail = api.get("/v1/audit", params={"action": "op.incident"}, headers={"Authorization": f"Bearer {hub.admin_token}"})
    assert [row["detail"]["incident"] for row in trail.json()] == [incident]
    assert code in INCIDENT_CODES
    verdict = replay(hub.db)  # the incident is answered the same again, without running it
    assert verdict.same, verdict.different_answers


# -- the fuzz ---------------------------------------------------------------------------
NASTY = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.text(max_size=80),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=5),
    st.sampled_from(["", "\x00", "A-01-1\x00", "x" * 5000, "2099-12-31T23:59:59+00:00", "9999-12-31T23:59:59-12:00"]),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _templates(order: dict) -> dict[str, dict]:
    line = {"order_id": order["id"], "line_no": 1, "bin": "A-01-1", "sku": "MILK-1L", "qty": 1}
    return {
        "pick.confirmed": line, "pick.shorted": {**line, "reason": "not_found"},
        "pick.claimed": {"order_id": order["id"]}, "pick.released": {"order_id": order["id"]},
        "count.recorded": {"bin": "A-01-1", "sku": "MILK-1L", "counted": 3},
        "stock.moved": {"from_bin": "A-01-1", "to_bin": "A-02-1", "sku": "MILK-1L", "qty": 1},
        "order.staging_set": {"order_id": order["id"], "place": "S-1"},
        "pickup.handed_over": {"order_id": order["id"], "lines": [{"line_no": 1, "qty": 1}], "code_verified": True},
        "return.received": {"return_id": "R", "order_id": order["id"],
                            "lines": [{"line_no": 1, "sku": "MILK-1L", "qty": 1, "condition": "new", "disposition": "restock", "bin": "A-01-1"}]},
        "refund.requested": {"order_id": order["id"], "line_no": 1, "qty": 1},
        "task.done": {"task_id": 1, "kind": "recount", "sentence": "x"},
        "pack.carton_closed": {"order_id": order["id"], "carton_id": "C", "carton_type": "S", "weight_g": 5,
                               "contents": [{"line_no": 1, "sku": "MILK-1L", "qty": 1}]},
        "shipment.handed_to_carrier": {"order_id": order["id"], "carrier": "DHL", "cartons": ["C"]},
        "pickup.extended": {"order_id": order["id"], "pickup_by": "2030-01-01T00:00:00+00:00"},
        "reservation.requested": {"order_id": "ORDER-0001", "number": "N", "fulfilment": "quick",
                                  "promised_by": "2030-01-01T00:00:00+00:00", "lines": [{"sku": "MILK-1L", "qty": 1}],
                                  "from_allotment": True},
        "allotment.released": {"sku": "MILK-1L", "qty": 1},
        # receiving
        "goods.received": {"bin": "A-01-1", "sku": "MILK-1L", "qty": 1, "gtin": "04006381333931", "batch": "L1",
                           "expiry": "2027-12-31", "reference": "DN-1"},
        # routing
        "order.rejected": {"order_id": order["id"], "line_no": 1, "reason": "no staff"},
        # substitution at pick
        "pick.substituted": {**line, "substitute_sku": "OATS-500", "qty": 1, "from_allotment": False},
    }


@st.composite
def fuzzed_ops(draw, templates: dict[str, dict]) -> tuple[str, dict]:
    kind = draw(st.sampled_from(sorted(KINDS)))
    payload = json.loads(json.dumps(templates[kind]))
    for key in draw(st.lists(st.sampled_from(sorted(payload)), max_size=3, unique=True)):
        payload[key] = draw(NASTY)
    lines = payload.get("lines")
    if draw(st.booleans()) and isinstance(lines, list) and lines and isinstance(lines[0], dict) and lines[0]:
        field = draw(st.sampled_from(sorted(payload["lines"][0])))
        payload["lines"][0][field] = draw(NASTY)
    if draw(st.integers(0, 9)) == 0:
        payload[draw(st.text(max_size=6))] = draw(NASTY)
    if draw(st.booleans()):  # fresh ids, so a valid op is not merely a repeat
        for key in ("return_id", "carton_id", "number"):
            if isinstance(payload.get(key), str):
                payload[key] = f"{payload[key]}-{draw(st.integers(0, 10**9))}"
    return kind, payload


def test_fuzzed_op_payloads_are_answered_one_by_one_and_never_break_the_hub(hub, api):
    order = a_pickup_order(api, hub)
    pushers = {role: Pusher(hub, api, role) for role in ("supervisor", "associate")}
    pushers["terminal"] = Pusher(hub, api, "terminal", DARK_STORE)
    seen: dict[str, int] = {}

    @settings(max_examples=80, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(batch=st.lists(fuzzed_ops(_templates(order)), min_size=1, max_size=4))
    def pushes_are_answered(batch):
        role = "terminal" if batch[0][0] in AUTHORITY and "terminal" in AUTHORITY[batch[0][0]].device_roles \
            and "supervisor" not in AUTHORITY[batch[0][0]].device_roles else "supervisor"
        results = pushers[role].push(*batch)
        assert len(results) == len(batch)
        for (kind, _payload), result in zip(batch, results):
            assert result["status"] in ("applied", "rejected"), result
            assert result["reason_code"] not in INCIDENT_CODES, (kind, result)  # an incident would be a bug found
            seen[result["status"]] = seen.get(result["status"], 0) + 1

    pushes_are_answered()
    assert seen.get("rejected") and seen.get("applied")  # the fuzz reached both answers
    assert api.get("/healthz").status_code == 200
    verdict = replay(hub.db)
    assert verdict.same, verdict.different_answers


# substitution at pick
def test_a_poisoned_substitution_is_refused_with_a_reason_and_the_queue_moves_on(hub, api):
    order = a_pickup_order(api, hub)
    supervisor = Pusher(hub, api, "supervisor")
    line = {"order_id": order["id"], "line_no": 1, "sku": "MILK-1L", "substitute_sku": "OATS-500", "bin": "A-02-1", "qty": 1}
    results = supervisor.push(
        ("pick.substituted", {**line, "qty": 2**63}),
        ("pick.substituted", {**line, "substitute_sku": "OATS\x00500"}),
        ("pick.substituted", {**line, "line_no": 999}),
        ("pick.substituted", {**line, "substitute_sku": "NO-SUCH-SKU"}),
        ("pick.substituted", line),  # the demo order allows no substitutes
        GOOD_COUNT,
    )
    assert [r["reason_code"] for r in results[:5]] == ["malformed_payload", "malformed_payload", "unknown_order_line",
                                                       "substitutes_not_allowed", "substitutes_not_allowed"]
    assert results[5]["status"] == "applied"
    assert replay(hub.db).same


# returns from any channel: whatever a return code field holds, the op is answered and the queue moves on
def test_a_poisoned_return_code_is_refused_with_a_reason_and_the_queue_moves_on(hub, api):
    order = a_pickup_order(api, hub)
    code = order["return_code"]
    associate = Pusher(hub, api, "associate")
    back = {"return_id": "R-1", "order_id": order["id"], "return_code": code,
            "lines": [{"line_no": 1, "sku": "MILK-1L", "qty": 1, "condition": "new", "disposition": "quarantine"}]}
    results = associate.push(
        ("return.received", {**back, "return_code": 12345}),
        ("return.received", {**back, "return_code": "RET1:\x00"}),
        ("return.received", {**back, "return_code": "RET1:" + "z" * 5000}),
        ("return.received", {**back, "return_code": code[:-1] + ("0" if code[-1] != "0" else "1")}),
        ("return.received", {**back, "lines": 5}),
        ("return.received", {**back, "lines": [{**back["lines"][0], "line_no": 999}]}),
        ("return.received", {**back, "order_id": "another-order"}),
        GOOD_COUNT,
    )
    assert [r["reason_code"] for r in results[:7]] == [
        "malformed_payload", "return_code_forged", "return_code_forged", "return_code_forged",
        "return_code_mismatch", "return_code_mismatch", "return_code_mismatch"]
    assert results[7]["status"] == "applied"
    assert replay(hub.db).same
