"""The audit trail: who did what, when, from where, and how it ended.

Written here: admin actions (tokens issued, rotated, revoked; devices enrolled and
revoked; operators changed; policies set), every failed authentication and enrolment,
and incidents (ops the hub could not apply). Refused ops are already answered in the
op log with their reason; `audit_rows` reads them from there beside the rest, so the
trail shows every case without writing each refusal twice."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hub.store.db import Database
from hub.store.tx import Tx

__all__ = ["record_audit", "audit_now", "audit_rows"]


def record_audit(conn: Tx, actor: str, action: str, target: str, outcome: str, client: str,
                 detail: dict[str, Any] | None = None) -> None:
    """Add one entry inside the caller's transaction (it stands or falls with the act)."""
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, outcome, client, detail) VALUES (:at, :a, :ac, :t, :o, :c, :d)",
        {"at": datetime.now(timezone.utc).isoformat(), "a": actor[:100], "ac": action[:40], "t": target[:200],
         "o": outcome[:20], "c": client[:64], "d": json.dumps(detail or {}, sort_keys=True)},
    )


def audit_now(db: Database, actor: str, action: str, target: str, outcome: str, client: str,
              detail: dict[str, Any] | None = None) -> None:
    """Add one entry in a transaction of its own (a refusal, whose act wrote nothing)."""
    with db.write() as conn:
        record_audit(conn, actor, action, target, outcome, client, detail)


def audit_rows(conn: Tx, since: str | None = None, action: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The trail, newest first: audit entries and refused device ops together."""
    params: dict[str, Any] = {"since": since or "", "lim": limit}
    rows = [
        {**r, "detail": json.loads(r["detail"])}
        for r in conn.execute(
            "SELECT at, actor, action, target, outcome, client, detail FROM audit WHERE at >= :since "
            "ORDER BY at DESC, id DESC LIMIT :lim", params).mappings()
    ]
    refused = conn.execute(
        "SELECT applied_at, device_id, actor, kind, device_seq, result, location FROM op_log "
        "WHERE device_id <> 'hub' AND applied_at >= :since AND result LIKE '%\"status\":\"rejected\"%' "
        "ORDER BY log_seq DESC LIMIT :lim", params).mappings()
    for r in refused:
        result = json.loads(r["result"])
        rows.append({"at": r["applied_at"], "actor": f"{r['actor']} on device:{r['device_id']}", "action": "op.refused",
                     "target": f"{r['kind']} #{r['device_seq']}", "outcome": result.get("reason_code") or "rejected",
                     "client": r["location"] or "", "detail": {"message": result.get("message")}})
    rows.sort(key=lambda r: r["at"], reverse=True)
    return [r for r in rows if action is None or r["action"] == action][:limit]
