"""Turning a rule's decision into rows: tasks that reach the right devices on
pull, and conflict records admins (and the device concerned) can read."""

from __future__ import annotations

import json
from typing import Any

from hub.feed import emit
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op
from sync.rules import Decision

__all__ = ["record_followups", "settled"]


def record_followups(conn: Tx, ctx: Context, op: Op, decision: Decision, location: str | None, order_id: str | None = None) -> list[dict[str, Any]]:
    """Store the decision's tasks and conflict; returns them as compensations."""
    compensations = []
    for task in decision.tasks:
        task_id = conn.execute(
            "INSERT INTO tasks (kind, location, for_role, sentence, details, order_id, op_id, status) "
            "VALUES (:k, :l, :r, :s, :d, :o, :op, 'open') RETURNING id",
            {"k": task.kind, "l": location or "", "r": task.for_role, "s": task.sentence,
             "d": json.dumps(task.details, sort_keys=True), "o": order_id, "op": op.op_id},
        ).scalar_one()
        if location:
            emit(conn, location, "task", str(task_id), {
                "id": task_id, "kind": task.kind, "for_role": task.for_role, "sentence": task.sentence,
                "details": task.details, "order_id": order_id, "status": "open",
            })
        compensations.append({"kind": task.kind, "sentence": task.sentence, "details": {**task.details, "task_id": task_id}})
    if decision.conflict is not None:
        c = decision.conflict
        conn.execute(
            "INSERT INTO conflicts (rule, op_id, device_id, location, inputs, outcome, hlc) "
            "VALUES (:r, :op, :d, :l, :i, :o, :h)",
            {"r": c.rule, "op": op.op_id, "d": ctx.device_id, "l": location, "i": json.dumps(c.inputs, sort_keys=True),
             "o": c.outcome, "h": op.hlc},
        )
    return compensations


def settled(conn: Tx, ctx: Context, op: Op, decision: Decision, location: str | None, order_id: str | None = None) -> Outcome:
    """The handler's outcome for a decision, with its follow-ups recorded."""
    if decision.refusal:
        return Outcome.refused(decision.refusal, decision.message)
    if not decision.tasks and decision.conflict is None:
        return _PLAIN if not decision.message else Outcome(message=decision.message)
    return Outcome(message=decision.message, compensations=record_followups(conn, ctx, op, decision, location, order_id))


_PLAIN = Outcome()  # applied, nothing to follow up (handlers only read it)
