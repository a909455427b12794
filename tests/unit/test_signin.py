"""Signing in on a shared device: badge or ID + PIN, hashed PINs, queues per role, idle timeout."""

from __future__ import annotations

import time

import pytest

from edge_app.local.replica import Replica
from edge_app.workflows.signin import (
    BACKOFF_AFTER,
    LOCK_AFTER,
    LOCK_SECONDS,
    LockedOut,
    PinNeeded,
    sign_out,
    IdleTimer,
    SignInRefused,
    operators_known,
    queue_counts,
    sign_in_badge,
    sign_in_pin,
    verify_pin,
)
from hub.commands import hash_pin, operator_payload
from sync.proofs import pin_check
from tests.unit.floor_store import order, put, store


@pytest.fixture
def replica(tmp_path):
    return store(tmp_path / "device")


def test_a_badge_scan_signs_the_operator_in(replica):
    operator = sign_in_badge(replica, "BADGE:P1\n")
    assert (operator.operator_id, operator.role) == ("P1", "picker")


def test_a_badge_prefix_in_lower_case_still_signs_in(replica):
    assert sign_in_badge(replica, "badge:k1").operator_id == "K1"


@pytest.mark.parametrize("scan, says", [
    ("BADGE:NOBODY", "Badge NOBODY is not known here"),
    ("BIN:A-01-1", "That is not a badge"),
    ("4006381333931", "That is not a badge"),
    ("", "That is not a badge"),
])
def test_a_scan_that_is_not_a_known_badge_is_refused_with_what_to_do(replica, scan, says):
    with pytest.raises(SignInRefused, match=says):
        sign_in_badge(replica, scan)


def test_id_and_pin_sign_in(replica):
    assert sign_in_pin(replica, "s1", "999999").role == "supervisor"


@pytest.mark.parametrize("operator_id, pin", [("P1", "2222"), ("P1", ""), ("ZZ", "1111"), ("", "1111")])
def test_a_wrong_pin_and_an_unknown_id_get_the_same_sentence(replica, operator_id, pin):
    with pytest.raises(SignInRefused, match="ID or PIN does not match"):
        sign_in_pin(replica, operator_id, pin)


def test_a_device_holds_a_salt_and_an_8_bit_pin_check_per_operator_never_the_pins_hash(replica):
    rows = replica.query("SELECT pin_hash, salt, pin_check FROM operators")
    assert all(r["pin_hash"] == "" and len(r["pin_check"]) == 2 for r in rows)
    assert len({r["salt"] for r in rows}) == len(rows)
    one, two = operator_payload("X", "X", "picker", "S1", "1234"), operator_payload("Y", "Y", "picker", "S1", "1234")
    assert one["pin_hash"] != two["pin_hash"]


def test_verify_pin_gives_the_operator_key_for_the_right_pin_only():
    salt = "00" * 16
    key = bytes.fromhex(hash_pin("1234", salt).rsplit("$", 1)[1])
    assert verify_pin("1234", pin_check(key), salt) == key
    assert verify_pin("1234", None, salt) is None
    assert verify_pin("1234", pin_check(key), salt, "md5$1$1$1") is None


def test_operator_pin_must_be_four_to_eight_digits():
    with pytest.raises(ValueError):
        operator_payload("X", "X", "picker", "S1", "12a4")


def test_sign_in_is_required_once_the_hub_has_sent_operators(tmp_path, replica):
    assert operators_known(replica)
    assert not operators_known(Replica(tmp_path / "empty"))


def test_an_operator_deleted_on_the_hub_can_no_longer_sign_in(replica):
    put(replica, "operator", "P1", None)
    with pytest.raises(SignInRefused):
        sign_in_badge(replica, "BADGE:P1")


def test_home_shows_the_queues_of_the_role_with_counts(replica):
    order(replica, "o1", "W-1", [("MILK-1L", 1)])
    order(replica, "o2", "W-2", [("SOAP-BAR", 2)], status="picked", picked=True)
    picker = {q.label: q.count for q in queue_counts(replica, "picker")}
    packer = {q.label: q.count for q in queue_counts(replica, "packer")}
    supervisor = {q.key for q in queue_counts(replica, "supervisor")}
    assert picker == {"To pick": 1, "Counts and tasks": 0}
    assert packer["To pack"] == 1
    assert supervisor == {"pick", "pack", "pickups", "returns", "tasks", "receive"}


def test_idle_timer_expires_after_the_timeout_and_a_touch_restarts_it():
    timer = IdleTimer(timeout=300, now=0)
    assert not timer.expired(299)
    timer.touch(200)
    assert not timer.expired(450) and timer.expired(500)
    assert not IdleTimer(timeout=0).expired(10**9)  # 0 switches the timeout off


