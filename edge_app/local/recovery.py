"""When the device and the hub are out of step (hub.api.pull_checks), and keeping
answered ops for a while so a hub restored from a backup can have them again.

- The hub is behind (`hub_behind_device`): ops it had answered past its last one are
  marked pending again and go out in the next push, in order, each applied once (the
  restored hub has never seen them). Their first answer is kept beside them. Ops
  already pruned cannot be sent: the pending ones are numbered after the hub's last.
- The device is behind (`device_behind_hub`, a wiped or restored replica): its unsent
  ops are numbered after the hub's last one, never dropped.
- Either way, and when the cursor is past the hub's head (`cursor_ahead_of_hub`), the
  device pulls its scope again from 0 (`start_rebootstrap`): entities the hub does not
  send in that pull leave the replica at its end (`end_rebootstrap`)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from sync.models import Change

__all__ = ["RETENTION", "acked_seq", "numbered_seq", "resend_after", "renumber_after", "start_rebootstrap",
           "rebootstrapping", "note_seen", "end_rebootstrap", "prune", "resent"]

# How long answered ops are kept: a hub restored from a backup older than this has
# lost them for good (docs/sync.md: take backups more often than this).
RETENTION = timedelta(days=7)

_EFFECT_TABLES = ("line_effects", "stock_effects", "escrow_effects", "order_effects", "floor_effects")
# Entity tables of the pulled hub state, by the feed's entity name: (table, key column).
_ENTITIES = {"item": ("items", "sku"), "bin": ("bins", "code"), "order": ("orders", "id"), "task": ("tasks", "id"),
             "allotment": ("allotments", "sku"), "operator": ("operators", "operator_id")}
_ENTITIES["carrier_rates"] = ("carrier_rates", "key")  # carriers


def _meta(conn: sqlite3.Connection, key: str, default: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (key, value))


def acked_seq(conn: sqlite3.Connection) -> int:
    """The last op the hub has answered."""
    return int(_meta(conn, "acked_seq", "0"))


def numbered_seq(conn: sqlite3.Connection) -> int:
    """The last op this device numbered."""
    return int(_meta(conn, "next_seq", "1")) - 1


def resend_after(conn: sqlite3.Connection, hub_last: int) -> int:
    """The hub holds this device's ops only up to `hub_last`: the answered ops kept past
    it are pending again (their first answer kept), and pending ops are renumbered if
    some were pruned. Returns how many answered ops go out again."""
    now = _now()
    count = conn.execute(
        "UPDATE outbox SET state = 'pending', resent_at = ?, first_result = result WHERE device_seq > ? AND state <> 'pending'",
        (now, hub_last),
    ).rowcount
    for table in _EFFECT_TABLES:  # their effects are in the state pulled before; the re-bootstrap drops that
        conn.execute(f"DELETE FROM {table} WHERE device_seq IN (SELECT device_seq FROM outbox WHERE resent_at = ?)", (now,))
    _set_meta(conn, "acked_seq", str(hub_last))
    first = conn.execute("SELECT MIN(device_seq) FROM outbox WHERE state = 'pending'").fetchone()[0]
    if first is not None and first != hub_last + 1:
        renumber_after(conn, hub_last)
    return count


def renumber_after(conn: sqlite3.Connection, hub_last: int) -> int:
    """Number the pending ops hub_last+1, hub_last+2, … in their order, their overlays
    with them; returns how many moved. An operator's proof signs the old number: such
    an op is refused `privilege_needed` and shown, not lost silently."""
    pending = [r[0] for r in conn.execute("SELECT device_seq FROM outbox WHERE state = 'pending' ORDER BY device_seq")]
    moves = [(old, hub_last + 1 + i) for i, old in enumerate(pending) if old != hub_last + 1 + i]
    if moves:
        # Through negative numbers first, so no move lands on a row not moved yet.
        for table in ("outbox", *_EFFECT_TABLES):
            conn.executemany(f"UPDATE {table} SET device_seq = ? WHERE device_seq = ?", [(-new, old) for old, new in moves])
            conn.execute(f"UPDATE {table} SET device_seq = -device_seq WHERE device_seq < 0")
    _set_meta(conn, "next_seq", str(hub_last + len(pending) + 1))
    _set_meta(conn, "acked_seq", str(hub_last))
    return len(moves)


def start_rebootstrap(conn: sqlite3.Connection) -> None:
    """Pull the scope again from 0; what that pull does not bring leaves at its end."""
    conn.execute("DELETE FROM rebootstrap_seen")
    _set_meta(conn, "rebootstrap", "1")
    _set_meta(conn, "cursor", "0")
    conn.execute("DELETE FROM meta WHERE key IN ('settled', 'cursor_tag')")


def rebootstrapping(conn: sqlite3.Connection) -> bool:
    return _meta(conn, "rebootstrap", "0") == "1"


def note_seen(conn: sqlite3.Connection, changes: list[Change]) -> None:
    conn.executemany("INSERT OR IGNORE INTO rebootstrap_seen (entity, key) VALUES (?, ?)",
                     [(c.entity, c.key) for c in changes if c.data is not None])


def end_rebootstrap(conn: sqlite3.Connection) -> None:
    """The pull from 0 is complete: entities it did not bring are not the hub's (any
    more), except orders this device created that the hub has not answered yet."""
    for entity, (table, column) in _ENTITIES.items():
        keep = "SELECT key FROM rebootstrap_seen WHERE entity = ?"
        if entity == "order":
            keep += " UNION SELECT order_id FROM order_effects"
            conn.execute(f"DELETE FROM order_lines WHERE order_id NOT IN ({keep})", (entity,))
        conn.execute(f"DELETE FROM {table} WHERE CAST({column} AS TEXT) NOT IN ({keep})", (entity,))
    conn.execute("DELETE FROM barcodes WHERE sku NOT IN (SELECT sku FROM items)")
    conn.execute("DELETE FROM stock WHERE bin || '|' || sku NOT IN (SELECT key FROM rebootstrap_seen WHERE entity = 'stock')")
    conn.execute("DELETE FROM rebootstrap_seen")
    _set_meta(conn, "rebootstrap", "0")


def prune(conn: sqlite3.Connection, now: datetime, retention: timedelta = RETENTION) -> int:
    """Forget answered ops older than the retention window whose effects have settled
    (refusals once an operator dismissed them); returns how many went."""
    before = (now - retention).isoformat()
    return conn.execute(
        "DELETE FROM outbox WHERE acked_at < ? AND (state = 'applied' OR (state = 'rejected' AND dismissed_at IS NOT NULL)) "
        "AND device_seq NOT IN (SELECT device_seq FROM line_effects UNION SELECT device_seq FROM stock_effects "
        "UNION SELECT device_seq FROM escrow_effects UNION SELECT device_seq FROM order_effects "
        "UNION SELECT device_seq FROM floor_effects)",
        (before,),
    ).rowcount


def resent(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, object]]:
    """Ops sent again to a restored hub, newest first: their first and their new answer."""
    rows = conn.execute(
        "SELECT device_seq, kind, actor, state, reason_code, resent_at, first_result, result FROM outbox "
        "WHERE resent_at IS NOT NULL ORDER BY device_seq DESC LIMIT ?", (limit,),
    ).fetchall()
    return [dict(r) for r in rows]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
