"""Anomalies as hub state: raised and cleared by hub.insight.anomalies through logged
hub commands, and the anomaly policy that acts on a raised one in the same command:
a recount task for its bin, or more safety stock for routing to keep back. Acting
inside the logged command is what lets `hub verify` replay the actions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from hub.commands import AnomalyCleared, AnomalyPolicySet, AnomalyRaised, AnomalyRule
from hub.domain.followups import record_followups
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.models import Op
from sync.rules import Decision, Task

__all__ = ["anomaly_raised", "anomaly_cleared", "anomaly_policy_set", "current_rules", "SAFETY_COOLDOWN"]

SAFETY_COOLDOWN = timedelta(days=7)  # an anomaly raised again within this raises no more safety stock


def anomaly_raised(conn: Tx, ctx: Context, op: Op, p: AnomalyRaised) -> Outcome:
    """Open the anomaly (again, if it was cleared) and do what the policy says. One
    already open is left as it is: a second raise does nothing twice."""
    before = conn.execute("SELECT status, raised_at FROM anomalies WHERE key = :k", {"k": p.key}).first()
    if before is not None and before.status == "open":
        return Outcome(message=f"anomaly {p.key} is already open")
    last_raised = datetime.fromisoformat(before.raised_at) if before is not None else None
    compensations: list[dict[str, Any]] = []
    words: list[str] = []
    for rule in current_rules(conn):
        if rule.kind == p.kind:
            words += _act(conn, ctx, op, p, rule, compensations, last_raised)
    action = "; ".join(words)
    conn.execute(
        "INSERT INTO anomalies (key, kind, location, subject, status, evidence, numbers, raised_at, cleared_at, action) "
        "VALUES (:k, :kind, :l, :s, 'open', :e, :n, :a, NULL, :act) ON CONFLICT (key) DO UPDATE SET status = 'open', "
        "evidence = excluded.evidence, numbers = excluded.numbers, raised_at = excluded.raised_at, cleared_at = NULL, "
        "action = excluded.action",
        {"k": p.key, "kind": p.kind, "l": p.location, "s": p.subject, "e": p.evidence,
         "n": json.dumps(p.numbers, sort_keys=True), "a": p.at.isoformat(), "act": action},
    )
    return Outcome(message=action, compensations=compensations or None)


def anomaly_cleared(conn: Tx, _ctx: Context, _op: Op, p: AnomalyCleared) -> Outcome:
    """Close the anomaly; one that is not open stays as it is."""
    changed = conn.execute("UPDATE anomalies SET status = 'cleared', cleared_at = :a WHERE key = :k AND status = 'open'",
                           {"k": p.key, "a": p.at.isoformat()}).rowcount
    return Outcome() if changed else Outcome(message=f"anomaly {p.key} was not open")


def anomaly_policy_set(conn: Tx, _ctx: Context, op: Op, p: AnomalyPolicySet) -> Outcome:
    version = int(conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM anomaly_policies").scalar_one())
    conn.execute("INSERT INTO anomaly_policies (version, rules, note, set_by) VALUES (:v, :r, :n, :b)",
                 {"v": version, "r": json.dumps([r.model_dump(exclude_none=True) for r in p.rules]), "n": p.note,
                  "b": op.actor})
    return Outcome(message=f"anomaly policy version {version}")


def current_rules(conn: Tx) -> list[AnomalyRule]:
    """The rules of the latest anomaly policy (none before the first)."""
    rules = conn.execute("SELECT rules FROM anomaly_policies ORDER BY version DESC LIMIT 1").scalar()
    return [AnomalyRule.model_validate(r) for r in json.loads(rules)] if rules else []


def _act(conn: Tx, ctx: Context, op: Op, p: AnomalyRaised, rule: AnomalyRule,
         compensations: list[dict[str, Any]], last_raised: datetime | None) -> list[str]:
    sku, bin_code = p.numbers.get("sku"), p.numbers.get("bin")
    if rule.action == "recount":
        accuracy = p.numbers.get("accuracy")
        if rule.below is not None and isinstance(accuracy, (int, float)) and accuracy >= rule.below:
            return []
        if not (sku and bin_code and p.location) or _recount_open(conn, p.location, sku, bin_code):
            return []
        # Blind, like every recount: the sentence never carries the books' quantity.
        task = Task("recount", f"Recount {sku} in bin {bin_code}: the hub found its counts unreliable.", "supervisor",
                    {"sku": sku, "bin": bin_code, "anomaly": p.key})
        compensations += record_followups(conn, ctx, op, Decision(tasks=(task,)), p.location)
        return [f"recount of {sku} in bin {bin_code} asked for"]
    if not sku or rule.by is None:
        return []
    if last_raised is not None and p.at - last_raised < SAFETY_COOLDOWN:
        # An anomaly that clears and comes back (a rate near its bar) must not ratchet safety stock up.
        return [f"safety stock of {sku} left as it is: this anomaly was raised before on {last_raised:%Y-%m-%d %H:%M}"]
    where = [p.location] if p.location else [str(w) for w in p.numbers.get("locations") or []]
    return [_raise_safety(conn, location, str(sku), rule.by) for location in sorted(set(where))]


def _recount_open(conn: Tx, location: str, sku: str, bin_code: str) -> bool:
    rows = conn.execute("SELECT details FROM tasks WHERE location = :l AND kind = 'recount' AND status = 'open'",
                        {"l": location}).scalars()
    return any((d := json.loads(r)).get("sku") == sku and d.get("bin") == bin_code for r in rows)


def _raise_safety(conn: Tx, location: str, sku: str, by: int) -> str:
    conn.execute(
        "INSERT INTO stock_policy (location, sku, safety_stock, escrow_floor) VALUES (:l, :s, :b, 0) "
        "ON CONFLICT (location, sku) DO UPDATE SET safety_stock = stock_policy.safety_stock + excluded.safety_stock",
        {"l": location, "s": sku, "b": by})
    now = conn.execute("SELECT safety_stock FROM stock_policy WHERE location = :l AND sku = :s",
                       {"l": location, "s": sku}).scalar_one()
    return f"safety stock of {sku} at {location} raised by {by} to {now}"