def test_a_tab_records_ops_for_the_operator_signed_in_there_and_activity_restarts_the_idle_timer():
    from edge_app.ui.navigation import TabRuntime
    from edge_app.workflows.signin import Operator

    class Runtime:
        actor, recorded_calls = "handheld-1", 0

        def recorded(self):
            Runtime.recorded_calls += 1

    class Shift:
        operator, touched = None, 0

        def touch(self):
            self.touched += 1

    shift = Shift()
    tab = TabRuntime(Runtime(), shift)
    assert tab.actor == "handheld-1"  # nobody signed in: the device's name, as before operators existed
    shift.operator = Operator("K1", "Kim", "packer")
    tab.recorded()
    assert tab.actor == "K1" and Runtime.recorded_calls == 1 and shift.touched == 1


def test_idle_timeout_comes_from_the_environment(monkeypatch):
    from edge_app.ui.navigation import idle_seconds

    monkeypatch.setenv("BACKROOM_IDLE_TIMEOUT", "90")
    assert idle_seconds() == 90
    monkeypatch.setenv("BACKROOM_IDLE_TIMEOUT", "soon")
    assert idle_seconds() == 300


# -- issue 17: a supervisor's badge needs the PIN; wrong PINs back off and lock ---------
def test_a_supervisors_badge_alone_does_not_sign_in(replica):
    with pytest.raises(PinNeeded, match="PIN"):
        sign_in_badge(replica, "BADGE:S1")
    assert sign_in_badge(replica, "BADGE:P1").role == "picker"  # pickers still sign in with the badge alone


def test_wrong_pins_back_off_then_lock_per_operator_id_on_this_device(replica):
    t = 1_000_000.0
    for n in range(BACKOFF_AFTER):
        with pytest.raises(SignInRefused, match="does not match"):
            sign_in_pin(replica, "K1", "0000", now=t + n)
    with pytest.raises(LockedOut, match="Wait"):
        sign_in_pin(replica, "K1", "2222", now=t + BACKOFF_AFTER)  # even the right PIN waits its turn
    assert sign_in_pin(replica, "K1", "2222", now=t + 60).operator_id == "K1"  # after the wait, and it resets
    assert sign_in_pin(replica, "P1", "1111", now=t + 60).operator_id == "P1"  # others never waited
    t += 1000
    for n in range(LOCK_AFTER["supervisor"]):
        with pytest.raises(SignInRefused):
            sign_in_pin(replica, "S1", "000000", now=t + n * 61)
    with pytest.raises(LockedOut, match="Try again in 15 min"):
        sign_in_pin(replica, "S1", "999999", now=t + (LOCK_AFTER["supervisor"] - 1) * 61 + 1)
    assert sign_in_pin(replica, "S1", "999999", now=t + LOCK_SECONDS + 400).role == "supervisor"


def test_an_unknown_id_costs_the_same_scrypt_as_a_known_one(replica):
    def timed(operator_id: str) -> float:
        start = time.perf_counter()
        with pytest.raises(SignInRefused):
            sign_in_pin(replica, operator_id, "0000", now=time.time() + 10_000)
        return time.perf_counter() - start

    timed("P1"), timed("NOBODY")  # warm up
    known, unknown = min(timed("P1") for _ in range(5)), min(timed("NOBODY") for _ in range(5))
    assert unknown > known * 0.4  # was 0.01 ms against 47 ms (the fastest of five: a busy machine only slows)


def test_a_pin_sign_in_signs_the_ops_recorded_until_sign_out_and_a_badge_does_not(replica):
    from edge_app.local import outbox
    from hub.commands import hash_pin  # noqa: F811 - the hub side of the check
    from sync.proofs import key_of_hash, proof_matches

    supervisor = sign_in_pin(replica, "S1", "999999")
    with replica.transaction() as conn:
        signed = outbox.record_op(conn, "count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": 3},
                                  supervisor.operator_id, outbox.PendingEffect())
    salt = replica.query_one("SELECT salt FROM operators WHERE operator_id = 'S1'")["salt"]
    _kdf, key = key_of_hash(hash_pin("999999", salt))
    assert proof_matches(key, signed.proof, signed.model_dump(mode="json"))
    assert not proof_matches(key, signed.proof, {**signed.model_dump(mode="json"), "payload": {"counted": 4}})
    sign_out(replica, "S1")
    sign_out(replica, "P1")  # a session of an earlier test on the same device id
    sign_in_badge(replica, "BADGE:P1")
    with replica.transaction() as conn:
        after = [outbox.record_op(conn, "count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": 3}, actor,
                                  outbox.PendingEffect()) for actor in ("S1", "P1")]
    assert [op.proof for op in after] == [None, None]


def test_a_station_shows_only_the_queues_its_device_role_may_send(replica):
    replica.set_meta("role", "picker")  # a picker handheld: a supervisor signed in on it picks and does tasks
    assert [q.key for q in queue_counts(replica, "supervisor")] == ["pick", "tasks"]
    replica.set_meta("role", "associate")
    assert [q.key for q in queue_counts(replica, "supervisor")] == ["pick", "pickups", "returns", "tasks", "receive"]
