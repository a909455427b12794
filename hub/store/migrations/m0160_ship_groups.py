"""Lines a channel wants shipped together (a set, a bundle, a gift): the order's group
labels by line number, so a split or a partial shipment never separates them."""

from sqlalchemy import Connection, text


def upgrade(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE order_details ADD COLUMN ship_groups TEXT"))  # JSON {line_no: label}; NULL: none
