"""Anomalies on the hub: read a bounded window of what the floor did, run the
detectors (hub.insight.detectors), and log what changed.

`read_window` never scans the op log: the outbox's events of the last WINDOW are
found by position (halving to the first one in time, positions rise with time; a
`Tally` kept between refreshes reads only the events past the last one it read), the
conflicts they name are read by id, the open orders by status, the devices from
their table, refusals past the first log_seq of the last day (the `status` index),
and each recently seen device's last ops by its (device_id, device_seq) key.

`refresh` compares the findings with the anomalies open now and logs
`anomaly.raised` for each new one (the policy acts in that same command) and
`anomaly.cleared` for each no longer found, so the outbox tells
`backroom.anomaly.raised` / `backroom.anomaly.cleared` and a replay reaches the same rows."""

from __future__ import annotations

import json
import logging
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError

from hub.commands import AnomalyRaised
from hub.insight.detectors import (BASELINE_DAYS, RECENT, BooksWrong, CountSeen, DeviceSeen, Finding, LineSeen,
                                   OrderSeen, Window, detect)
from hub.log import run_hub_command
from hub.network_reads import Page, decode_cursor, encode_cursor
from hub.store.db import Database
from hub.store.tx import Tx
from sync.hlc import Timestamp

__all__ = ["WINDOW", "FLOOR_STATUSES", "Tally", "read_window", "refresh", "anomaly_rows", "set_policy", "policy_view"]

log = logging.getLogger(__name__)

WINDOW = RECENT + timedelta(days=BASELINE_DAYS)
FLOOR_STATUSES = ("released", "picking", "packing")  # work on the floor (awaiting stock has its own queue)
_BOOKS_RULES = ("short_after_pick_from_bin", "move_beyond_on_hand")
_READ_RULES = (*_BOOKS_RULES, "count_reconciliation")  # the conflicts whose inputs are read
_TYPES = ("backroom.stock.counted", "backroom.stock.changed", "backroom.pick.shorted", "backroom.conflict.recorded")
_RECENT_OPS = 10  # a device's ops its clock is judged by


@dataclass
class Tally:
    """The window's floor facts, kept between refreshes (the relay keeps one): each
    fold reads only the events past `position` and forgets what has left the window."""

    position: int = -1  # the last event folded; -1: none read yet
    window: Window = field(default_factory=Window)
    progress: dict[str, datetime] = field(default_factory=dict)  # order → when it last moved

    def fold(self, conn: Tx, now: datetime) -> Window:
        """The window at `now`: new events folded in, old facts dropped, the open
        orders and the devices read afresh."""
        if self.position < 0:
            self.position = _first_after(conn, "events", "position", "time", now - WINDOW)
        rows = conn.execute("SELECT position, id, type, subject, time, data FROM events WHERE position > :p "
                            "AND (type IN :types OR type LIKE 'backroom.order.%') ORDER BY position",
                            {"p": self.position, "types": list(_TYPES)}).tuples()
        by_op: dict[str, list[tuple[str, str | None, datetime, dict[str, Any]]]] = defaultdict(list)
        for position, event_id, kind, subject, at, data in rows:
            by_op[event_id.rsplit(":", 1)[0]].append((kind, subject, _when(at), json.loads(data)))
            self.position = max(self.position, int(position))
        conflicts = _conflict_inputs(conn, by_op)
        for events in by_op.values():  # an op's events are written, and seen, together
            _read_op(events, self.window, self.progress, conflicts)
        self._forget(now - WINDOW)
        return Window(list(self.window.counts), list(self.window.books), list(self.window.lines),
                      _floor_orders(conn, self.progress), _devices(conn, now))

    def _forget(self, before: datetime) -> None:
        w = self.window
        w.counts = [c for c in w.counts if c.at >= before]
        w.books = [b for b in w.books if b.at >= before]
        w.lines = [s for s in w.lines if s.at >= before]
        self.progress = {o: at for o, at in self.progress.items() if at >= before}


def read_window(conn: Tx, now: datetime) -> Window:
    """What the detectors read, from bounded queries (see the module's docstring)."""
    return Tally().fold(conn, now)


