"""Stock on the floor: look an item up by scan (on hand per bin, reserved,
available, as this device sees it), count a bin blind, move units between bins.

Reserved is derived here, not sent by the hub: the hub holds a reservation for
exactly the units of a live order line not yet picked or shorted, and this device
has every order of its location, its own pending picks included. So the local
figure is the hub's, plus what this device did since its last sync."""

from __future__ import annotations

from dataclasses import dataclass

from devices.scan import BinLabel
from edge_app.errors import BadQuantity, Refused, WrongItem
from edge_app.local import outbox
from edge_app.local.floor_effects import record
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.scans import bin_for_scan, item_for_scan, read_scan
from sync.kinds import CountReason

__all__ = ["RECOUNT_THRESHOLD", "ItemStock", "look_up", "reserved_units", "on_hand", "CountSession", "MoveSession"]

# Same as the hub's: a count further than this from the expected quantity is counted again.
RECOUNT_THRESHOLD = 2
MAX_COUNT = 100_000  # units one bin can hold of one item: anything above is a typo
_HOLDING = ("released", "picking")


@dataclass(frozen=True)
class ItemStock:
    sku: str
    name: str
    bins: tuple[tuple[str, int], ...]  # (bin, on hand), pick-path order
    reserved: int

    @property
    def on_hand(self) -> int:
        return sum(q for _b, q in self.bins)

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


def reserved_units(replica: Replica, sku: str) -> int:
    row = replica.query_one(
        "SELECT COALESCE(SUM(MAX(l.qty - l.qty_picked - l.qty_short, 0)), 0) AS n FROM order_lines_now l "
        f"JOIN orders o ON o.id = l.order_id WHERE l.sku = ? AND o.status IN ({', '.join('?' * len(_HOLDING))})",
        (sku, *_HOLDING),
    )
    return int(row["n"]) if row else 0


def on_hand(replica: Replica, bin_code: str | None, sku: str | None) -> int:
    """On hand of the SKU in the bin on this device's view (0 when either is not chosen yet)."""
    if bin_code is None or sku is None:
        return 0
    row = replica.query_one("SELECT on_hand FROM stock_now WHERE bin = ? AND sku = ?", (bin_code, sku))
    return int(row["on_hand"]) if row else 0


def look_up(replica: Replica, raw: str) -> ItemStock:
    """Stock of the item a barcode names. Raises UnknownBarcode (or Refused for a bin label)."""
    if isinstance(read_scan(raw), BinLabel):
        raise Refused("That is a bin label. Scan the item's barcode to look it up.")
    sku, name = item_for_scan(replica, raw)
    rows = replica.query(
        "SELECT s.bin, s.on_hand FROM stock_now s LEFT JOIN bins b ON b.code = s.bin "
        "WHERE s.sku = ? AND s.on_hand <> 0 ORDER BY COALESCE(b.seq, 1e9), s.bin",
        (sku,),
    )
    return ItemStock(sku, name, tuple((r["bin"], int(r["on_hand"])) for r in rows), reserved_units(replica, sku))


class CountSession:
    """A blind cycle count: scan the bin, scan an item, enter what is on the shelf.
    The expected quantity is never shown. A count far from it is counted again
    before anything is sent; any difference needs a reason."""

    def __init__(self, replica: Replica, actor: str):
        self.replica = replica
        self.actor = actor
        self.step = "bin"
        self.bin: str | None = None
        self.sku: str | None = None
        self.name = ""
        self._first: int | None = None
        self._pending: int | None = None

    def prompt(self) -> str:
        return {
            "bin": "Scan the label of the bin to count.",
            "item": f"Bin {self.bin}: scan an item in it.",
            "count": f"Count every {self.name} in bin {self.bin} and enter the number.",
            "recount": f"Count {self.name} in bin {self.bin} again, carefully, and enter the number.",
            "reason": "The shelf differs from the books. Choose why.",
        }[self.step]

    def scan(self, raw: str) -> Feedback:
        try:
            if self.step in ("bin", "item") and isinstance(read_scan(raw), BinLabel) or self.step == "bin":
                return self._scan_bin(raw)
            if self.step in ("count", "recount", "reason"):
                raise Refused("Enter the count first (or press Cancel to start this item again).")
            sku, name = item_for_scan(self.replica, raw)
        except Refused as exc:
            return Feedback(False, str(exc), self.step)
        self.sku, self.name, self.step = sku, name, "count"
        self._first = self._pending = None
        return Feedback(True, f"{name}: count them and enter the number.", self.step)

    def submit(self, counted: int | None) -> Feedback:
        if self.step not in ("count", "recount"):
            return Feedback(False, "Scan a bin and an item first.", self.step)
        if counted is None or counted < 0:
            return Feedback(False, "Enter the number of units on the shelf (0 if none).", self.step)
        if counted > MAX_COUNT:
            return Feedback(False, f"{counted} is more than a bin holds ({MAX_COUNT:,} at most). Count again and "
                                   "type the number of units.", self.step)
        variance = counted - on_hand(self.replica, self.bin, self.sku)
        if variance == 0:
            return self._record(counted, None)
        if abs(variance) > RECOUNT_THRESHOLD and self.step == "count":
            self._first, self.step = counted, "recount"
            return Feedback(False, "That count is far from what we expected. Count again before it is sent.", self.step)
        self._pending, self.step = counted, "reason"
        return Feedback(False, "The shelf differs from the books. Choose why before it is sent.", self.step)

    def reason(self, why: CountReason) -> Feedback:
        if self.step != "reason" or self._pending is None:
            return Feedback(False, "Enter the count first.", self.step)
        return self._record(self._pending, why)

    def cancel(self) -> Feedback:
        self.step = "item" if self.bin else "bin"
        self.sku, self._first, self._pending = None, None, None
        return Feedback(True, "Nothing was sent. " + self.prompt(), self.step)

    def _scan_bin(self, raw: str) -> Feedback:
        self.bin = bin_for_scan(self.replica, raw)
        self.step, self.sku = "item", None
        return Feedback(True, f"Bin {self.bin}. Scan an item in it.", self.step)

    def _record(self, counted: int, why: CountReason | None) -> Feedback:
        assert self.bin is not None and self.sku is not None  # the count step comes after both
        delta = counted - on_hand(self.replica, self.bin, self.sku)
        payload = {"bin": self.bin, "sku": self.sku, "counted": counted, "reason": why.value if why else None}
        with self.replica.transaction() as conn:
            record(conn, "count.recorded", payload, self.actor, outbox.PendingEffect(stock=((self.bin, self.sku, delta),)))
        name, self.step, self.sku = self.name, "item", None
        return Feedback(True, f"Counted {counted} × {name} in {self.bin}. Scan the next item, or another bin.", self.step)


