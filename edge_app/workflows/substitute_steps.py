"""The substitute step of the pick walk (edge_app.workflows.picking): a line that allows
substitutes, its item out, the picker chooses a ranked candidate, scans its barcode for
each unit, and confirms; one transaction records `pick.substituted` for the line.
Kept apart from the walk's other steps; the walk mixes it in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from edge_app.errors import BadQuantity, Refused
from edge_app.local.replica import Replica
from edge_app.workflows import substitutes as subs
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.pick_list import PickLine

__all__ = ["SubstituteSteps"]


class SubstituteSteps(ABC):
    """What the walk holds that the substitute step uses (PickWalk sets them), and the
    walk's own steps it calls (PickWalk defines them)."""

    replica: Replica
    actor: str
    step: str
    scanned_units: int
    current: PickLine | None
    at_bin: str | None
    totes: dict[str, str]
    uses_totes: bool
    substitute: subs.Substitute | None

    @abstractmethod
    def prompt(self) -> str:
        ...

    @abstractmethod
    def _refuse(self, exc: Refused) -> Feedback:
        ...

    @abstractmethod
    def _after(self, message: str, done: PickLine) -> Feedback:
        ...

    @abstractmethod
    def _line(self) -> PickLine:
        ...

    def substitutes(self) -> list[Any]:
        """The candidates for the current line, closest match first (none while units
        of the line's own item are in hand, or when the line allows none)."""
        if self.current is None or self.step not in ("bin", "item", "substitute") or (self.scanned_units and self.step != "substitute"):
            return []
        return subs.candidates(self.replica, self.current)

    def take_substitute(self, sku: str) -> Feedback:
        """The line's item is out: take `sku` instead (scan it next). A terminal must
        hold the units in its allotment; otherwise it says so and the line stays short."""
        line = self.current
        if line is None or self.step not in ("bin", "item", "substitute"):
            return self._refuse(Refused("Confirm or put back the units in hand before you choose a substitute."))
        if not subs.substitutable(self.replica, line):
            return self._refuse(Refused(f"This order does not allow a substitute for {line.name}. Report it short."))
        try:
            self.substitute = subs.choose(self.replica, line, sku)
        except Refused as exc:
            return self._refuse(exc)
        self.step, self.scanned_units = "substitute", 0
        return Feedback(True, self.prompt(), self.step)

    def cancel_substitute(self) -> Feedback:
        """Back to the line's own item (substitute units scanned go back on the shelf)."""
        if self.step != "substitute":
            return self._refuse(Refused("No substitute is being taken."))
        self._leave_substitute()
        return Feedback(True, f"Substitute cancelled. {self.prompt()}", self.step)

    def _leave_substitute(self) -> None:
        self.substitute, self.scanned_units = None, 0
        self.step = "item" if self.at_bin is not None else "bin"

    def _scan_substitute(self, code: str) -> Feedback:
        line, substitute = self._line(), self.substitute
        assert substitute is not None  # the step lasts while one is chosen
        subs.verify_scan(self.replica, substitute, code)
        if self.scanned_units >= line.open_qty:
            raise BadQuantity(f"Already {self.scanned_units} in hand; the line needs no more. Confirm them.")
        self.scanned_units += 1
        if self.scanned_units == line.open_qty:
            return self._confirm_substitute(line, self.scanned_units)
        return Feedback(True, f"{self.scanned_units} of {line.open_qty} × {substitute.name} (substitute).", self.step)

    def _confirm_substitute(self, line: PickLine, qty: int | None) -> Feedback:
        substitute = self.substitute
        assert substitute is not None
        if not self.scanned_units:
            return self._refuse(Refused(f"Scan one {substitute.name} first; then you can type how many you took."))
        qty = self.scanned_units if qty is None else qty
        if not 1 <= qty <= line.open_qty:
            return self._refuse(BadQuantity(f"Type 1 to {line.open_qty} (you typed {qty})."))
        tote = self.totes.get(line.order_id) if self.uses_totes else None
        try:
            with self.replica.transaction() as conn:
                subs.record(conn, line, substitute, qty, self.actor, tote)
        except Refused as exc:
            return self._refuse(exc)
        put = f" Put them into tote {tote}." if tote else ""
        return self._after(f"Picked {qty} × {substitute.name} in place of {line.name}.{put}", line)
