"""Determinism check: hub state is a fold over the log. Replaying the log into
an empty database must give the same state digest and the same answers."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from hub.domain.routing_policy import RoutingPolicy
from hub.log import DOOR_CODES, INCIDENT_CODES, apply_op, log_ops
from hub.outcome import HUB_DEVICE, HUB_ROLE, LEGACY_ROLE, Context
from hub.store.db import Database
from hub.store.migrations import migrate
from hub.store.tx import Tx
from sync.models import Op, OpResult

__all__ = ["DOMAIN_TABLES", "NOT_FOLDED", "state_digest", "replay", "Verdict"]

# Domain state and the columns that identify it. Surrogate ids are left out:
# PostgreSQL sequences skip numbers on rollback, so ids are not part of the fold.
DOMAIN_TABLES: dict[str, tuple[str, ...]] = {
    "items": ("sku", "name", "unit_weight_g"),
    "barcodes": ("code", "sku"),
    "locations": ("code", "name", "kind"),
    "bins": ("location", "code", "seq"),
    "movements": ("location", "bin", "sku", "qty", "reason", "order_id", "op_id", "hlc"),
    "stock": ("location", "bin", "sku", "on_hand"),
    "orders": ("id", "number", "channel", "fulfilment", "promised_by", "customer_name", "location", "status", "created_at", "staging", "staging_hlc", "tote", "pickup_code", "pickup_by", "claimed_by", "claimed_actor", "claimed_hlc"),
    "order_lines": ("order_id", "line_no", "sku", "qty", "pick_bin", "qty_picked", "qty_short", "short_reason", "qty_handed_over", "qty_returned", "qty_refunded", "qty_packed", "qty_refused"),
    "reservations": ("order_id", "line_no", "location", "sku", "qty"),
    "tasks": ("kind", "location", "for_role", "sentence", "details", "order_id", "op_id", "status", "assigned_to", "note"),
    "conflicts": ("rule", "op_id", "device_id", "location", "inputs", "outcome", "hlc", "resolved_by", "resolved_at", "note"),
    "returns": ("id", "order_id", "location", "lines", "op_id"),
    "operators": ("operator_id", "name", "role", "location", "pin_hash", "salt", "active"),
    "proof_failures": ("device_id", "operator_id", "failures"),
    "cartons": ("carton_id", "order_id", "location", "carton_type", "weight_g", "contents", "status", "op_id"),
    "allotments": ("device_id", "location", "sku", "granted", "used", "released", "target", "expires_at"),
    "stock_policy": ("location", "sku", "safety_stock", "escrow_floor"),
    "op_reviews": ("op_id", "reviewed_by", "reviewed_at", "note"),
    # events and foresight
    "order_risk": ("order_id", "location", "level", "reason", "assessed_at"),
    "device_status": ("device_id", "location", "online", "unsent_ops", "last_seen_at", "changed_at"),
    # receiving
    "goods_receipts": ("op_id", "location", "bin", "sku", "qty", "gtin", "batch", "expiry", "reference", "actor", "hlc"),
    # routing
    "order_details": ("order_id", "requested_location", "ship_to", "contact", "priority", "substitutes", "parent_id", "link_reason"),
    "location_profiles": ("code", "lat", "lon", "tz_offset_min", "hours", "daily_capacity", "rank"),
    "routing_policies": ("version", "policy", "note", "set_by"),
    "routing_decisions": ("order_id", "policy_version", "trigger", "at", "outcome", "rule", "shipments", "candidates", "op_id",
                          "why_here"),
    "route_loads": ("location", "day", "orders"),
    "routing_waits": ("order_id", "sku"),
    "routing_exclusions": ("order_id", "location", "reason"),
    "routing_network": ("id", "op_id"),
}
# set-up: the network's details and transfers between locations
DOMAIN_TABLES["items"] += ("length_mm", "width_mm", "height_mm", "hazmat", "min_age")
DOMAIN_TABLES["locations"] += ("address", "lat", "lon", "time_zone", "opening_hours", "daily_capacity")
DOMAIN_TABLES["bins"] += ("zone",)
DOMAIN_TABLES["transfers"] = ("transfer_id", "from_location", "to_location", "lines", "status", "shipped_hlc",
                              "received_bin", "received_hlc")
# substitution at pick: the rule's catalogue attributes, substitute rules, what a line got instead
DOMAIN_TABLES["items"] += ("category", "size_qty", "size_unit", "price_cents")
DOMAIN_TABLES["order_lines"] += ("substitute_sku", "qty_substituted")
DOMAIN_TABLES["substitute_rules"] = ("sku", "substitutes", "by_rule", "price_band_pct")
# anomalies and the policy acting on them
DOMAIN_TABLES["anomalies"] = ("key", "kind", "location", "subject", "status", "evidence", "numbers", "raised_at",
                              "cleared_at", "action")
DOMAIN_TABLES["anomaly_policies"] = ("version", "rules", "note", "set_by")
# carriers: rate tables by version, and each carton's carrier service and handover
DOMAIN_TABLES["carrier_rate_tables"] = ("version", "rates", "origins", "digest", "note", "set_by")
DOMAIN_TABLES["carton_shipments"] = ("carton_id", "order_id", "location", "carrier", "service", "tracking", "zone",
                                     "price_cents", "rates_version", "chosen_by", "choice", "handed_day", "handed_at")
# fulfilment analytics: when each order reached each stage (from the op's HLC)
DOMAIN_TABLES["order_stages"] = ("order_id", "stage", "location", "at", "hlc")
# routing: the lines a channel wants shipped together
DOMAIN_TABLES["order_details"] += ("ship_groups",)
# Tables logged ops never write: the log itself, the feed it produced, credentials
# and what devices report about themselves. Every other table is in the digest
# (tests/integration/test_verify.py checks that no table is forgotten).
NOT_FOLDED = frozenset({"_migrations", "op_log", "changes", "devices", "enrollment_codes", "api_tokens", "audit",
                        "admins", "admin_sessions"}) | frozenset({
    # events out: the outbox the log writes beside op_log, and the relay's own bookkeeping
    "events", "event_order_status", "relay_cursors", "webhooks", "webhook_dead_letters",
}) | frozenset({
    # scheduled jobs: their leases and last results (what they did is logged hub commands)
    "job_runs",
}) | frozenset({
    # returns from any channel: the keys return codes are signed with (a credential)
    "return_code_keys",
}) | frozenset({
    # escrow through a restore: the keys allotment evidence is signed with (a credential)
    "escrow_keys",
})


def _routing_policy(text: str) -> str:
    return RoutingPolicy.model_validate_json(text).model_dump_json()


# Columns holding a model's JSON, compared as today's model reads them: a policy stored
# by an older release lacks the fields added since (split.keep_groups), which a replay
# writes with their defaults; both mean the same policy.
AS_READ_NOW: dict[tuple[str, str], Callable[[str], str]] = {("routing_policies", "policy"): _routing_policy}


def state_digest(conn: Tx) -> tuple[str, dict[str, int]]:
    """A SHA-256 over every domain row in a fixed order, and row counts per table."""
    digest = hashlib.sha256()
    counts = {}
    for table, columns in DOMAIN_TABLES.items():
        cols = ", ".join(columns)
        rows = conn.execute(f"SELECT {cols} FROM {table}").all()
        readers = [AS_READ_NOW.get((table, c)) for c in columns]
        if any(readers):
            rows = [tuple(r(v) if r and v is not None else v for r, v in zip(readers, row)) for row in rows]
        encoded = sorted(json.dumps([_plain(v) for v in row]) for row in rows)
        digest.update(table.encode())
        for line in encoded:
            digest.update(line.encode())
        counts[table] = len(rows)
    return digest.hexdigest(), counts


def _plain(value):
    return int(value) if isinstance(value, bool) else value


@dataclass
class Verdict:
    ops: int
    original: str
    replayed: str
    counts: dict[str, int]
    different_answers: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.original == self.replayed and not self.different_answers


def replay(db: Database, batch: int = 500) -> Verdict:
    """Replay `db`'s log into a fresh SQLite database and compare."""
    with db.read() as conn:
        original, counts = state_digest(conn)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Database(f"sqlite:///{Path(tmp) / 'replay.db'}")
        migrate(fresh)
        ops, different = _replay_into(db, fresh, batch)
        with fresh.read() as conn:
            replayed, _ = state_digest(conn)
        fresh.dispose()
    return Verdict(ops, original, replayed, counts, different)