class MoveSession:
    """Move units between bins: scan the bin they come from, the item, the quantity,
    then the bin they go to. One `stock.moved` op; refusals change nothing."""

    def __init__(self, replica: Replica, actor: str):
        self.replica = replica
        self.actor = actor
        self.step = "from"
        self.from_bin: str | None = None
        self.sku: str | None = None
        self.name = ""
        self.qty = 0

    def prompt(self) -> str:
        return {
            "from": "Scan the bin you take the units from.",
            "item": f"From {self.from_bin}: scan the item.",
            "qty": f"How many {self.name} do you move? Enter the number.",
            "to": f"Scan the bin you put the {self.qty} × {self.name} in.",
        }[self.step]

    def scan(self, raw: str) -> Feedback:
        try:
            if self.step == "from":
                self.from_bin, self.step = bin_for_scan(self.replica, raw), "item"
                return Feedback(True, f"From {self.from_bin}. Scan the item.", self.step)
            if self.step == "item":
                sku, name = item_for_scan(self.replica, raw)
                if on_hand(self.replica, self.from_bin, sku) <= 0:
                    raise WrongItem(f"Bin {self.from_bin} holds no {name} by this device's books. Scan the bin it is in, or count this bin.")
                self.sku, self.name, self.step = sku, name, "qty"
                return Feedback(True, f"{name}. Enter how many you move.", self.step)
            if self.step == "to":
                return self._to(bin_for_scan(self.replica, raw))
            raise Refused("Enter the number of units first.")
        except Refused as exc:
            return Feedback(False, str(exc), self.step)

    def quantity(self, qty: int | None) -> Feedback:
        if self.step != "qty":
            return Feedback(False, "Scan the bin and the item first.", self.step)
        held = on_hand(self.replica, self.from_bin, self.sku)
        if qty is None or qty < 1:
            return Feedback(False, "Enter how many units you move (1 or more).", self.step)
        if qty > held:
            # Not the books' number: whoever moves stock may count it next, blind.
            return Feedback(False, f"Bin {self.from_bin} holds fewer {self.name} than {qty} by this device's books. "
                                   "Move fewer, or count the bin first.", self.step)
        self.qty, self.step = qty, "to"
        return Feedback(True, f"{qty} × {self.name}. Scan the bin you put them in.", self.step)

    def _to(self, to_bin: str) -> Feedback:
        if to_bin == self.from_bin:
            raise BadQuantity(f"That is {self.from_bin} again. Scan the bin the units go to.")
        assert self.from_bin is not None and self.sku is not None  # the last step comes after both
        payload = {"from_bin": self.from_bin, "to_bin": to_bin, "sku": self.sku, "qty": self.qty}
        with self.replica.transaction() as conn:
            record(conn, "stock.moved", payload, self.actor,
                   outbox.PendingEffect(stock=((self.from_bin, self.sku, -self.qty), (to_bin, self.sku, self.qty))))
        words = f"Moved {self.qty} × {self.name} from {self.from_bin} to {to_bin}."
        self.step, self.from_bin, self.sku, self.qty = "from", None, None, 0
        return Feedback(True, words + " Scan the next bin to move from.", self.step)

