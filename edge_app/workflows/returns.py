"""Returns at the counter: find the original order (scan the receipt's `ORD:`
barcode, the pickup QR, or search), choose lines and quantities, grade each
unit's condition, choose where it goes (restock to a scanned bin, damage, return
to vendor, quarantine), then record the return (`return.received`, a fact) and
ask for the refund (`refund.requested`, a request) in one transaction.

More than was sold is refused with a sentence; a return without a receipt is for
supervisors, and sends no refund request (no order to refund against)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from devices.scan import OrderNumber, PickupCode
from edge_app.errors import BadQuantity, Refused, UnknownBarcode
from edge_app.local import outbox
from edge_app.local.floor_effects import FloorEffect, record
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.scans import bin_for_scan, item_for_scan, read_scan, role_of
from sync.errors import BadReturnCode
from sync.kinds import Condition, Disposition
from sync.return_codes import is_return_code, read_return_code

__all__ = ["ReturnLine", "ReturnOrder", "Chosen", "find_order", "search_orders", "get_order", "ReturnSession"]

_NOT_SOLD = ("released", "picking", "awaiting_stock", "cancelled")


@dataclass(frozen=True)
class ReturnLine:
    line_no: int
    sku: str
    name: str
    sold: int
    returned: int

    @property
    def returnable(self) -> int:
        return max(self.sold - self.returned, 0)


@dataclass(frozen=True)
class ReturnOrder:
    id: str
    number: str
    customer_name: str
    lines: tuple[ReturnLine, ...] = field(default_factory=tuple)
    # returns from any channel (edge_app.workflows.returns_elsewhere): where the order came
    # from when this device does not hold it: "hub" (looked up online) or "return_code"
    # (read from the receipt's signed code, offline; the code travels with the op)
    source: str = "device"
    shipped_by: str | None = None
    fulfilment: str = ""
    return_code: str | None = None


@dataclass(frozen=True)
class Chosen:
    """One line of the return being put together."""

    line_no: int | None
    sku: str
    name: str
    qty: int
    condition: Condition
    disposition: Disposition
    bin: str | None = None


def get_order(replica: Replica, order_id: str) -> ReturnOrder | None:
    row = replica.query_one("SELECT id, number, customer_name, fulfilment FROM orders WHERE id = ?", (order_id,))
    if row is None:
        return None
    sold = "l.qty_handed_over" if row["fulfilment"] == "pickup" else "l.qty_picked"
    lines = replica.query(
        f"SELECT l.line_no, l.sku, COALESCE(i.name, l.sku) AS name, {sold} AS sold, l.qty_returned AS returned "
        "FROM floor_lines_now l LEFT JOIN items i ON i.sku = l.sku WHERE l.order_id = ? ORDER BY l.line_no",
        (order_id,),
    )
    return ReturnOrder(row["id"], row["number"], row["customer_name"], tuple(ReturnLine(**dict(r)) for r in lines))


def search_orders(replica: Replica, words: str, limit: int = 20) -> list[ReturnOrder]:
    """Orders with something sold whose number or customer name contains `words`."""
    needle = f"%{words.strip()}%"
    rows = replica.query(
        f"SELECT id FROM orders WHERE status NOT IN ({', '.join('?' * len(_NOT_SOLD))}) "
        "AND (number LIKE ? OR customer_name LIKE ?) ORDER BY created_at DESC, number LIMIT ?",
        (*_NOT_SOLD, needle, needle, limit),
    )
    orders = [get_order(replica, r["id"]) for r in rows]
    return [o for o in orders if o and any(line.sold for line in o.lines)]


def find_order(replica: Replica, raw: str) -> ReturnOrder:
    """The order a receipt barcode (`ORD:…`), pickup QR or typed number names. Raises Refused."""
    text = raw.strip()
    if not text:
        raise Refused("Nothing was scanned. Scan the barcode on the receipt, or search by number or name.")
    meaning = read_scan(text)
    number = meaning.order_number if isinstance(meaning, (OrderNumber, PickupCode)) else _number_of_code(text)
    row = replica.query_one("SELECT id, status FROM orders WHERE number = ? COLLATE NOCASE", (number,))
    if row is None:
        found = search_orders(replica, text)
        if len(found) == 1:
            return found[0]
        raise UnknownBarcode(f"No order {number[:40]} is on this device. Check the receipt, or search by the customer's name.")
    order = get_order(replica, row["id"])
    if order is None:
        raise UnknownBarcode(f"No order {number[:40]} is on this device. Check the receipt, or search by the customer's name.")
    if not any(line.sold for line in order.lines):
        raise Refused(f"Nothing of order {order.number} has reached the customer yet, so nothing can come back.")
    return order


class ReturnSession:
    """One return being put together at the counter; recorded by `submit()`."""

    def __init__(self, replica: Replica, actor: str, order: ReturnOrder | None, role: str | None = None):
        if order is None and role_of(replica, role) != "supervisor":
            raise Refused("A return without a receipt needs a supervisor. Ask one to sign in.")
        self.replica = replica
        self.actor = actor
        self.order = order
        self.chosen: list[Chosen] = []

    def returnable(self, line_no: int) -> int:
        """Units of the line that may still come back, this return's choices counted."""
        line = self._line(line_no)
        return line.returnable - sum(c.qty for c in self.chosen if c.line_no == line_no)

    def add_line(self, line_no: int, qty: int, condition: Condition, disposition: Disposition, bin_raw: str = "") -> Feedback:
        """Choose `qty` units of an order line; refused beyond what was sold."""
        try:
            if self.order is None:
                raise Refused("This return has no order. Scan each item instead.")
            line = self._line(line_no)
            left = self.returnable(line_no)
            if qty < 1:
                raise BadQuantity("Enter how many units come back (1 or more).")
            if qty > left:
                raise BadQuantity(f"Only {left} × {line.name} can come back on order {self.order.number} "
                                  f"({line.sold} sold, {line.sold - line.returnable} returned before). Check the receipt.")
            chosen = Chosen(line_no, line.sku, line.name, qty, condition, disposition, self._bin(condition, disposition, bin_raw))
        except Refused as exc:
            return Feedback(False, str(exc), "choose")
        self.chosen.append(chosen)
        return Feedback(True, f"{qty} × {line.name}: {_words(chosen)}.", "choose")

    def add_item(self, item_raw: str, qty: int, condition: Condition, disposition: Disposition, bin_raw: str = "") -> Feedback:
        """No receipt: choose units of a scanned item."""
        try:
            if self.order is not None:
                raise Refused("Choose a line of the order instead.")
            sku, name = item_for_scan(self.replica, item_raw)
            if qty < 1:
                raise BadQuantity("Enter how many units come back (1 or more).")
            chosen = Chosen(None, sku, name, qty, condition, disposition, self._bin(condition, disposition, bin_raw))
        except Refused as exc:
            return Feedback(False, str(exc), "choose")
        self.chosen.append(chosen)
        return Feedback(True, f"{qty} × {name}: {_words(chosen)}.", "choose")

    def remove(self, index: int) -> None:
        del self.chosen[index]

    def submit(self) -> Feedback:
        """Record the return and, for an order, one refund request per line; one transaction."""
        if not self.chosen:
            return Feedback(False, "Choose at least one unit that comes back.", "choose")
        order_id = self.order.id if self.order else None
        return_id = str(uuid.uuid4())
        payload = {"return_id": return_id, "order_id": order_id, "lines": [
            {"line_no": c.line_no, "sku": c.sku, "qty": c.qty, "condition": c.condition.value,
             "disposition": c.disposition.value, "bin": c.bin} for c in self.chosen]}
        elsewhere = self.order is not None and self.order.source != "device"  # another location's order
        if self.order is not None and self.order.source == "return_code":
            payload["return_code"] = self.order.return_code  # the hub checks it is genuine
        stock = tuple((c.bin or "", c.sku, c.qty) for c in self.chosen if c.disposition == Disposition.RESTOCK)
        refunds: dict[int, int] = {}
        for c in self.chosen:
            if c.line_no is not None:
                refunds[c.line_no] = refunds.get(c.line_no, 0) + c.qty
        with self.replica.transaction() as conn:
            record(conn, "return.received", payload, self.actor, outbox.PendingEffect(stock=stock),
                   tuple(FloorEffect(order_id, n, returned=q) for n, q in refunds.items()))
            for line_no, qty in sorted(refunds.items()):
                refund = {"order_id": order_id, "line_no": line_no, "qty": qty}
                if elsewhere:  # refused with the return, should the hub refuse that
                    refund["return_id"] = return_id
                record(conn, "refund.requested", refund, self.actor, floor=(FloorEffect(order_id, line_no, refunded=qty),))
        units = sum(c.qty for c in self.chosen)
        self.chosen = []
        after = "Refund requested." if order_id else "No receipt: no refund request was sent; the supervisor settles it."
        return Feedback(True, f"Return of {units} unit{'s' if units != 1 else ''} recorded. {after}", "done")

    def _line(self, line_no: int) -> ReturnLine:
        line = next((line for line in self.order.lines if line.line_no == line_no), None) if self.order else None
        if line is None:
            raise Refused(f"There is no line {line_no} on this order.")
        return line

    def _bin(self, condition: Condition, disposition: Disposition, bin_raw: str) -> str | None:
        if disposition != Disposition.RESTOCK:
            return None
        if condition in (Condition.DAMAGED, Condition.DEFECTIVE):
            raise Refused(f"A {condition.value} unit can't go back on the shelf. Choose damage, return to vendor or quarantine.")
        if not bin_raw.strip():
            raise Refused("Scan the label of the bin the units go back to.")
        return bin_for_scan(self.replica, bin_raw)


def _number_of_code(text: str) -> str:
    """The order number a return code names (sync.return_codes), else the text itself."""
    if not is_return_code(text):
        return text
    try:
        return read_return_code(text).number
    except BadReturnCode:
        return text


def _words(c: Chosen) -> str:
    where = f"restock to {c.bin}" if c.disposition == Disposition.RESTOCK else c.disposition.value.replace("_", " ")
    return f"{c.condition.value}, {where}"
