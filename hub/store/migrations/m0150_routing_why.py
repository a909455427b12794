"""Why an order is where it is, in one sentence for the store's devices ("why this order
is here"), written with each routing decision: the feed reads it as it is, instead of
parsing every candidate's reasons again on each pick."""

from sqlalchemy import Connection, text


def upgrade(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE routing_decisions ADD COLUMN why_here TEXT"))
