"""What there is to pick, as this device sees it: open orders, earliest promise
first, and an order's lines in pick-path (bin) order with what is picked and short."""

from __future__ import annotations

from dataclasses import dataclass

from edge_app.local.replica import Replica

__all__ = ["PickLine", "OrderSummary", "open_orders", "pick_list", "sku_for_barcode", "BIN_PREFIX", "OPEN_STATUSES"]

BIN_PREFIX = "BIN:"
OPEN_STATUSES = ("released", "picking")


@dataclass(frozen=True)
class PickLine:
    order_id: str
    line_no: int
    sku: str
    name: str
    bin: str | None
    bin_seq: int
    qty: int
    picked: int
    short: int

    @property
    def open_qty(self) -> int:
        return max(self.qty - self.picked - self.short, 0)


@dataclass(frozen=True)
class OrderSummary:
    id: str
    number: str
    customer_name: str
    fulfilment: str
    promised_by: str
    lines: int
    open_units: int
    risk_level: str | None = None  # the hub's SLA risk: "late", "at_risk", or None
    risk_reason: str | None = None
    routing_why: str | None = None  # why the hub sent it here


def open_orders(replica: Replica) -> list[OrderSummary]:
    """Orders with units left to pick on this device's view: those the hub says are late,
    then those at risk, then the rest; earliest promise first within each."""
    rows = replica.query(
        "SELECT o.id, o.number, o.customer_name, o.fulfilment, o.promised_by, COUNT(*) AS lines, "
        "SUM(MAX(l.qty - l.qty_picked - l.qty_short, 0)) AS open_units, o.risk_level, o.risk_reason, o.routing_why "
        "FROM orders o JOIN order_lines_now l ON l.order_id = o.id "
        f"WHERE o.status IN ({', '.join('?' * len(OPEN_STATUSES))}) "
        "GROUP BY o.id HAVING open_units > 0 "
        "ORDER BY CASE o.risk_level WHEN 'late' THEN 0 WHEN 'at_risk' THEN 1 ELSE 2 END, o.promised_by, o.number",
        OPEN_STATUSES,
    )
    return [OrderSummary(**dict(r)) for r in rows]


def pick_list(replica: Replica, order_id: str) -> list[PickLine]:
    """All lines of the order, in pick-path (bin) order."""
    rows = replica.query(
        "SELECT l.order_id, l.line_no, l.sku, COALESCE(i.name, l.sku) AS name, l.pick_bin AS bin, "
        "COALESCE(b.seq, 1e9) AS bin_seq, l.qty, l.qty_picked AS picked, l.qty_short AS short "
        "FROM order_lines_now l LEFT JOIN items i ON i.sku = l.sku LEFT JOIN bins b ON b.code = l.pick_bin "
        "WHERE l.order_id = ? ORDER BY bin_seq, l.line_no",
        (order_id,),
    )
    return [PickLine(**{**dict(r), "bin_seq": int(r["bin_seq"])}) for r in rows]


def sku_for_barcode(replica: Replica, code: str) -> str | None:
    row = replica.query_one("SELECT sku FROM barcodes WHERE code = ?", (code.strip(),))
    return row["sku"] if row else None
