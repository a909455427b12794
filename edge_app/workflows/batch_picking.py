"""Batch (cluster) picking: several orders at once, each in its own scanned tote,
one walk through the bins in pick-path order across the batch.

Per line: scan the bin → scan each unit (or confirm a count) → scan the order's
tote to put them in, which records `pick.confirmed` with the tote. Wrong bin,
wrong item, too many units and the wrong tote are refused with what to do.
The session's position is plain data (`state()`), saved after every step."""

from __future__ import annotations

from typing import Any

from devices.codes import parse_own_code
from devices.errors import ScanError
from devices.scan import ToteLabel
from edge_app.errors import BadQuantity, Refused, UnknownBarcode, WrongBin, WrongItem
from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.picking import BIN_PREFIX, PickLine, pick_list, sku_for_barcode
from sync.kinds import ShortReason

__all__ = ["BatchPickSession", "MAX_BATCH", "WrongTote"]

MAX_BATCH = 6  # totes on one cart


class WrongTote(Refused):
    """The tote scanned is not the one the units belong in."""


class BatchPickSession:
    """One picker, a cart of totes, several orders."""

    def __init__(self, replica: Replica, order_ids: list[str], actor: str):
        if not 1 <= len(order_ids) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} orders")
        self.replica = replica
        self.order_ids = list(order_ids)
        self.actor = actor
        self.totes: dict[str, str] = {}
        self.numbers = {r["id"]: r["number"] for r in replica.query(
            f"SELECT id, number FROM orders WHERE id IN ({', '.join('?' * len(order_ids))})", tuple(order_ids))}
        self.step = "tote"
        self.scanned_units = 0
        self.skipped: list[tuple[str, int]] = []
        self.current: PickLine | None = None
        self._advance()

    # -- what the screen asks for -------------------------------------------------------
    def lines(self) -> list[PickLine]:
        """Every line of the batch in pick-path order (bin, then order, then line)."""
        rank = {order_id: i for i, order_id in enumerate(self.order_ids)}
        lines = [line for order_id in self.order_ids for line in pick_list(self.replica, order_id)]
        return sorted(lines, key=lambda l: (l.bin_seq, rank[l.order_id], l.line_no))

    def tote_for(self, order_id: str) -> str | None:
        return self.totes.get(order_id)

    def prompt(self) -> str:
        line = self.current
        if self.step == "tote":
            order_id = self._order_without_tote()
            return f"Scan an empty tote for order {self.numbers.get(order_id, order_id)}."
        if line is None:
            return "Batch done. Take the totes to packing."
        if self.step == "bin" and line.bin is None:
            return f"No bin holds {line.name}. Report it short (not found)."
        if self.step == "bin":
            return f"Go to bin {line.bin} and scan the bin label."
        if self.step == "item":
            return f"Scan {line.name} ({line.sku}) for order {self.numbers[line.order_id]}: {line.open_qty - self.scanned_units} to go."
        return f"Put {self.scanned_units} × {line.name} into tote {self.totes[line.order_id]} and scan the tote."

    # -- what the picker does -----------------------------------------------------------
    def scan(self, raw: str) -> Feedback:
        code = raw.strip()
        try:
            if not code:
                raise Refused("Nothing was scanned. Scan again.")
            if self.step == "tote":
                return self._scan_new_tote(code)
            if self.current is None:
                raise Refused("The batch is done. Take the totes to packing.")
            return {"bin": self._scan_bin, "item": self._scan_item, "put": self._scan_put}[self.step](code)
        except Refused as exc:
            return Feedback(False, str(exc), self.step)

    def confirm(self, qty: int | None = None) -> Feedback:
        """Take `qty` units (default: those scanned) for the current line; then the tote is scanned."""
        line = self.current
        if line is None or self.step not in ("item", "put"):
            return Feedback(False, "Scan the bin label first." if line else "The batch is done.", self.step)
        qty = self.scanned_units if qty is None else qty
        if qty < 1:
            return Feedback(False, "Scan at least one unit, or report a short pick.", self.step)
        if qty > line.open_qty:
            return Feedback(False, f"Only {line.open_qty} needed on this line; put {qty - line.open_qty} back.", self.step)
        self.scanned_units, self.step = qty, "put"
        return Feedback(True, f"{qty} × {line.name}. Put them into tote {self.totes[line.order_id]} and scan it.", self.step)

    def short(self, reason: ShortReason, picked_qty: int | None = None) -> Feedback:
        """The rest of the line is not there; units already in hand go into the tote."""
        line = self.current
        if line is None or self.step == "tote":
            return Feedback(False, "There is no line to report short.", self.step)
        picked = self.scanned_units if picked_qty is None else picked_qty
        if not 0 <= picked < line.open_qty:
            return Feedback(False, f"A short pick takes fewer than {line.open_qty} units.", self.step)
        missing = line.open_qty - picked
        with self.replica.transaction() as conn:
            if picked:
                self._record_pick(conn, line, picked)
            outbox.record_op(conn, "pick.shorted", {"order_id": line.order_id, "line_no": line.line_no, "bin": line.bin,
                                                    "sku": line.sku, "qty": missing, "reason": reason.value},
                             self.actor, outbox.PendingEffect(lines=((line.order_id, line.line_no, 0, missing),)))
        put = f" Put {picked} into tote {self.totes[line.order_id]}." if picked else ""
        return self._after(f"Reported {missing} × {line.name} short ({reason.value.replace('_', ' ')}).{put}")

    def skip(self) -> Feedback:
        line = self.current
        if line is None or self.step == "tote":
            return Feedback(False, "There is no line to skip.", self.step)
        if self.scanned_units:
            return Feedback(False, f"Put the {self.scanned_units} units in hand into tote {self.totes[line.order_id]} first, or report a short.", self.step)
        self.skipped.append((line.order_id, line.line_no))
        return self._after(f"Skipped {line.name}; it comes back at the end.")

    # -- work in progress ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"order_ids": self.order_ids, "totes": self.totes, "step": self.step, "scanned_units": self.scanned_units,
                "skipped": [list(k) for k in self.skipped],
                "line": [self.current.order_id, self.current.line_no] if self.current else None}

    @classmethod
    def restore(cls, replica: Replica, state: dict[str, Any], actor: str) -> "BatchPickSession":
        session = cls(replica, state["order_ids"], actor)
        session.totes = dict(state["totes"])
        session.skipped = [tuple(k) for k in state["skipped"]]
        session._advance()
        saved = tuple(state["line"]) if state.get("line") else None
        if session.current and saved == (session.current.order_id, session.current.line_no) and state["step"] in ("item", "put"):
            session.step = state["step"]
            session.scanned_units = min(state["scanned_units"], session.current.open_qty)
        return session

    # -- inside -------------------------------------------------------------------------
    def _scan_new_tote(self, code: str) -> Feedback:
        tote = self._tote(code)
        owner = next((o for o, t in self.totes.items() if t.upper() == tote.upper()), None)
        if owner is not None:
            raise WrongTote(f"Tote {tote} is already on this cart for order {self.numbers[owner]}. Scan another empty tote.")
        order_id = self._order_without_tote()
        self.totes[order_id] = tote
        self._advance()
        then = self.prompt() if self.step == "tote" else f"All totes set. Go to bin {self.current.bin}." if self.current else ""
        return Feedback(True, f"Tote {tote} is for order {self.numbers[order_id]}. {then}".strip(), self.step)

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
        if code.upper().startswith("TOTE:"):
            raise WrongTote(f"Scan {line.name} first, then the tote.")
        sku = sku_for_barcode(self.replica, code)
        if sku is None:
            raise UnknownBarcode(f"No item has barcode {code[:40]}. Check the label and scan again.")
        if sku != line.sku:
            name = self.replica.query_one("SELECT name FROM items WHERE sku = ?", (sku,))["name"]
            raise WrongItem(f"Wrong item: that is {name}. This line needs {line.name}; put it back.")
        self.scanned_units += 1
        if self.scanned_units == line.open_qty:
            self.step = "put"
            return Feedback(True, f"{line.open_qty} × {line.name}. Put them into tote {self.totes[line.order_id]} and scan it.", self.step)
        return Feedback(True, f"{self.scanned_units} of {line.open_qty} × {line.name}.", self.step)

    def _scan_put(self, code: str) -> Feedback:
        line = self.current
        if sku_for_barcode(self.replica, code):
            raise BadQuantity(f"Already {self.scanned_units} in hand; this line needs no more. Put that one back, then scan tote {self.totes[line.order_id]}.")
        tote = self._tote(code)
        want = self.totes[line.order_id]
        if tote.upper() != want.upper():
            other = next((self.numbers[o] for o, t in self.totes.items() if t.upper() == tote.upper()), None)
            whose = f" (order {other})" if other else ""
            raise WrongTote(f"Wrong tote: {tote}{whose}. These go into tote {want}.")
        qty = self.scanned_units
        with self.replica.transaction() as conn:
            self._record_pick(conn, line, qty)
        return self._after(f"{qty} × {line.name} in tote {want}.")

    def _tote(self, code: str) -> str:
        try:
            meaning = parse_own_code(code)
        except ScanError:
            meaning = None
        if not isinstance(meaning, ToteLabel):
            raise WrongTote("That is not a tote label. Scan the TOTE barcode on the tote.")
        return meaning.tote_id

    def _record_pick(self, conn, line: PickLine, qty: int) -> None:
        outbox.record_op(
            conn, "pick.confirmed",
            {"order_id": line.order_id, "line_no": line.line_no, "bin": line.bin, "sku": line.sku, "qty": qty,
             "tote": self.totes[line.order_id]},
            self.actor,
            outbox.PendingEffect(lines=((line.order_id, line.line_no, qty, 0),), stock=((line.bin, line.sku, -qty),)),
        )

    def _after(self, message: str) -> Feedback:
        self._advance()
        if self.current is None:
            return Feedback(True, f"{message} Batch done: take the totes to packing.", "done")
        return Feedback(True, f"{message} Next: bin {self.current.bin}.", self.step)

    def _order_without_tote(self) -> str | None:
        return next((o for o in self.order_ids if o not in self.totes), None)

    def _advance(self) -> None:
        """Totes first; then the first open line in pick-path order, skipped lines last."""
        self.scanned_units = 0
        open_lines = [l for l in self.lines() if l.open_qty > 0]
        open_lines.sort(key=lambda l: (l.order_id, l.line_no) in self.skipped)
        self.current = open_lines[0] if open_lines else None
        if self._order_without_tote() is not None:
            self.step = "tote"
        else:
            self.step = "bin" if self.current else "done"
        if self.current and self.skipped and all((l.order_id, l.line_no) in self.skipped for l in open_lines):
            self.skipped.clear()
