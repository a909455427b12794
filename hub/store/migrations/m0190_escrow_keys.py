"""Escrow through a restore: the keys the hub signs allotment evidence with
(sync.escrow_evidence), so a hub restored from a backup taken before a grant can still
tell a grant it forgot from a forged one.

One key is made here, at random, so that every backup taken after this migration holds
the key its evidence is signed with: a key made later than a backup is lost with the
restore, and evidence signed with it is refused as forged. The key id is drawn at random
too, so that a hub restored from a backup older than this migration (which makes another
key) says the evidence's key is unknown rather than that its signature is wrong. Several `hub serve`
processes on one database share it. Not folded into `hub verify` (a credential, like
the return code keys): the check that needs it happens before any handler runs
(hub.log.DOOR_CODES)."""

import secrets
from datetime import datetime, timezone

from sqlalchemy import Column, Connection, MetaData, String, Table

meta = MetaData()

escrow_keys = Table(
    "escrow_keys",
    meta,
    Column("key_id", String(16), primary_key=True),
    Column("secret", String(128), nullable=False),  # hex
    Column("created_at", String(40), nullable=False),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    conn.execute(escrow_keys.insert().values(
        key_id="e" + secrets.token_hex(4), secret=secrets.token_hex(32), created_at=datetime.now(timezone.utc).isoformat()))
