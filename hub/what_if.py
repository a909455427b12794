"""What-if: replay the log into a scratch SQLite database under a candidate routing
policy (in force from the first op, and in place of every policy set since), and
compare with what happened: orders per location, parked and split orders, and each
order whose route changed with both explanations. Floor ops replay as logged; one
that no longer fits (a pick at a location the order did not go to) is refused in the
scratch database, and counted."""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.domain.routing import decisions_for
from hub.domain.routing_policy import RoutingPolicy
from hub.log import INCIDENT_CODES, apply_op, log_ops
from hub.outcome import HUB_DEVICE, HUB_ROLE, Context
from hub.store.db import Database
from hub.store.migrations import migrate
from hub.store.tx import Tx
from hub.verify import _role
from sync.kinds import SCHEMA_VERSION
from sync.models import Op, OpResult, OpStatus

__all__ = ["Comparison", "what_if"]


@dataclass
class Comparison:
    ops: int = 0
    orders: int = 0
    per_location: dict[str, tuple[int, int]] = field(default_factory=dict)  # location → (actual, what-if)
    parked: tuple[int, int] = (0, 0)
    splits: tuple[int, int] = (0, 0)
    refused_differently: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)

    def lines(self, show: int = 10) -> list[str]:
        out = [f"replayed {self.ops} ops, {self.orders} orders; {len(self.changed)} routed differently",
               f"parked: {self.parked[0]} → {self.parked[1]}; split: {self.splits[0]} → {self.splits[1]}; "
               f"ops answered differently: {self.refused_differently}", "orders per location (actual → what-if):"]
        out += [f"  {loc or '(none)'}: {a} → {b}" for loc, (a, b) in sorted(self.per_location.items(), key=lambda x: x[0] or "")]
        for c in self.changed[:show]:
            out.append(f"{c['number']}: {c['actual']['location']} → {c['what_if']['location']}")
            out += [f"    actual:  {line}" for line in c["actual"]["explanation"]]
            out += [f"    what-if: {line}" for line in c["what_if"]["explanation"]]
        return out


def what_if(db: Database, policy: RoutingPolicy, batch: int = 500) -> Comparison:
    """Compare `db`'s history with a replay of its log under `policy` (db is only read)."""
    result = Comparison()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Database(f"sqlite:///{Path(tmp) / 'what-if.db'}")
        migrate(scratch)
        body = {"policy": policy.model_dump(mode="json"), "note": "what-if"}
        with scratch.write() as conn:
            # Logged under its own device id: the replayed log keeps the hub's sequence numbers.
            _apply(conn, Op.model_construct(op_id=str(uuid.uuid4()), device_id="what-if", device_seq=1,
                                            kind="routing.policy_set", payload=body, actor="what-if", hlc="0",
                                            schema_version=SCHEMA_VERSION, proof=None), Context("what-if", None, HUB_ROLE))
        result.ops, result.refused_differently = _replay(db, scratch, body, batch)
        with db.read() as live, scratch.read() as alt:
            _compare(live, alt, result)
        scratch.dispose()
    return result


def _replay(source: Database, target: Database, policy_body: dict[str, Any], batch: int) -> tuple[int, int]:
    done, different, after = 0, 0, 0
    while True:
        with source.read() as conn:
            rows = conn.execute("SELECT * FROM op_log WHERE log_seq > :a ORDER BY log_seq LIMIT :n",
                                {"a": after, "n": batch}).mappings().all()
        if not rows:
            return done, different
        with target.write() as conn:
            for row in rows:
                payload = policy_body if row["kind"] == "routing.policy_set" else json.loads(row["payload"])
                op = Op.model_construct(op_id=row["op_id"], device_id=row["device_id"], device_seq=row["device_seq"],
                                        kind=row["kind"], payload=payload, actor=row["actor"], hlc=row["hlc"],
                                        schema_version=row["schema_version"], proof=row["proof"])
                logged = OpResult.model_validate_json(row["result"])
                if logged.reason_code in INCIDENT_CODES:
                    continue
                answer = _apply(conn, op, Context(row["device_id"], row["location"], _role(row)))
                different += answer.status != logged.status
        done += len(rows)
        after = rows[-1]["log_seq"]


def _apply(conn: Tx, op: Op, ctx: Context) -> OpResult:
    result = apply_op(conn, ctx, op)
    if result.status == OpStatus.APPLIED or op.device_id != HUB_DEVICE:
        log_ops(conn, [(ctx, op, result)])  # a refused hub command is not logged, as when it ran
    return result


def _orders(conn: Tx) -> dict[str, tuple[str, str | None, str]]:
    return {r.id: (r.number, r.location, r.status) for r in conn.execute("SELECT id, number, location, status FROM orders")}


def _compare(live: Tx, alt: Tx, result: Comparison) -> None:
    actual, other = _orders(live), _orders(alt)
    result.orders = len(actual)
    counts: dict[str, list[int]] = {}
    for side, orders in ((0, actual), (1, other)):
        for _number, location, _status in orders.values():
            counts.setdefault(location or "", [0, 0])[side] += 1
    result.per_location = {k: (v[0], v[1]) for k, v in counts.items()}
    parked = [sum(1 for o in orders.values() if o[2] == "awaiting_stock") for orders in (actual, other)]
    splits = [int(conn.execute("SELECT COUNT(*) FROM routing_decisions WHERE outcome = 'split'").scalar_one())
              for conn in (live, alt)]
    result.parked, result.splits = (parked[0], parked[1]), (splits[0], splits[1])
    for order_id, (number, location, _status) in sorted(actual.items(), key=lambda x: x[1][0]):
        there = other.get(order_id)
        if there is not None and there[1] == location:
            continue
        result.changed.append({"order_id": order_id, "number": number,
                               "actual": _side(live, order_id, location),
                               "what_if": _side(alt, order_id, there[1] if there else None)})


def _side(conn: Tx, order_id: str, location: str | None) -> dict[str, Any]:
    decisions = decisions_for(conn, order_id)
    return {"location": location, "explanation": decisions[-1]["explanation"] if decisions else []}
