"""This terminal's escrow allotments: units the hub leased to it alone, per SKU, so
it can confirm orders offline. What is left of a lease, and giving back what the
device should no longer hold (the sync agent does so before every round)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from edge_app.local import outbox
from edge_app.local.replica import Replica

__all__ = ["LEASE_MARGIN", "headroom", "evidence", "release_excess"]

# Stop drawing on a lease a little before it ends, in case this clock runs slow.
LEASE_MARGIN = timedelta(minutes=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def headroom(conn: sqlite3.Connection, sku: str, now: datetime) -> int:
    """Units of `sku` this device may still promise offline (0 once the lease ends)."""
    row = conn.execute("SELECT outstanding, expires_at FROM allotments WHERE sku = ?", (sku,)).fetchone()
    if row is None or now >= datetime.fromisoformat(row["expires_at"]) - LEASE_MARGIN:
        return 0
    used = conn.execute("SELECT COALESCE(SUM(qty), 0) FROM escrow_effects WHERE sku = ?", (sku,)).fetchone()[0]
    return max(row["outstanding"] - used, 0)


def evidence(conn: sqlite3.Connection, skus: list[str]) -> list[dict]:
    """The hub's signed word for what it granted this device of each of `skus`, as it
    last came (sync.escrow_evidence): an order confirmed from the allotment carries it,
    so a hub restored from an older backup can honour the order. SKUs without any
    (a hub before evidence) are left out."""
    rows = [conn.execute("SELECT evidence FROM allotments WHERE sku = ?", (sku,)).fetchone() for sku in sorted(set(skus))]
    return [json.loads(row["evidence"]) for row in rows if row is not None and row["evidence"]]


def release_excess(replica: Replica, actor: str = "sync", now: datetime | None = None) -> int:
    """Give back allotment units this device should not hold: all of an ended
    lease, and anything above the hub's target. Returns how many ops it wrote."""
    now = now or _now()
    written = 0
    with replica.transaction() as conn:
        for row in conn.execute("SELECT sku, outstanding, target, expires_at FROM allotments").fetchall():
            used = conn.execute("SELECT COALESCE(SUM(qty), 0) FROM escrow_effects WHERE sku = ?", (row["sku"],)).fetchone()[0]
            spare = row["outstanding"] - used
            ended = now >= datetime.fromisoformat(row["expires_at"]) - LEASE_MARGIN
            give_back = spare if ended else spare - row["target"]
            if give_back > 0:
                outbox.record_op(conn, "allotment.released", {"sku": row["sku"], "qty": give_back}, actor,
                                 outbox.PendingEffect(escrow=((row["sku"], give_back),)))
                written += 1
    return written
