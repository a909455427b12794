"""Devices going offline and coming back: a device not seen for OFFLINE_AFTER is
offline. `refresh` compares each device with the state last logged (`device_status`)
and logs `device.status_set` where it changed, so the outbox tells
`backroom.device.offline` / `backroom.device.online` (with the ops it had not sent,
as its last health report said)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hub.insight.risk import OFFLINE_AFTER
from hub.log import run_hub_command
from hub.store.db import Database

__all__ = ["refresh_devices"]


def refresh_devices(db: Database, now: datetime | None = None, actor: str = "watch") -> int:
    """Log every device whose online state changed; returns how many."""
    now = now or datetime.now(timezone.utc)
    with db.read() as conn:
        devices = conn.execute("SELECT id, location, last_seen_at, health FROM devices WHERE revoked_at IS NULL").tuples()
        known = {d: bool(o) for d, o in conn.execute("SELECT device_id, online FROM device_status").tuples()}
    changed = []
    for device_id, location, seen, health in devices:
        online = seen is not None and now - _when(seen) <= OFFLINE_AFTER
        if seen is None or known.get(device_id, True) == online:
            continue  # never seen yet, or as logged (a device is taken to be online until it is not)
        changed.append({"device_id": device_id, "location": location, "online": online, "last_seen_at": seen,
                        "unsent_ops": int((json.loads(health) if health else {}).get("outbox_depth") or 0),
                        "at": now.isoformat()})
    for start in range(0, len(changed), 200):
        with db.write() as conn:
            for payload in changed[start:start + 200]:
                run_hub_command(conn, "device.status_set", payload, actor)
    return len(changed)


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
