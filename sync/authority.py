"""Who may send each op kind: the hub alone, or which device roles and which
operator roles; which entities an op must name inside the sender's location; and
which acts are privileged (they need a supervisor's proof, see sync.proofs).

Data, read by the hub before any handler runs (hub.authority). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

__all__ = [
    "DEVICE_ROLES",
    "OPERATOR_ROLES",
    "PRIVILEGED_ROLES",
    "HUB_COMMANDS",
    "Scope",
    "Rule",
    "AUTHORITY",
    "rule_for",
    "refusal_for_sender",
    "privileged_by_payload",
    "device_may",
]

DEVICE_ROLES = ("picker", "packer", "associate", "supervisor", "terminal")
OPERATOR_ROLES = ("picker", "packer", "associate", "supervisor")
PRIVILEGED_ROLES = frozenset({"supervisor"})

# The kinds only the hub issues (hub.commands holds their payload models).
HUB_COMMANDS = frozenset({
    "catalogue.item_upserted", "location.added", "bin.added", "stock.received", "stock.policy_set",
    "allotment.granted", "allotment.reclaimed", "order.accepted", "order.cancelled", "pickup.expired",
    "operator.upserted", "operator.disabled", "operator.removed",
    "task.assigned", "task.closed", "conflict.resolved", "op.reviewed",
    # set-up
    "location.updated", "catalogue.items_imported", "bins.imported", "stock.adjusted", "stock.snapshot_imported",
    "transfer.shipped", "transfer.received",
}) | frozenset({
    # events and foresight (hub.insight.risk)
    "order.risk_assessed", "device.status_set",
    # routing
    "location.profile_set", "routing.policy_set", "order.released", "order.reassigned", "routing.rebrokered",
}) | frozenset({
    # substitution at pick
    "catalogue.substitutes_set",
    # sync: a swapped handheld's unfinished work handed over (hub.hand_over)
    "device.work_handed_over",
    # anomalies (hub.insight.anomalies) and the policy acting on them
    "anomaly.raised", "anomaly.cleared", "anomaly.policy_set",
    # carriers
    "carriers.rates_set",
})

_HANDHELDS = frozenset({"picker", "packer", "associate", "supervisor"})
_EVERY_DEVICE = _HANDHELDS | {"terminal"}
_EVERYONE = frozenset(OPERATOR_ROLES)
_COUNTER = frozenset({"associate", "supervisor"})
_PACKING = frozenset({"packer", "supervisor"})
_SUPERVISOR = frozenset({"supervisor"})


@dataclass(frozen=True)
class Scope:
    """An entity the op names (`field` of its payload) that must lie at the sender's location."""

    entity: str  # "order", "bin" or "task"
    field: str


@dataclass(frozen=True)
class Rule:
    """Who may send one kind. `operator_roles` binds when the op's actor is an operator
    of the location; `privileged` kinds need a supervisor's proof whoever the actor is;
    `privileged_when` names a payload or state condition that makes one op privileged."""

    hub_only: bool = False
    device_roles: frozenset[str] = frozenset()
    operator_roles: frozenset[str] = frozenset()
    scope: tuple[Scope, ...] = ()
    privileged: bool = False
    privileged_when: str | None = None  # "no_receipt" | "supervisor_task"


_ORDER = (Scope("order", "order_id"),)

