"""A revoked device whose work was handed over names the device that took it, so the
hub can tell it why its token is refused if it comes back (hub.hand_over)."""

from sqlalchemy import Connection, text


def upgrade(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE devices ADD COLUMN handed_over_to VARCHAR(64)"))
