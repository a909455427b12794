"""The pick walk: one step machine for single-order and batch (cluster) picking, so
a rule fixed once holds in both.

Per line, in pick-path order across the orders of the walk:

    bin → item → count → [tote] → next line

- **bin**: scan the bin label. Consecutive lines in one bin are one stop: the bin is
  not asked for again.
- **item**: scan one unit. Nothing can be counted or confirmed before the bin and the
  item are verified, so no pick is ever recorded unverified.
- **count**: scan each further unit, or type how many were taken (a multipack).
  The line is taken when every open unit is scanned, or on Confirm.
- **tote** (batch only): put the units into the order's tote and scan it; that records
  `pick.confirmed` with the tote. Before the walk, each order gets a scanned empty tote.

- **substitute** (a line that allows substitutes, when its item is out): the picker
  chooses one of the ranked candidates (edge_app.workflows.substitutes) and scans its
  barcode for each unit; confirm records `pick.substituted` for the original line.

Short reports the rest of the line as not there, with the units in hand taken.
Skip leaves a line for the end, and is refused while units are in hand. Every
recorded action is one transaction (effect + outbox op); a refused scan changes
nothing. The walk's position is plain data (`state()`), saved after every step."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from devices.codes import parse_own_code
from devices.errors import ScanError
from devices.scan import BinLabel, ToteLabel
from edge_app.errors import BadQuantity, Refused, StorageFull, UnknownBarcode, WrongBin, WrongItem
from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.pick_list import BIN_PREFIX, PickLine, pick_list
from edge_app.workflows.scans import item_for_scan
from edge_app.workflows import substitutes as subs
from edge_app.workflows.substitute_steps import SubstituteSteps
from sync.hlc import Timestamp
from sync.kinds import ShortReason
from sync.rules import CLAIM_TTL_MS

__all__ = ["PickWalk", "PickSession", "BatchPickSession", "MAX_BATCH", "WrongTote", "STEPS", "Claim", "claim_state",
           "claim_order", "release_claim", "CLAIM_RENEW_S"]

MAX_BATCH = 6  # totes on one cart
# A claim older than this is renewed when its picker opens the order again, well
# before another handheld may take it over (sync.rules.CLAIM_TTL_MS).
CLAIM_RENEW_S = CLAIM_TTL_MS / 1000 / 3
STEPS = ("tote", "bin", "item", "count", "put", "done", "substitute")


class WrongTote(Refused):
    """The tote scanned is not the one the units belong in."""


class PickWalk(SubstituteSteps):
    """One picker walking the bins for one or more orders. Holds only where they are;
    picked quantities live in the replica."""

    def __init__(self, replica: Replica, order_ids: list[str], actor: str, totes: bool):
        self.replica = replica
        self.order_ids = list(order_ids)
        self.actor = actor
        self.uses_totes = totes
        self.totes: dict[str, str] = {}
        self.numbers = {r["id"]: r["number"] for r in replica.query(
            f"SELECT id, number FROM orders WHERE id IN ({', '.join('?' * len(order_ids))})", tuple(order_ids))}
        self.step = "tote" if totes else "bin"
        self.scanned_units = 0
        self.skipped: list[tuple[str, int]] = []
        self.at_bin: str | None = None  # the bin verified at the current stop
        self.current: PickLine | None = None
        self.substitute: subs.Substitute | None = None  # chosen for the current line (step "substitute")
        self._advance()

    # -- what the screen asks for -------------------------------------------------------
    def lines(self) -> list[PickLine]:
        """Every line of the walk in pick-path order (bin, then order, then line)."""
        rank = {order_id: i for i, order_id in enumerate(self.order_ids)}
        lines = [line for order_id in self.order_ids for line in pick_list(self.replica, order_id)]
        return sorted(lines, key=lambda l: (l.bin_seq, rank[l.order_id], l.line_no))

    def tote_for(self, order_id: str) -> str | None:
        return self.totes.get(order_id)

    @property
    def counting(self) -> bool:
        """Bin and item verified: a count may be typed and confirmed now."""
        return self.step == "count"

    def prompt(self) -> str:
        line = self.current
        if self.step == "tote":
            order_id = self._order_without_tote()
            return f"Scan an empty tote for order {self.numbers.get(order_id or '', order_id)}."
        if line is None:
            return "Batch done. Take the totes to packing." if self.uses_totes else "All lines done. Pick the next order."
        if self.step == "bin" and line.bin is None:
            return f"No bin holds {line.name}. Report it short (not found)."
        if self.step == "bin":
            return f"Go to bin {line.bin} and scan the bin label."
        if self.step == "item":
            return f"Scan {line.name} ({line.sku}){self._for_order(line)}: {line.open_qty} to take."
        if self.step == "count":
            return f"{self.scanned_units} of {line.open_qty} scanned. Scan the next unit or confirm the count."
        if self.step == "substitute" and self.substitute is not None:
            return (f"Substitute for {line.name}: take {self.substitute.name} from bin {self.substitute.bin} and scan "
                    f"each unit ({self.scanned_units} of {line.open_qty}).")
        return f"Put {self.scanned_units} × {line.name} into tote {self.totes[line.order_id]} and scan the tote."

    # -- what the picker does -----------------------------------------------------------
    def scan(self, raw: str) -> Feedback:
        """Interpret a scan for the current step; refusals change nothing."""
        code = raw.strip()
        try:
            if not code:
                raise Refused("Nothing was scanned. Scan again.")
            if self.step == "tote":
                return self._scan_new_tote(code)
            if self.current is None:
                raise Refused("Nothing is left to pick here.")
            if self.step == "bin":
                return self._scan_bin(code)
            if self.step == "put":
                return self._scan_put(code)
            if self.step == "substitute":
                return self._scan_substitute(code)
            return self._scan_item(code)
        except Refused as exc:
            return self._refuse(exc)

    def confirm(self, qty: int | None = None) -> Feedback:
        """Take `qty` units (default: those scanned) for the current line, once its bin
        and one unit have been scanned."""
        line = self.current
        if line is None or self.step in ("tote", "done"):
            return self._refuse(Refused("There is no line to confirm."))
        if self.step == "bin":
            return self._refuse(Refused(f"Scan the label of bin {line.bin} first, then one unit; then you can type the count."))
        if self.step == "item":
            return self._refuse(Refused(f"Scan one {line.name} first; then you can type how many you took."))
        if self.step == "put":
            return self._refuse(Refused(f"Scan tote {self.totes[line.order_id]} to put the {self.scanned_units} units in."))
        if self.step == "substitute":
            return self._confirm_substitute(line, qty)
        qty = self.scanned_units if qty is None else qty
        if qty < 1:
            return self._refuse(BadQuantity(f"Type 1 or more (you typed {qty}), or report a short pick."))
        if qty > line.open_qty:
            return self._refuse(BadQuantity(f"Only {line.open_qty} more needed on this line; you typed {qty}. "
                                            "Put the extra units back."))
        return self._take(line, qty)

    def short(self, reason: ShortReason, picked_qty: int | None = None) -> Feedback:
        """The rest of the line is not there; the units in hand are taken (into the tote)."""
        line = self.current
        if line is None or self.step in ("tote", "done"):
            return self._refuse(Refused("There is no line to report short."))
        if self.step == "substitute":
            if self.scanned_units:
                return self._refuse(Refused(f"You hold {self.scanned_units} × {self.substitute.name if self.substitute else ''}: "
                                            "confirm them, or put them back and cancel the substitute first."))
            self._leave_substitute()
        picked = self.scanned_units if picked_qty is None else picked_qty
        if picked and self.step not in ("count", "put"):
            return self._refuse(Refused(f"Scan the bin and one {line.name} before counting what you took, "
                                        "or report the whole line short."))
        if not 0 <= picked < line.open_qty:
            return self._refuse(BadQuantity(f"A short pick takes fewer than {line.open_qty} units; you typed {picked}."))
        missing = line.open_qty - picked
        with self.replica.transaction() as conn:
            if picked:
                self._record_pick(conn, line, picked)
            outbox.record_op(conn, "pick.shorted", {"order_id": line.order_id, "line_no": line.line_no, "bin": line.bin,
                                                    "sku": line.sku, "qty": missing, "reason": reason.value},
                             self.actor, outbox.PendingEffect(lines=((line.order_id, line.line_no, 0, missing),)))
        put = f" Put {picked} into tote {self.totes[line.order_id]}." if picked and self.uses_totes else ""
        return self._after(f"Reported {missing} × {line.name} short ({reason.value.replace('_', ' ')}).{put}", line)

    def skip(self) -> Feedback:
        """Leave the current line for the end; refused while units are in hand."""
        line = self.current
        if line is None or self.step in ("tote", "done"):
            return self._refuse(Refused("There is no line to skip."))
        if self.scanned_units:
            where = f"into tote {self.totes[line.order_id]}" if self.uses_totes else "back in the bin"
            return self._refuse(Refused(f"You hold {self.scanned_units} × {line.name}: confirm them, put them {where}, "
                                        "or report a short before you skip."))
        self.skipped.append((line.order_id, line.line_no))
        return self._after(f"Skipped {line.name}; it comes back at the end.", line)

    # -- work in progress ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"order_ids": self.order_ids, "totes": self.totes, "step": self.step, "scanned_units": self.scanned_units,
                "skipped": [list(k) for k in self.skipped], "at_bin": self.at_bin,
                "line": [self.current.order_id, self.current.line_no] if self.current else None}

    def resume(self, state: dict[str, Any]) -> None:
        """Go back to a saved position, as far as the lines still need it."""
        self.totes = dict(state.get("totes") or {})
        self.skipped = [(str(o), int(n)) for o, n in state.get("skipped") or []]
        self.at_bin = state.get("at_bin")
        self._advance()
        saved = tuple(state["line"]) if state.get("line") else None
        if self.current and saved == (self.current.order_id, self.current.line_no) and state["step"] in ("item", "count", "put"):
            self.step = state["step"]
            self.scanned_units = min(int(state.get("scanned_units") or 0), self.current.open_qty)
            if self.step in ("count", "put") and not self.scanned_units:
                self.step = "item"

    # -- inside -------------------------------------------------------------------------
    def _scan_new_tote(self, code: str) -> Feedback:
        tote = self._tote(code)
        owner = next((o for o, t in self.totes.items() if t.upper() == tote.upper()), None)
        if owner is not None:
            raise WrongTote(f"Tote {tote} is already on this cart for order {self.numbers[owner]}. Scan another empty tote.")
        order_id = self._order_without_tote()
        assert order_id is not None  # the tote step lasts while an order has none
        self.totes[order_id] = tote
        self._advance()
        then = self.prompt() if self.step == "tote" else f"All totes set. Go to bin {self.current.bin}." if self.current else ""
        return Feedback(True, f"Tote {tote} is for order {self.numbers[order_id]}. {then}".strip(), self.step)

    def _scan_bin(self, code: str) -> Feedback:
        line = self._line()
        scanned = code[len(BIN_PREFIX):] if code.upper().startswith(BIN_PREFIX) else code
        if scanned.upper() != (line.bin or "").upper():
            if self._is_item(code):
                raise WrongBin(f"That is an item. Scan the label of bin {line.bin} first.")
            raise WrongBin(f"Wrong bin: you scanned {scanned[:40]}. Go to bin {line.bin}.")
        self.step, self.at_bin = "item", line.bin
        return Feedback(True, f"Bin {line.bin} OK. Scan {line.name}.", self.step)

    def _scan_item(self, code: str) -> Feedback:
        line = self._line()
        meaning = self._own_label(code)
        if isinstance(meaning, ToteLabel):
            raise WrongTote(f"Scan {line.name} first, then the tote." if self.uses_totes else
                            f"That is a tote label. Scan {line.name}.")
        if isinstance(meaning, BinLabel):
            here = meaning.bin_code.upper() == (line.bin or "").upper()
            raise WrongBin(f"Bin {line.bin} is already scanned. Scan {line.name}." if here else
                           f"You are at bin {line.bin}. Scan {line.name} from it.")
        sku, name = item_for_scan(self.replica, code)
        if sku != line.sku:
            raise WrongItem(f"Wrong item: that is {name}. This line needs {line.name}; put it back.")
        self.scanned_units += 1
        self.step = "count"
        if self.scanned_units == line.open_qty:
            try:
                return self._take(line, self.scanned_units)
            except StorageFull:  # not recorded: scanning this unit again, once there is space, records it
                self.scanned_units -= 1
                self.step = "count" if self.scanned_units else "item"
                raise
        return Feedback(True, f"{self.scanned_units} of {line.open_qty} × {line.name}.", self.step)

    def _take(self, line: PickLine, qty: int) -> Feedback:
        """The units are in hand: into the tote next (batch), or recorded now."""
        if self.uses_totes:
            self.scanned_units, self.step = qty, "put"
            return Feedback(True, f"{qty} × {line.name}. Put them into tote {self.totes[line.order_id]} and scan it.",
                            self.step)
        with self.replica.transaction() as conn:
            self._record_pick(conn, line, qty)
        return self._after(f"Picked {qty} × {line.name}.", line)

    def _scan_put(self, code: str) -> Feedback:
        line = self._line()
        if self._is_item(code):
            raise BadQuantity(f"Already {self.scanned_units} in hand; this line needs no more. Put that one back, "
                              f"then scan tote {self.totes[line.order_id]}.")
        tote = self._tote(code)
        want = self.totes[line.order_id]
        if tote.upper() != want.upper():
            other = next((self.numbers[o] for o, t in self.totes.items() if t.upper() == tote.upper()), None)
            whose = f" (order {other})" if other else ""
            raise WrongTote(f"Wrong tote: {tote}{whose}. These go into tote {want}.")
        qty = self.scanned_units
        with self.replica.transaction() as conn:
            self._record_pick(conn, line, qty)
        return self._after(f"{qty} × {line.name} in tote {want}.", line)

    def _record_pick(self, conn: Any, line: PickLine, qty: int) -> None:
        payload: dict[str, Any] = {"order_id": line.order_id, "line_no": line.line_no, "bin": line.bin, "sku": line.sku,
                                   "qty": qty}
        if self.uses_totes:
            payload["tote"] = self.totes[line.order_id]
        outbox.record_op(conn, "pick.confirmed", payload, self.actor,
                         outbox.PendingEffect(lines=((line.order_id, line.line_no, qty, 0),),
                                              stock=((line.bin or "", line.sku, -qty),)))

    def _after(self, message: str, done: PickLine) -> Feedback:
        self._advance()
        if self.current is None:
            end = " Batch done: take the totes to packing." if self.uses_totes else " Order complete."
            return Feedback(True, message + end, "done")
        if self.step == "item":
            return Feedback(True, f"{message} Same bin {self.current.bin}: now {self.current.name}.", self.step)
        return Feedback(True, f"{message} Next: bin {self.current.bin}.", self.step)

    def _advance(self) -> None:
        """Totes first; then the first open line in pick-path order, skipped lines last.
        The next line in the bin already verified needs no second bin scan."""
        self.scanned_units, self.substitute = 0, None
        open_lines = [l for l in self.lines() if l.open_qty > 0]
        open_lines.sort(key=lambda l: (l.order_id, l.line_no) in self.skipped)
        self.current = open_lines[0] if open_lines else None
        if self.current and self.skipped and all((l.order_id, l.line_no) in self.skipped for l in open_lines):
            self.skipped.clear()
        if self.uses_totes and self._order_without_tote() is not None:
            self.step = "tote"
        elif self.current is None:
            self.step, self.at_bin = "done", None
        elif self.at_bin is not None and self.current.bin is not None and self.current.bin.upper() == self.at_bin.upper():
            self.step = "item"
        else:
            self.step, self.at_bin = "bin", None

    def _line(self) -> PickLine:
        assert self.current is not None  # scan() checked
        return self.current

    def _for_order(self, line: PickLine) -> str:
        return f" for order {self.numbers.get(line.order_id, line.order_id)}" if len(self.order_ids) > 1 else ""

    def _order_without_tote(self) -> str | None:
        return next((o for o in self.order_ids if o not in self.totes), None)

    def _is_item(self, code: str) -> bool:
        try:
            item_for_scan(self.replica, code)
        except UnknownBarcode:
            return False
        return True

    @staticmethod
    def _own_label(code: str) -> object:
        try:
            return parse_own_code(code)
        except ScanError:
            return None

    def _tote(self, code: str) -> str:
        meaning = self._own_label(code)
        if not isinstance(meaning, ToteLabel):
            raise WrongTote("That is not a tote label. Scan the TOTE barcode on the tote.")
        return meaning.tote_id

    def _refuse(self, exc: Refused) -> Feedback:
        return Feedback(False, str(exc), self.step)


class PickSession(PickWalk):
    """One order, picked straight onto the cart."""

    def __init__(self, replica: Replica, order_id: str, actor: str):
        super().__init__(replica, [order_id], actor, totes=False)
        self.order_id = order_id

    @classmethod
    def restore(cls, replica: Replica, state: dict[str, Any], actor: str) -> "PickSession":
        session = cls(replica, state["order_ids"][0], actor)
        session.resume(state)
        return session


class BatchPickSession(PickWalk):
    """Up to MAX_BATCH orders on one cart, each in its own scanned tote."""

    def __init__(self, replica: Replica, order_ids: list[str], actor: str):
        if not 1 <= len(order_ids) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} orders")
        super().__init__(replica, order_ids, actor, totes=True)

    @classmethod
    def restore(cls, replica: Replica, state: dict[str, Any], actor: str) -> "BatchPickSession":
        session = cls(replica, state["order_ids"], actor)
        session.resume(state)
        return session


# -- claims: which handheld is picking an order -----------------------------------------
@dataclass(frozen=True)
class Claim:
    """Who is picking an order, as this device knows it. `state`: "mine" (the hub
    confirmed this handheld), "waiting" (claimed here, the hub has not answered yet),
    "refused" (the hub said another handheld has it), "other" (the hub's state names
    another handheld), or "none"."""

    state: str
    words: str

    @property
    def blocked(self) -> bool:
        """Another handheld is picking it: stop, and ask before picking more."""
        return self.state in ("refused", "other")


def claim_state(replica: Replica, order_id: str) -> Claim:
    """This device's last claim op for the order (if any), else the hub's state."""
    row = replica.query_one(
        "SELECT kind, state, message FROM outbox WHERE kind IN ('pick.claimed', 'pick.released') "
        "AND json_extract(payload, '$.order_id') = ? ORDER BY device_seq DESC LIMIT 1", (order_id,))
    order = replica.query_one("SELECT claimed_by, claimed_actor, claimed_hlc FROM orders WHERE id = ?", (order_id,))
    me = replica.get_meta("device_id")
    if row is not None and row["kind"] == "pick.claimed":
        if row["state"] == "pending":
            return Claim("waiting", "Claimed on this handheld. The hub confirms it when it is back in touch.")
        if row["state"] == "rejected":
            return Claim("refused", f"Stop: {row['message'] or 'another handheld is picking this order'}. "
                                    "Ask your supervisor before you pick more.")
    if order is None or not order["claimed_by"]:
        return Claim("none", "")
    if order["claimed_by"] == me:
        return Claim("mine", "This order is yours to pick.")
    return Claim("other", f"Being picked by {order['claimed_actor'] or 'someone'} on another handheld.")


def claim_order(replica: Replica, order_id: str, actor: str) -> Claim:
    """Ask the hub for this order (a `pick.claimed` request): offline the claim is
    provisional until the hub answers; a fresh claim of this device is not asked again."""
    current = claim_state(replica, order_id)
    if current.state == "waiting" or (current.state == "mine" and not _claim_old(replica, order_id)):
        return current
    with replica.transaction() as conn:
        outbox.record_op(conn, "pick.claimed", {"order_id": order_id}, actor, outbox.PendingEffect())
    return claim_state(replica, order_id)


def release_claim(replica: Replica, order_id: str, actor: str) -> None:
    """Let go of an order left unfinished, so another handheld may pick it."""
    if claim_state(replica, order_id).state not in ("mine", "waiting"):
        return
    with replica.transaction() as conn:
        outbox.record_op(conn, "pick.released", {"order_id": order_id}, actor, outbox.PendingEffect())


def _claim_old(replica: Replica, order_id: str) -> bool:
    row = replica.query_one("SELECT claimed_hlc FROM orders WHERE id = ?", (order_id,))
    try:
        since = Timestamp.decode(row["claimed_hlc"]).wall_ms / 1000 if row and row["claimed_hlc"] else 0.0
    except ValueError:
        return True
    return time.time() - since > CLAIM_RENEW_S