AUTHORITY: dict[str, Rule] = {
    **{kind: Rule(hub_only=True) for kind in sorted(HUB_COMMANDS)},
    "pick.confirmed": Rule(device_roles=_EVERY_DEVICE, operator_roles=_EVERYONE, scope=_ORDER),
    "pick.shorted": Rule(device_roles=_EVERY_DEVICE, operator_roles=_EVERYONE, scope=_ORDER),
    "pick.claimed": Rule(device_roles=_EVERY_DEVICE, operator_roles=_EVERYONE, scope=_ORDER),
    "pick.released": Rule(device_roles=_EVERY_DEVICE, operator_roles=_EVERYONE, scope=_ORDER),
    "pack.carton_closed": Rule(device_roles=_PACKING, operator_roles=_PACKING, scope=_ORDER),
    "shipment.handed_to_carrier": Rule(device_roles=_PACKING, operator_roles=_PACKING, scope=_ORDER),
    "pickup.handed_over": Rule(device_roles=_COUNTER | {"terminal"}, operator_roles=_COUNTER, scope=_ORDER),
    "pickup.extended": Rule(device_roles=_COUNTER, operator_roles=_SUPERVISOR, scope=_ORDER, privileged=True),
    "order.staging_set": Rule(device_roles=_HANDHELDS, operator_roles=_EVERYONE, scope=_ORDER),
    # Returns are taken wherever the customer walks in: the order may be another location's.
    "return.received": Rule(device_roles=_COUNTER, operator_roles=_COUNTER, privileged_when="no_receipt"),
    "refund.requested": Rule(device_roles=_COUNTER, operator_roles=_COUNTER),
    "count.recorded": Rule(device_roles=_EVERY_DEVICE, operator_roles=_EVERYONE, scope=(Scope("bin", "bin"),)),
    "stock.moved": Rule(device_roles=_HANDHELDS, operator_roles=_EVERYONE,
                        scope=(Scope("bin", "from_bin"), Scope("bin", "to_bin"))),
    "task.done": Rule(device_roles=_EVERY_DEVICE, operator_roles=_EVERYONE, scope=(Scope("task", "task_id"),),
                      privileged_when="supervisor_task"),
    "reservation.requested": Rule(device_roles=frozenset({"terminal"}), operator_roles=_EVERYONE),
    "allotment.released": Rule(device_roles=frozenset({"terminal"}), operator_roles=_EVERYONE),
    # receiving: goods put into a bin of the sender's location, by the counter staff
    "goods.received": Rule(device_roles=_COUNTER, operator_roles=_COUNTER, scope=(Scope("bin", "bin"),)),
    # routing: a store says it cannot fill an order of its own
    "order.rejected": Rule(device_roles=_COUNTER, operator_roles=_COUNTER, scope=_ORDER),
    # substitution at pick: whoever may pick may take a substitute for a line that allows one
    "pick.substituted": Rule(device_roles=_EVERY_DEVICE, operator_roles=_EVERYONE, scope=_ORDER),
}


def rule_for(kind: str) -> Rule | None:
    """The rule of `kind`, or None for a kind nobody may send."""
    return AUTHORITY.get(kind)


def refusal_for_sender(kind: str, device_role: str, operator_role: str | None) -> tuple[str, str] | None:
    """(reason code, sentence) when this sender may not send `kind`; None when it may.

    `device_role` is "hub" for the hub's own commands; `operator_role` is the role of
    the operator the op names as its actor, None when the actor is no operator here."""
    rule = AUTHORITY.get(kind)
    if rule is None:
        return "unknown_kind", f"unknown op kind {kind!r}"
    if device_role == "hub":
        return None if rule.hub_only else ("hub_only", f"{kind} is a device's op, not the hub's")
    if rule.hub_only:
        return "hub_only", f"{kind} is a hub command: no device may send it"
    if device_role not in rule.device_roles:
        return "role_not_allowed", f"a {device_role} device may not send {kind}"
    if operator_role is not None and operator_role not in rule.operator_roles:
        return "role_not_allowed", f"a {operator_role} may not do {kind}"
    return None


def privileged_by_payload(kind: str, payload: Mapping[str, Any]) -> bool:
    """Whether this op is privileged by its kind or its payload alone (task kinds need state)."""
    rule = AUTHORITY.get(kind)
    if rule is None:
        return False
    if rule.privileged:
        return True
    return rule.privileged_when == "no_receipt" and payload.get("order_id") is None


def device_may(kind: str, device_role: str) -> bool:
    """Whether a device of `device_role` may send `kind` at all (its station's ceiling)."""
    rule = AUTHORITY.get(kind)
    return rule is not None and not rule.hub_only and device_role in rule.device_roles