def _read_op(events: list[tuple[str, str | None, datetime, dict[str, Any]]], window: Window,
             progress: dict[str, datetime], conflicts: dict[int, dict[str, Any]]) -> None:
    """One op's events: its counts (with the variance its reconciliation recorded), picks,
    shorts, the books caught wrong, and when each order it touched last moved."""
    # A count's variance is in its count_reconciliation conflict (none: the books were right).
    variance = sum(int(c.get("counted", 0)) - int(c.get("expected_at_count", 0)) for c in (
        conflicts.get(int(d["conflict_id"]), {}) for kind, _s, _a, d in events
        if kind == "backroom.conflict.recorded" and d["rule"] == "count_reconciliation"))
    for kind, subject, at, d in events:
        if kind == "backroom.order.delayed":
            continue  # the risk refresh's word about an order, not the floor moving it
        if kind == "backroom.stock.counted":
            window.counts.append(CountSeen(d["location"], d["bin"], d["sku"], variance, at))
        elif kind == "backroom.stock.changed" and d["reason"] == "pick":
            window.lines.append(LineSeen(d["location"], d["sku"], False, at))
        elif kind == "backroom.pick.shorted" and d.get("location"):
            window.lines.append(LineSeen(d["location"], d["sku"], True, at))
        elif kind == "backroom.conflict.recorded" and d["rule"] in _BOOKS_RULES and d.get("location"):
            if (wrong := _books_wrong(d, at, events, conflicts.get(int(d["conflict_id"]), {}))) is not None:
                window.books.append(wrong)
        order_id = d.get("order_id") if kind != "backroom.conflict.recorded" else None
        if isinstance(order_id, str):
            progress[order_id] = max(progress.get(order_id, at), at)


def _books_wrong(d: dict[str, Any], at: datetime, events: list[tuple[str, str | None, datetime, dict[str, Any]]],
                 inputs: dict[str, Any]) -> BooksWrong | None:
    if d["rule"] == "short_after_pick_from_bin":
        short = next((e for k, _s, _a, e in events if k == "backroom.pick.shorted" and e.get("bin")), None)
        if short is None:
            return None
        return BooksWrong(d["location"], short["bin"], short["sku"], d["rule"], int(inputs.get("bin_on_hand", 0)),
                          int(inputs.get("short", short["qty"])), at)
    out = next((e for k, _s, _a, e in events if k == "backroom.stock.changed" and e["reason"] == "move"
                and e["delta"] < 0), None)
    if out is None:
        return None
    return BooksWrong(d["location"], out["bin"], out["sku"], d["rule"], int(inputs.get("on_hand", 0)),
                      int(inputs.get("moved", -out["delta"])), at)


def _conflict_inputs(conn: Tx, by_op: dict[str, list[tuple[str, str | None, datetime, dict[str, Any]]]]) -> dict[int, Any]:
    ids = sorted(int(d["conflict_id"]) for events in by_op.values() for kind, _s, _a, d in events
                 if kind == "backroom.conflict.recorded" and d["rule"] in _READ_RULES)
    found: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        for cid, inputs in conn.execute("SELECT id, inputs FROM conflicts WHERE id IN :ids",
                                        {"ids": ids[start:start + 500]}).tuples():
            found[int(cid)] = json.loads(inputs)
    return found


def _floor_orders(conn: Tx, progress: dict[str, datetime]) -> list[OrderSeen]:
    rows = conn.execute("SELECT id, number, location, status, created_at FROM orders WHERE status IN :s "
                        "AND location IS NOT NULL", {"s": list(FLOOR_STATUSES)}).tuples()
    return [OrderSeen(i, number, location, status, max(_when(created), progress.get(i, _when(created))))
            for i, number, location, status, created in rows]


def _devices(conn: Tx, now: datetime) -> list[DeviceSeen]:
    since = _first_after(conn, "op_log", "log_seq", "applied_at", now - RECENT)
    refused = dict(conn.execute("SELECT device_id, COUNT(*) FROM op_log WHERE status = 'rejected' AND log_seq > :s "
                                "GROUP BY device_id", {"s": since}).tuples())
    devices = []
    for device_id, name, location, seen, health in conn.execute(
            "SELECT id, name, location, last_seen_at, health FROM devices WHERE revoked_at IS NULL").tuples():
        report = json.loads(health) if health else {}
        last_seen = _when(seen) if seen else None
        recent = last_seen is None or now - last_seen <= RECENT  # one long away has no recent ops to judge
        ahead = _ahead(conn, device_id, since) if recent else None
        devices.append(DeviceSeen(device_id, name, location, last_seen, int(report.get("outbox_depth") or 0),
                                  timedelta(seconds=float(report.get("oldest_pending_age_s") or 0)),
                                  int(refused.get(device_id, 0)), ahead))
    return devices


def _ahead(conn: Tx, device_id: str, since: int) -> timedelta | None:
    """How far the device's clock ran ahead of the hub's over its last ops (median)."""
    rows = conn.execute("SELECT hlc, applied_at, log_seq FROM op_log WHERE device_id = :d ORDER BY device_seq DESC "
                        "LIMIT :n", {"d": device_id, "n": _RECENT_OPS}).tuples()
    gaps = []
    for hlc, applied, seq in rows:
        try:
            wall = datetime.fromtimestamp(Timestamp.decode(hlc).wall_ms / 1000, timezone.utc)
        except (ValueError, OverflowError, OSError):
            continue  # a malformed stamp was refused at the door; it says nothing of the clock
        if seq > since:
            gaps.append((wall - _when(applied)).total_seconds())
    return timedelta(seconds=statistics.median(gaps)) if gaps else None


