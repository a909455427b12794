"""How this device's sync is doing, in numbers the hub collects and words the
floor reads: outbox depth, age of the oldest unsent action, last good sync,
and escrow headroom (units a terminal may still promise offline)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from edge_app import APP_VERSION
from edge_app.local.allotments import headroom
from sync.models import SyncHealth

__all__ = ["device_health", "describe_health"]


def device_health(conn: sqlite3.Connection, now: datetime) -> SyncHealth:
    depth, oldest = conn.execute(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
    ).fetchone()
    last = conn.execute("SELECT value FROM meta WHERE key = 'last_sync_at'").fetchone()
    skus = [r[0] for r in conn.execute("SELECT sku FROM allotments ORDER BY sku")]
    return SyncHealth(
        outbox_depth=depth,
        oldest_pending_age_s=(now - datetime.fromisoformat(oldest)).total_seconds() if oldest else None,
        last_sync_at=last[0] if last else None,
        escrow_headroom={sku: headroom(conn, sku, now) for sku in skus},
        rejected=conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'rejected'").fetchone()[0],
        app_version=APP_VERSION,
    )


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


def describe_health(health: SyncHealth, now: datetime) -> list[str]:
    """Sentences for the sync status screen."""
    lines = []
    if health.outbox_depth:
        lines.append(f"{health.outbox_depth} action(s) saved on this device, waiting to reach the hub "
                     f"(oldest {_ago(health.oldest_pending_age_s or 0)} ago). They are safe.")
    else:
        lines.append("Everything done on this device has reached the hub.")
    if health.last_sync_at:
        lines.append(f"Last synced {_ago((now - datetime.fromisoformat(health.last_sync_at)).total_seconds())} ago.")
    else:
        lines.append("Not synced with the hub yet.")
    if health.escrow_headroom:
        held = ", ".join(f"{sku} {n}" for sku, n in sorted(health.escrow_headroom.items()))
        lines.append(f"Can still confirm offline: {held}.")
    return lines
