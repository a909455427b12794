"""Reading the outbox: pages of events past a position, as CloudEvents, and the
cursors of the relay's publishers (JetStream streams, webhooks keep theirs on their row)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, NamedTuple

from hub.events.types import SOURCE, SPEC_VERSION
from hub.store.tx import Tx

__all__ = ["StoredEvent", "page", "head", "cursor", "set_cursor", "envelope", "envelope_json"]


class StoredEvent(NamedTuple):
    """An outbox row; `data` is the stored JSON text."""

    position: int
    id: str
    type: str
    subject: str | None
    location: str | None
    time: str
    data: str


def page(conn: Tx, after: int, limit: int) -> list[StoredEvent]:
    """Events past `after`, oldest first, at most `limit`."""
    rows = conn.execute("SELECT position, id, type, subject, location, time, data FROM events "
                        "WHERE position > :a ORDER BY position LIMIT :n", {"a": after, "n": limit}).tuples()
    return [StoredEvent._make(r) for r in rows]


def head(conn: Tx) -> int:
    """The last event's position (0: none yet)."""
    return int(conn.execute("SELECT COALESCE(MAX(position), 0) FROM events").scalar_one())


def cursor(conn: Tx, name: str) -> int:
    """Where the publisher `name` has got to (0: nowhere yet)."""
    return int(conn.execute("SELECT position FROM relay_cursors WHERE name = :n", {"n": name}).scalar() or 0)


def set_cursor(conn: Tx, name: str, position: int) -> None:
    conn.execute(
        "INSERT INTO relay_cursors (name, position, updated_at) VALUES (:n, :p, :t) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
        {"n": name, "p": position, "t": datetime.now(timezone.utc).isoformat()},
    )


def envelope(event: StoredEvent) -> dict[str, Any]:
    """The event as a CloudEvent (a dict, data parsed)."""
    return json.loads(envelope_json(event))


def envelope_json(event: StoredEvent) -> bytes:
    """The event as CloudEvents JSON, its stored data spliced in without parsing."""
    subject = f',"subject":{json.dumps(event.subject)}' if event.subject is not None else ""
    location = f',"location":{json.dumps(event.location)}' if event.location is not None else ""
    return (f'{{"specversion":"{SPEC_VERSION}","id":{json.dumps(event.id)},"source":"{SOURCE}",'
            f'"type":{json.dumps(event.type)}{subject},"time":{json.dumps(event.time)},'
            f'"datacontenttype":"application/json","position":{event.position}{location},"data":{event.data}}}').encode()