def _first_after(conn: Tx, table: str, key: str, column: str, since: datetime) -> int:
    """The last `key` before the first row at or after `since` (keys rise with time):
    halving, a handful of primary-key look-ups."""
    at_or_after = since.isoformat()
    low, high = 0, int(conn.execute(f"SELECT COALESCE(MAX({key}), 0) FROM {table}").scalar_one())
    while low < high:
        mid = (low + high) // 2
        at = conn.execute(f"SELECT {column} FROM {table} WHERE {key} > :p ORDER BY {key} LIMIT 1", {"p": mid}).scalar()
        if at is not None and at >= at_or_after:
            high = mid
        else:
            low = mid + 1
    return low


def refresh(db: Database, now: datetime | None = None, actor: str = "anomalies",
            tally: Tally | None = None) -> dict[str, int]:
    """Run the detectors; log `anomaly.raised` for new findings and `anomaly.cleared`
    for open anomalies no longer found. Returns counts: open, raised, cleared.
    `tally`: the facts of earlier refreshes, to read only what came since (none: the
    whole window is read)."""
    now = now or datetime.now(timezone.utc)
    with db.read() as conn:
        findings = detect((tally or Tally()).fold(conn, now), now)
        open_now = dict(conn.execute("SELECT key, location FROM anomalies WHERE status = 'open'").tuples())
    found = {f.key for f in findings}
    at = now.isoformat()
    raised = [p for p in (_raise_payload(f, at) for f in findings if f.key not in open_now) if p is not None]
    cleared = sorted(k for k in open_now if k not in found)
    for start in range(0, max(len(raised), len(cleared), 1), 200):
        with db.write() as conn:
            for payload in raised[start:start + 200]:
                run_hub_command(conn, "anomaly.raised", payload, actor)
            for key in cleared[start:start + 200]:
                run_hub_command(conn, "anomaly.cleared", {"key": key, "location": open_now[key], "at": at}, actor)
    return {"open": len(findings), "raised": len(raised), "cleared": len(cleared)}


def _raise_payload(f: Finding, at: str) -> dict[str, Any] | None:
    """The `anomaly.raised` payload of a finding; one the command would refuse (words
    from a device's name it cannot carry, say) is left out and logged, so it does not
    hold back the others."""
    payload = {"key": f.key[:240], "kind": f.kind, "location": f.location, "subject": _printable(f.subject)[:200],
               "evidence": _printable(f.evidence)[:2000], "numbers": f.numbers, "at": at}
    try:
        AnomalyRaised.model_validate(payload)
    except ValidationError as exc:
        log.warning("anomaly %s left out: %s", f.key, exc.errors()[0]["msg"])
        return None
    return payload


def _printable(text: str) -> str:
    return _CONTROL.sub(" ", text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def anomaly_rows(conn: Tx, scope: frozenset[str] | None, *, status: str | None = None, kind: str | None = None,
                 location: str | None = None, after: str | None = None, limit: int = 100) -> Page:
    """Anomalies newest first, filtered, one page by a cursor over (raised_at, key);
    `scope`: only those at these locations (None: all, the network's own included)."""
    limit = max(1, min(limit, 1000))
    where, params = ["1 = 1"], dict[str, Any](lim=limit + 1)
    for column, value in (("status", status), ("kind", kind), ("location", location)):
        if value:
            where.append(f"{column} = :{column}")
            params[column] = value
    if scope is not None:
        where.append("location IN :scope")
        params["scope"] = sorted(scope) or [""]
    key = decode_cursor(after, 2)
    if key is not None:
        where.append("(raised_at, key) < (:k0, :k1)")
        params.update(k0=key[0], k1=key[1])
    rows = [dict(r) for r in conn.execute(
        "SELECT key, kind, location, subject, status, evidence, numbers, raised_at, cleared_at, action FROM anomalies "
        f"WHERE {' AND '.join(where)} ORDER BY raised_at DESC, key DESC LIMIT :lim", params).mappings()]
    for r in rows:
        r["numbers"] = json.loads(r["numbers"])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1]["raised_at"], rows[-1]["key"]])


def _when(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- the anomaly policy ---------------------------------------------------------------
def set_policy(conn: Tx, rules: list[dict[str, Any]], note: str, actor: str) -> dict[str, Any]:
    """A new anomaly policy version. Raises Invalid naming the rule field that is wrong."""
    run_hub_command(conn, "anomaly.policy_set", {"rules": rules, "note": note}, actor=actor)
    return policy_view(conn)


def policy_view(conn: Tx) -> dict[str, Any]:
    row = conn.execute("SELECT version, rules, note, set_by FROM anomaly_policies ORDER BY version DESC LIMIT 1").first()
    if row is None:
        return {"version": 0, "rules": [], "note": "", "set_by": ""}
    return {"version": row.version, "rules": json.loads(row.rules), "note": row.note, "set_by": row.set_by}
