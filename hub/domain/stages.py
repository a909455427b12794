"""When an order reached each stage of fulfilment, written by the handler that moved
it there, at the time of the op's hybrid logical clock (when the floor did it; a replay
writes the same). The first time counts: an order that goes back to picking and is
picked again keeps its first picked time. Read by hub.insight.analytics."""

from __future__ import annotations

from datetime import datetime, timezone

from hub.store.tx import Tx
from sync.hlc import Timestamp

__all__ = ["STAGES", "stage_of", "stamp", "stamp_many"]

STAGES = ("picked", "packed", "shipped", "handed_over")
# The order status that means a stage is reached; short is picked with units missing.
_STAGE_OF = {"picked": "picked", "short": "picked", "packed": "packed", "shipped": "shipped",
             "handed_over": "handed_over", "partly_handed_over": "handed_over"}


def stage_of(status: str) -> str | None:
    return _STAGE_OF.get(status)


def stamp(conn: Tx, order_id: str, status: str, location: str | None, hlc: str | None) -> None:
    """Record that the order reached the stage `status` stands for (if any) at `hlc`."""
    stamp_many(conn, [(order_id, status, location, hlc)])


def stamp_many(conn: Tx, rows: list[tuple[str, str, str | None, str | None]]) -> None:
    """`stamp` for many (order_id, status, location, hlc); a clock that does not read is skipped."""
    values = []
    for order_id, status, location, hlc in rows:
        stage, at = stage_of(status), _wall(hlc)
        if stage is not None and at is not None:
            values.append((order_id, stage, location, at, hlc))
    if values:
        conn.executemany("INSERT INTO order_stages (order_id, stage, location, at, hlc) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (order_id, stage) DO NOTHING", values)


def _wall(hlc: str | None) -> str | None:
    try:
        return datetime.fromtimestamp(Timestamp.decode(hlc or "").wall_ms / 1000, tz=timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        return None
