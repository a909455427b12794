"""Picking: the pick list of an order in bin sequence, and a pick session that
walks a picker through bin → item → quantity, refusing mis-scans loudly.

Every confirmed action is one transaction: the local effect and its outbox op.
A refused scan changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from edge_app.errors import BadQuantity, Refused, UnknownBarcode, WrongBin, WrongItem
from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from sync.kinds import ShortReason

__all__ = ["PickLine", "OrderSummary", "open_orders", "pick_list", "PickSession", "BIN_PREFIX"]

BIN_PREFIX = "BIN:"
_OPEN_STATUSES = ("released", "picking")


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


def open_orders(replica: Replica) -> list[OrderSummary]:
    """Orders with units left to pick on this device's view, earliest promise first."""
    rows = replica.query(
        "SELECT o.id, o.number, o.customer_name, o.fulfilment, o.promised_by, COUNT(*) AS lines, "
        "SUM(MAX(l.qty - l.qty_picked - l.qty_short, 0)) AS open_units "
        "FROM orders o JOIN order_lines_now l ON l.order_id = o.id "
        f"WHERE o.status IN ({', '.join('?' * len(_OPEN_STATUSES))}) "
        "GROUP BY o.id HAVING open_units > 0 ORDER BY o.promised_by, o.number",
        _OPEN_STATUSES,
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


class PickSession:
    """One picker working through one order. Holds only where they are; the
    picked quantities live in the replica."""

    def __init__(self, replica: Replica, order_id: str, actor: str):
        self.replica = replica
        self.order_id = order_id
        self.actor = actor
        self.step = "bin"
        self.scanned_units = 0
        self._skipped: list[int] = []
        self.current: PickLine | None = None
        self._advance()

    # -- what the screen asks for ----------------------------------------------------
    def lines(self) -> list[PickLine]:
        return pick_list(self.replica, self.order_id)

    def prompt(self) -> str:
        line = self.current
        if line is None:
            return "All lines done. Scan or pick the next order."
        if self.step == "bin" and line.bin is None:
            return f"No bin holds {line.name}. Report it short (not found)."
        if self.step == "bin":
            return f"Go to bin {line.bin} and scan the bin label."
        if self.step == "item":
            return f"Scan {line.name} ({line.sku})."
        return f"{self.scanned_units} of {line.open_qty} scanned. Scan the next unit or confirm the count."

    # -- what the picker does --------------------------------------------------------
    def scan(self, raw: str) -> Feedback:
        """Interpret a scan for the current step; refusals change nothing."""
        code = raw.strip()
        if not code:
            return self._refuse(Refused("Nothing was scanned. Scan again."))
        try:
            if self.current is None:
                raise Refused("This order has no open lines.")
            if self.step == "bin":
                return self._scan_bin(code)
            return self._scan_item(code)
        except Refused as exc:
            return self._refuse(exc)

    def confirm(self, qty: int | None = None) -> Feedback:
        """Record that `qty` units (default: the units scanned) were taken from the bin."""
        line = self.current
        if line is None:
            return self._refuse(Refused("This order has no open lines."))
        qty = self.scanned_units if qty is None else qty
        if qty < 1:
            return self._refuse(BadQuantity("Scan at least one unit, or report a short pick."))
        if qty > line.open_qty:
            return self._refuse(BadQuantity(f"Only {line.open_qty} more needed on this line; put {qty - line.open_qty} back."))
        self._record_pick(line, qty)
        return self._after_action(f"Picked {qty} × {line.name}.")

    def short(self, reason: ShortReason, picked_qty: int | None = None) -> Feedback:
        """Report the rest of the line as not available, after taking `picked_qty` units."""
        line = self.current
        if line is None:
            return self._refuse(Refused("This order has no open lines."))
        picked_qty = self.scanned_units if picked_qty is None else picked_qty
        if not 0 <= picked_qty < line.open_qty:
            return self._refuse(BadQuantity(f"A short pick takes fewer than {line.open_qty} units."))
        missing = line.open_qty - picked_qty
        with self.replica.transaction() as conn:
            if picked_qty:
                self._record_pick(line, picked_qty)
            outbox.record_op(
                conn,
                "pick.shorted",
                {"order_id": line.order_id, "line_no": line.line_no, "bin": line.bin, "sku": line.sku, "qty": missing, "reason": reason.value},
                self.actor,
                outbox.PendingEffect(lines=((line.order_id, line.line_no, 0, missing),)),
            )
        return self._after_action(f"Reported {missing} × {line.name} short ({reason.value.replace('_', ' ')}).")

    def skip(self) -> Feedback:
        """Leave the current line for later; it comes back after the others."""
        line = self.current
        if line is None:
            return self._refuse(Refused("This order has no open lines."))
        self._skipped.append(line.line_no)
        return self._after_action(f"Skipped {line.name}; it comes back at the end.")

    # -- inside ------------------------------------------------------------------------
    def _scan_bin(self, code: str) -> Feedback:
        line = self.current
        scanned = code[len(BIN_PREFIX):] if code.upper().startswith(BIN_PREFIX) else code
        if scanned.upper() != (line.bin or "").upper():
            if sku_for_barcode(self.replica, code):
                raise WrongBin(f"That is an item. Scan the label of bin {line.bin} first.")
            raise WrongBin(f"Wrong bin: you scanned {scanned}. Go to bin {line.bin}.")
        self.step = "item"
        return Feedback(True, f"Bin {line.bin} OK. Scan {line.name}.", self.step)

    def _scan_item(self, code: str) -> Feedback:
        line = self.current
        sku = sku_for_barcode(self.replica, code)
        if sku is None:
            raise UnknownBarcode(f"No item has barcode {code[:40]}. Check the label and scan again.")
        if sku != line.sku:
            name = self.replica.query_one("SELECT name FROM items WHERE sku = ?", (sku,))["name"]
            raise WrongItem(f"Wrong item: that is {name}. This line needs {line.name}.")
        if self.scanned_units >= line.open_qty:
            raise BadQuantity(f"Already {line.open_qty} scanned; this line needs no more. Put it back.")
        self.scanned_units += 1
        self.step = "qty"
        if self.scanned_units == line.open_qty:
            return self.confirm()
        return Feedback(True, f"{self.scanned_units} of {line.open_qty} × {line.name}.", self.step)

    def _record_pick(self, line: PickLine, qty: int) -> None:
        with self.replica.transaction() as conn:
            outbox.record_op(
                conn,
                "pick.confirmed",
                {"order_id": line.order_id, "line_no": line.line_no, "bin": line.bin, "sku": line.sku, "qty": qty},
                self.actor,
                outbox.PendingEffect(lines=((line.order_id, line.line_no, qty, 0),), stock=((line.bin, line.sku, -qty),)),
            )

    def _after_action(self, message: str) -> Feedback:
        self._advance()
        if self.current is None:
            return Feedback(True, f"{message} Order complete.", "done")
        return Feedback(True, f"{message} Next: bin {self.current.bin}.", self.step)

    def _advance(self) -> None:
        """Move to the first open line in bin order, skipped lines last."""
        open_lines = [line for line in self.lines() if line.open_qty > 0]
        open_lines.sort(key=lambda line: line.line_no in self._skipped)
        self.current = open_lines[0] if open_lines else None
        self.step = "bin" if self.current else "done"
        self.scanned_units = 0
        if self.current and self._skipped and all(line.line_no in self._skipped for line in open_lines):
            self._skipped.clear()

    def _refuse(self, exc: Refused) -> Feedback:
        return Feedback(False, str(exc), self.step)
