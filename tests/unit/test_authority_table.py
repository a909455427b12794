"""sync.authority's table is whole: every kind the hub applies has a rule, every rule
names known roles, and the hub's commands are the hub's alone."""

from __future__ import annotations

import pytest

from hub.handlers import HANDLERS
from sync.authority import (
    AUTHORITY,
    DEVICE_ROLES,
    HUB_COMMANDS,
    OPERATOR_ROLES,
    device_may,
    privileged_by_payload,
    refusal_for_sender,
)
from sync.kinds import KINDS


def test_every_kind_the_hub_applies_has_a_rule_and_every_rule_a_handler():
    assert set(AUTHORITY) == set(HANDLERS)
    assert set(KINDS) | HUB_COMMANDS == set(AUTHORITY)
    assert not set(KINDS) & HUB_COMMANDS


@pytest.mark.parametrize("kind", sorted(AUTHORITY))
def test_each_rule_names_only_known_roles_and_entities(kind):
    rule = AUTHORITY[kind]
    assert rule.device_roles <= set(DEVICE_ROLES) and rule.operator_roles <= set(OPERATOR_ROLES)
    assert all(scope.entity in ("order", "bin", "task") for scope in rule.scope)
    assert rule.hub_only == (kind in HUB_COMMANDS)
    assert rule.hub_only or rule.device_roles  # a device kind someone may send


@pytest.mark.parametrize("kind", sorted(HUB_COMMANDS))
@pytest.mark.parametrize("role", DEVICE_ROLES)
def test_no_device_role_may_send_a_hub_command(kind, role):
    assert refusal_for_sender(kind, role, None) == ("hub_only", f"{kind} is a hub command: no device may send it")
    assert refusal_for_sender(kind, "hub", None) is None and not device_may(kind, role)


def test_an_operator_role_caps_what_a_station_may_send():
    assert refusal_for_sender("pickup.handed_over", "associate", "associate") is None
    assert refusal_for_sender("pickup.handed_over", "associate", "picker")[0] == "role_not_allowed"
    assert refusal_for_sender("pickup.handed_over", "picker", None)[0] == "role_not_allowed"
    assert refusal_for_sender("pick.confirmed", "hub", None)[0] == "hub_only"
    assert refusal_for_sender("made.up", "picker", None)[0] == "unknown_kind"


def test_a_return_without_a_receipt_and_a_pickup_extension_are_privileged():
    assert privileged_by_payload("return.received", {"order_id": None, "lines": []})
    assert not privileged_by_payload("return.received", {"order_id": "O-1", "lines": []})
    assert privileged_by_payload("pickup.extended", {"order_id": "O-1"})
    assert not privileged_by_payload("pick.confirmed", {})


@pytest.mark.parametrize("kind, payload", [
    ("order.accepted", {"id": "O-1", "created_at": "2026-01-01T00:00:00+00:00", "pickup_code": "0000\x00",
                        "order": {"number": "N", "channel": "web", "fulfilment": "pickup",
                                  "promised_by": "2026-01-01T00:00:00+00:00", "lines": [{"sku": "S", "qty": 1}]}}),
    ("operator.disabled", {"operator_id": "K1\x00"}),
    ("operator.removed", {"operator_id": "x" * 65}),
    ("stock.received", {"location": "L", "bin": "B", "sku": "S", "qty": 2**63}),
    ("bin.added", {"location": "L", "code": "B", "seq": -1}),
])
def test_hub_commands_refuse_values_outside_their_bounds(kind, payload):
    from sync.errors import MalformedPayload

    with pytest.raises(MalformedPayload):
        HANDLERS[kind].parse(payload)  # type: ignore[misc]
