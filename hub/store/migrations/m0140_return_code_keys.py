"""Returns from any channel: the keys the hub signs return codes with (sync.return_codes),
and the returns of an order found by its id.

One key is made here, at random, so every hub database signs from its first order on.
Several `hub serve` processes on one database share it; a key id lets a new key be
added later while codes signed with an older one still check. Not folded into
`hub verify` (a credential, like webhook secrets): the checks that need it happen
before any handler runs (hub.log.DOOR_CODES)."""

import secrets
from datetime import datetime, timezone

from sqlalchemy import Column, Connection, MetaData, String, Table, text

meta = MetaData()

return_code_keys = Table(
    "return_code_keys",
    meta,
    Column("key_id", String(16), primary_key=True),
    Column("secret", String(128), nullable=False),  # hex
    Column("created_at", String(40), nullable=False),
)


def upgrade(conn: Connection) -> None:
    meta.create_all(conn)
    # An order's page lists its returns wherever they were taken (hub.console.reads).
    conn.execute(text("CREATE INDEX ix_returns_order ON returns (order_id)"))
    conn.execute(return_code_keys.insert().values(
        key_id="k1", secret=secrets.token_hex(32), created_at=datetime.now(timezone.utc).isoformat()))