def _replay_into(source: Database, target: Database, batch: int) -> tuple[int, list[str]]:
    different: list[str] = []
    done, after = 0, 0
    while True:
        with source.read() as conn:
            rows = conn.execute(
                "SELECT * FROM op_log WHERE log_seq > :a ORDER BY log_seq LIMIT :n", {"a": after, "n": batch}
            ).mappings().all()
        if not rows:
            return done, different
        with target.write() as conn:
            for row in rows:
                _replay_one(conn, row, different)
        done += len(rows)
        after = rows[-1]["log_seq"]


def _replay_one(conn: Tx, row, different: list[str]) -> None:
    op = Op.model_construct(op_id=row["op_id"], device_id=row["device_id"], device_seq=row["device_seq"], kind=row["kind"],
                            payload=json.loads(row["payload"]), actor=row["actor"], hlc=row["hlc"],
                            schema_version=row["schema_version"], proof=row["proof"])
    ctx = Context(row["device_id"], row["location"], _role(row))
    logged = OpResult.model_validate_json(row["result"])
    # An incident was answered without being applied: it is answered so again.
    # sync: so is an op refused at the door (DOOR_CODES), before any handler ran.
    result = logged if logged.reason_code in INCIDENT_CODES + DOOR_CODES else apply_op(conn, ctx, op)
    log_ops(conn, [(ctx, op, result)])
    if _answer(result) != _answer(logged):
        different.append(f"{op.device_id}#{op.device_seq} {op.kind}: logged {_answer(logged)}, replayed {_answer(result)}")


def _role(row) -> str:
    """The sender's role as logged; ops logged before roles were are replayed unchecked."""
    if row["role"]:
        return row["role"]
    return HUB_ROLE if row["device_id"] == HUB_DEVICE else LEGACY_ROLE


def _answer(result: OpResult) -> tuple:
    return (result.status.value, result.reason_code, tuple(c.kind for c in result.compensations))
