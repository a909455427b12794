"""Goods receipt on the floor: an associate puts a delivery away and says so.

Scan the bin, scan an item's barcode (an EAN/UPC, or a GS1 label whose batch and
expiry come along), enter how many, confirm. Confirming is one local transaction: the
units are on the bin's on-hand on this device at once, and a `goods.received` op waits
in the outbox. The bin stays chosen for the next item; a delivery note typed or scanned
once goes with every item until it is changed.

An unknown barcode or bin is refused here with what to do: the device only names bins
and items the hub has sent it (the hub, for its part, keeps a receipt of a SKU it no
longer knows and asks a supervisor to identify it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from devices.errors import ScanError
from devices.parse import parse_scan
from devices.scan import BinLabel, GS1Data
from edge_app.errors import Refused
from edge_app.local import outbox
from edge_app.local.floor_effects import record
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.scans import bin_for_scan, item_for_scan, read_scan
from edge_app.workflows.stock import on_hand
from sync.kinds import PRINTABLE

__all__ = ["MAX_RECEIPT", "Received", "ReceiveSession"]

MAX_RECEIPT = 100_000  # the op's own bound: more in one scan is a typo
_REFERENCE_MAX = 64


@dataclass(frozen=True)
class Received:
    """What a confirmed receipt recorded (the workflow reports, the screen shows)."""

    bin: str
    sku: str
    name: str
    qty: int
    on_hand: int  # the bin's on-hand of the SKU on this device, the receipt included
    device_seq: int


class ReceiveSession:
    """One associate putting a delivery away: steps "bin" → "item" → "qty" → "confirm"."""

    def __init__(self, replica: Replica, actor: str):
        self.replica = replica
        self.actor = actor
        self.step = "bin"
        self.bin: str | None = None
        self.sku: str | None = None
        self.name = ""
        self.qty = 0
        self.reference = ""
        self.gtin: str | None = None
        self.batch: str | None = None
        self.expiry: date | None = None
        self.last: Received | None = None

    def prompt(self) -> str:
        return {
            "bin": "Scan the label of the bin you put the goods in.",
            "item": f"Bin {self.bin}: scan an item's barcode.",
            "qty": f"How many {self.name} go into bin {self.bin}? Enter the number.",
            "confirm": f"Receive {self.qty} × {self.name} into bin {self.bin}? Confirm, or cancel.",
        }[self.step]

    def set_reference(self, text: str) -> Feedback:
        """The delivery note (or transfer) the goods came with; kept for every item after it."""
        reference = text.strip()
        if len(reference) > _REFERENCE_MAX or not _printable(reference):
            return Feedback(False, f"A delivery note is up to {_REFERENCE_MAX} letters, digits and signs. Type it again.",
                            self.step)
        self.reference = reference
        said = f"Delivery note {reference}." if reference else "No delivery note."
        return Feedback(True, f"{said} {self.prompt()}", self.step)

    def scan(self, raw: str) -> Feedback:
        """A bin label (at any step before confirming: changes the bin) or an item's barcode."""
        try:
            if self.step == "confirm":
                raise Refused("Confirm or cancel this receipt first.")
            if self.step == "bin" or isinstance(read_scan(raw), BinLabel):
                return self._scan_bin(raw)
            if self.step == "qty":
                raise Refused(f"Enter how many {self.name} first (or cancel this item).")
            return self._scan_item(raw)
        except Refused as exc:
            return Feedback(False, str(exc), self.step)

    def quantity(self, qty: int | None) -> Feedback:
        if self.step != "qty":
            return Feedback(False, "Scan the bin and the item first.", self.step)
        if qty is None or qty < 1:
            return Feedback(False, "Enter how many units you put in the bin (1 or more).", self.step)
        if qty > MAX_RECEIPT:
            return Feedback(False, f"{qty:,} is more than one receipt takes ({MAX_RECEIPT:,} at most). "
                                   "Count again and type the number of units.", self.step)
        self.qty, self.step = qty, "confirm"
        return Feedback(True, self.prompt(), self.step)

    def confirm(self) -> Feedback:
        """Record the receipt: the bin's on-hand and the outbox op in one local transaction."""
        if self.step != "confirm":
            return Feedback(False, "Scan the bin and the item and enter the number first.", self.step)
        assert self.bin is not None and self.sku is not None  # the confirm step comes after both
        payload = {"bin": self.bin, "sku": self.sku, "qty": self.qty, "gtin": self.gtin, "batch": self.batch,
                   "expiry": self.expiry.isoformat() if self.expiry else None, "reference": self.reference}
        with self.replica.transaction() as conn:
            op = record(conn, "goods.received", payload, self.actor,
                        outbox.PendingEffect(stock=((self.bin, self.sku, self.qty),)))
        held = on_hand(self.replica, self.bin, self.sku)
        self.last = Received(self.bin, self.sku, self.name, self.qty, held, op.device_seq)
        words = f"Received {self.qty} × {self.name} into bin {self.bin} (now {held} there)."
        self._clear_item()
        return Feedback(True, f"{words} Scan the next item, or another bin.", self.step)

    def cancel(self) -> Feedback:
        """Forget the item in hand; nothing is sent."""
        self._clear_item()
        return Feedback(True, "Nothing was sent. " + self.prompt(), self.step)

    def _scan_bin(self, raw: str) -> Feedback:
        self.bin = bin_for_scan(self.replica, raw)
        self._clear_item()
        return Feedback(True, f"Bin {self.bin}. Scan an item's barcode.", self.step)

    def _scan_item(self, raw: str) -> Feedback:
        try:
            sku, name = item_for_scan(self.replica, raw)
        except Refused:
            raise Refused(f"No item here has barcode {raw.strip()[:40]}. Put it aside and tell a supervisor; "
                          "scan the next item.") from None
        self.sku, self.name, self.step = sku, name, "qty"
        self.gtin, self.batch, self.expiry = _gs1_details(raw)
        batch = f", batch {self.batch}" if self.batch else ""
        expiry = f", best before {self.expiry.isoformat()}" if self.expiry else ""
        return Feedback(True, f"{name}{batch}{expiry}. Enter how many go into bin {self.bin}.", self.step)

    def _clear_item(self) -> None:
        self.step = "item" if self.bin else "bin"
        self.sku, self.name, self.qty = None, "", 0
        self.gtin, self.batch, self.expiry = None, None, None


def _gs1_details(raw: str) -> tuple[str | None, str | None, date | None]:
    """(GTIN, batch, expiry) a scan carries; a typed SKU carries none."""
    try:
        scan = parse_scan(raw)
    except ScanError:
        return None, None, None
    meaning = scan.meaning
    if isinstance(meaning, GS1Data):
        batch = meaning.batch if meaning.batch and len(meaning.batch) <= 20 else None
        expiry = meaning.expiry if meaning.expiry and 2000 <= meaning.expiry.year <= 2100 else None
        return scan.gtin, batch, expiry
    return scan.gtin, None, None


def _printable(text: str) -> bool:
    return re.fullmatch(PRINTABLE, text) is not None
