"""The hub's authority over every op: sync.authority's table applied before any
handler runs (hub.log.apply_op), on every path an op takes: a push in the HTTP
worker or in the writer process, a group commit or an op alone, and a replay.

- The sender: hub commands only from the hub; a device role and (when the actor is
  an operator of the location) an operator role the kind allows.
- The scope: orders, bins and tasks the op names must lie at the sender's location;
  one that does not is answered as if it did not exist (no existence leak).
- Privileged acts need a proof (sync.proofs) from a supervisor who signed in on the
  sending device. Failed proofs are counted per (device, operator); at
  PROOF_FAILURES_LOCK the operator's privileged acts from that device are refused
  until the operator is added again on the hub.

A refusal is the op's logged answer; what it writes (the failure count) is part of
the fold, so `hub verify` replays it."""

from __future__ import annotations

from typing import Any, NamedTuple

from hub.domain.pick_state import held_order
from hub.domain.tasks import find_task
from hub.outcome import HUB_ROLE, LEGACY_ROLE, Context, Outcome
from hub.store.tx import Tx
from sync.authority import PRIVILEGED_ROLES, Scope, privileged_by_payload, refusal_for_sender, rule_for
from sync.models import Op
from sync.proofs import key_of_hash, proof_matches

__all__ = ["PROOF_FAILURES_LOCK", "OperatorHere", "sender_refusal", "scope_refusal", "forget_operators"]

PROOF_FAILURES_LOCK = 5


class OperatorHere(NamedTuple):
    """An active operator of the sending device's location."""

    operator_id: str
    role: str
    pin_hash: str


def forget_operators(conn: Tx) -> None:
    """Operators changed in this transaction: read them again."""
    conn.staged.pop("operators_here", None)


def _operator(conn: Tx, ctx: Context, actor: str) -> OperatorHere | None:
    cache: dict[tuple[str | None, str], OperatorHere | None] = conn.staged.setdefault("operators_here", {})
    key = (ctx.location, actor)
    if key not in cache:
        row = conn.execute(
            "SELECT operator_id, role, pin_hash FROM operators WHERE operator_id = :a AND location = :l AND active = 1",
            {"a": actor, "l": ctx.location},
        ).first()
        cache[key] = OperatorHere(*row) if row is not None else None
    return cache[key]


def sender_refusal(conn: Tx, ctx: Context, op: Op) -> Outcome | None:
    """A refusal when this sender may not send this kind at all; read before the payload."""
    if ctx.role == LEGACY_ROLE:
        return None
    operator = None if ctx.role == HUB_ROLE else _operator(conn, ctx, op.actor)
    refusal = refusal_for_sender(op.kind, ctx.role, operator.role if operator else None)
    return Outcome.refused(*refusal) if refusal else None


def scope_refusal(conn: Tx, ctx: Context, op: Op, payload: Any, held: bool) -> Outcome | None:
    """A refusal when the parsed op names something outside the sender's location, or
    is a privileged act without a supervisor's proof."""
    if ctx.role in (HUB_ROLE, LEGACY_ROLE):
        return None
    rule = rule_for(op.kind)
    assert rule is not None  # sender_refusal refused unknown kinds
    task = None
    for scope in rule.scope:
        outside, found = _outside(conn, ctx, scope, getattr(payload, scope.field), held, payload)
        if outside is not None:
            return outside
        task = found if scope.entity == "task" else task
    privileged = privileged_by_payload(op.kind, op.payload) or (
        rule.privileged_when == "supervisor_task" and task is not None and task.for_role in PRIVILEGED_ROLES)
    return _proof_refusal(conn, ctx, op, privileged)


def _outside(conn: Tx, ctx: Context, scope: Scope, value: Any, held: bool, payload: Any) -> tuple[Outcome | None, Any]:
    here = ctx.here
    if scope.entity == "order":
        if held:
            order = held_order(conn, value)
            location = order.location if order is not None else None
        else:
            location = conn.execute("SELECT location FROM orders WHERE id = :o", {"o": value}).scalar()
        if location != here:
            return Outcome.refused("unknown_order", f"there is no order {value} at {here}"), None
        return None, None
    if scope.entity == "bin":
        if conn.execute("SELECT 1 FROM bins WHERE location = :l AND code = :b", {"l": here, "b": value}).first() is None:
            return Outcome.refused("unknown_bin", f"there is no bin {value} at {here}"), None
        return None, None
    task = find_task(conn, here, payload)
    if task is None:
        return Outcome.refused("unknown_task", f"there is no task {value} at {here}"), None
    return None, task


def _proof_refusal(conn: Tx, ctx: Context, op: Op, privileged: bool) -> Outcome | None:
    if not privileged and not op.proof:
        return None  # a fact or request anyone here may send; the actor is as the device says
    operator = _operator(conn, ctx, op.actor)
    if operator is not None and _failures(conn, ctx.device_id, operator.operator_id) >= PROOF_FAILURES_LOCK and privileged:
        return Outcome.refused("operator_locked", f"{op.actor}'s sign-ins on this device failed the hub's check too often; "
                               "a supervisor must be added again on the hub")
    if operator is not None and _vouched(operator, op):
        if privileged and operator.role not in PRIVILEGED_ROLES:
            return Outcome.refused("privilege_needed", f"{op.kind} needs a supervisor; {op.actor} is a {operator.role}")
        return None
    if operator is not None and op.proof:
        _count_failure(conn, ctx.device_id, operator.operator_id)
    if privileged:
        return Outcome.refused("privilege_needed", f"{op.kind} needs a supervisor signed in with their PIN on this device")
    return None  # a proof that does not match, on an op anyone may send: it stands, counted against the device


def _vouched(operator: OperatorHere, op: Op) -> bool:
    try:
        _kdf, key = key_of_hash(operator.pin_hash)
    except ValueError:
        return False
    return proof_matches(key, op.proof, op.model_dump(mode="json"))


def _failures(conn: Tx, device_id: str, operator_id: str) -> int:
    return int(conn.execute("SELECT failures FROM proof_failures WHERE device_id = :d AND operator_id = :o",
                            {"d": device_id, "o": operator_id}).scalar() or 0)


def _count_failure(conn: Tx, device_id: str, operator_id: str) -> None:
    conn.execute(
        "INSERT INTO proof_failures (device_id, operator_id, failures) VALUES (:d, :o, 1) "
        "ON CONFLICT (device_id, operator_id) DO UPDATE SET failures = proof_failures.failures + 1",
        {"d": device_id, "o": operator_id},
    )
