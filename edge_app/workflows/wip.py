"""Work in progress that survives an app restart: each operator's open pick batch
or carton, saved as a small JSON state after every step and restored when that
operator signs in again."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from edge_app.local.replica import Replica

__all__ = ["save", "load", "clear", "latest"]


def save(replica: Replica, operator_id: str, flow: str, state: dict[str, Any]) -> None:
    """Replace the operator's saved state for `flow` ("batch", "pack", …)."""
    with replica.transaction() as conn:
        conn.execute(
            "INSERT INTO wip (operator_id, flow, state, saved_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (operator_id, flow) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at",
            (operator_id, flow, json.dumps(state, sort_keys=True), datetime.now(timezone.utc).isoformat()),
        )


def load(replica: Replica, operator_id: str, flow: str) -> dict[str, Any] | None:
    row = replica.query_one("SELECT state FROM wip WHERE operator_id = ? AND flow = ?", (operator_id, flow))
    return json.loads(row["state"]) if row else None


def clear(replica: Replica, operator_id: str, flow: str) -> None:
    with replica.transaction() as conn:
        conn.execute("DELETE FROM wip WHERE operator_id = ? AND flow = ?", (operator_id, flow))


def latest(replica: Replica, operator_id: str) -> str | None:
    """The flow the operator last saved work in, if any is open."""
    row = replica.query_one("SELECT flow FROM wip WHERE operator_id = ? ORDER BY saved_at DESC LIMIT 1", (operator_id,))
    return row["flow"] if row else None
