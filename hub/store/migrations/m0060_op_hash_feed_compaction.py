"""Sync through disasters: each logged op's hash, so a re-send with another payload
under the same id and sequence number is told apart from a true re-send; and an index
the compacted feed read uses to find a change's later versions (hub.feed.pull)."""

from sqlalchemy import Connection, text


def upgrade(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE op_log ADD COLUMN op_hash VARCHAR(64)"))
    conn.execute(text("CREATE INDEX ix_changes_entity_key_seq ON changes (entity, key, seq)"))
