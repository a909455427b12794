"""Prometheus metrics in the text exposition format, read from the hub's tables at
scrape time (several processes write the hub, so counters kept in one process's
memory would tell a part): ops logged and refused, the outbox, how far each relay
publisher is behind and how old its oldest unpublished event is, dead letters, open
orders, devices (unsent ops and offline ones per location), open risks and open anomalies. Every query is by index or over a small table."""

from __future__ import annotations

from datetime import datetime, timezone

from hub.events.stream import head
from hub.store.tx import Tx

__all__ = ["metrics_text"]


def metrics_text(conn: Tx, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    out: list[str] = []

    def metric(name: str, kind: str, text: str, samples: list[tuple[dict[str, str], float]]) -> None:
        out.append(f"# HELP {name} {text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            tags = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
            out.append(f"{name}{{{tags}}} {value:g}" if tags else f"{name} {value:g}")

    logged = conn.execute("SELECT COALESCE(MAX(log_seq), 0) FROM op_log").scalar_one()
    refused = conn.execute("SELECT COUNT(*) FROM op_log WHERE status = 'rejected'").scalar_one()
    metric("backroom_ops_logged_total", "counter", "Ops applied or answered (device pushes and hub commands).",
           [({}, logged)])
    metric("backroom_ops_rejected_total", "counter", "Ops the hub refused.", [({}, refused)])
    top = head(conn)
    metric("backroom_outbox_events_total", "counter", "Events written to the outbox.", [({}, top)])
    publishers = conn.execute("SELECT name, position FROM relay_cursors WHERE name LIKE 'jetstream:%'").tuples()
    hooks = conn.execute("SELECT 'webhook:' || id, cursor FROM webhooks WHERE disabled_at IS NULL").tuples()
    behind = [(name, top - int(position)) for name, position in [*publishers, *hooks]]
    metric("backroom_outbox_depth", "gauge", "Events not yet published, per publisher.",
           [({"publisher": name}, depth) for name, depth in behind])
    metric("backroom_relay_lag_seconds", "gauge", "Age of the oldest event a publisher has not published.",
           [({"publisher": name}, _lag(conn, top - depth, now)) for name, depth in behind])
    dead = conn.execute("SELECT webhook_id, COUNT(*) FROM webhook_dead_letters GROUP BY webhook_id").tuples()
    metric("backroom_webhook_dead_letters_total", "counter", "Events given up on, per webhook.",
           [({"webhook": w}, n) for w, n in dead])
    orders = conn.execute("SELECT location, status, COUNT(*) FROM orders WHERE status IN "
                          "('released', 'picking', 'awaiting_stock', 'packing', 'picked', 'short', 'packed') "
                          "GROUP BY location, status").tuples()
    metric("backroom_open_orders", "gauge", "Orders not yet handed over, shipped or closed.",
           [({"location": loc or "", "status": status}, n) for loc, status, n in orders])
    risks = conn.execute("SELECT location, level, COUNT(*) FROM order_risk GROUP BY location, level").tuples()
    metric("backroom_open_risks", "gauge", "Open orders at SLA risk or late, per location.",
           [({"location": loc or "", "level": level}, n) for loc, level, n in risks])
    devices = conn.execute("SELECT location, COUNT(*) FROM devices WHERE revoked_at IS NULL GROUP BY location").tuples()
    metric("backroom_devices", "gauge", "Enrolled devices, per location.", [({"location": loc}, n) for loc, n in devices])
    floor = conn.execute("SELECT location, SUM(unsent_ops), SUM(CASE WHEN online THEN 0 ELSE 1 END) FROM device_status "
                         "GROUP BY location").tuples()  # as the risk refresh last saw the devices (hub.insight.devices)
    metric("backroom_device_unsent_ops", "gauge", "Ops the location's devices hold unsent, as they last reported.",
           [({"location": loc or ""}, int(unsent or 0)) for loc, unsent, _off in floor])
    metric("backroom_devices_offline", "gauge", "Devices not seen for a while, per location.",
           [({"location": loc or ""}, int(off or 0)) for loc, _unsent, off in floor])
    anomalies = conn.execute("SELECT location, kind, COUNT(*) FROM anomalies WHERE status = 'open' "
                             "GROUP BY location, kind").tuples()  # anomalies (by the status index)
    metric("backroom_open_anomalies", "gauge", "Open anomalies, per location (empty: the network's) and kind.",
           [({"location": loc or "", "kind": kind}, n) for loc, kind, n in anomalies])
    return "\n".join(out) + "\n"


def _lag(conn: Tx, cursor: int, now: datetime) -> float:
    oldest = conn.execute("SELECT time FROM events WHERE position > :c ORDER BY position LIMIT 1", {"c": cursor}).scalar()
    return max((now - datetime.fromisoformat(oldest)).total_seconds(), 0.0) if oldest else 0.0


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
