"""Pickups at the counter (BOPIS, curbside): ready orders, finding one by the
customer's QR code, order number or name, checking the pickup code, handing over
all or part (refused lines with a reason), and a supervisor extending the date.

The hub sets each order's code and pickup-by time; this device only compares.
A refused action changes nothing and says what to do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from devices.scan import OrderNumber, PickupCode
from edge_app.errors import BadQuantity, Refused, UnknownBarcode
from edge_app.local.floor_effects import FloorEffect, record
from edge_app.local.replica import Replica
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.scans import read_scan, role_of
from sync.kinds import RefusalReason

__all__ = ["READY_STATUSES", "PickupLine", "PickupOrder", "WrongPickupCode", "ready_pickups", "search_pickups",
           "get_pickup", "find_pickup", "PickupSession", "extend_pickup"]

READY_STATUSES = ("picked", "short", "packed", "partly_handed_over")
_STATUS_WORDS = {
    "released": "not picked yet: ask the customer to wait, or check the pick queue",
    "picking": "still being picked: ask the customer to wait a few minutes",
    "expired": "expired (not collected in time): its units are going back to the shelves",
    "handed_over": "already handed over",
    "refused": "closed: the customer refused it",
    "cancelled": "cancelled: nothing to hand over; send the customer to the service desk",
}


class WrongPickupCode(Refused):
    """The pickup code shown does not belong to the order."""


@dataclass(frozen=True)
class PickupLine:
    line_no: int
    sku: str
    name: str
    qty: int
    picked: int
    handed_over: int
    refused: int
    short: int = 0  # units the picker could not find: the customer will not get them

    @property
    def held(self) -> int:
        """Units waiting at the counter for the customer."""
        return max(self.picked - self.handed_over - self.refused, 0)


@dataclass(frozen=True)
class PickupOrder:
    id: str
    number: str
    customer_name: str
    status: str
    pickup_code: str | None
    pickup_by: str | None
    staging: str | None
    lines: tuple[PickupLine, ...] = field(default_factory=tuple)
    tote: str | None = None

    @property
    def waits_at(self) -> str:
        """Where the order waits: its staging place, the tote it was picked into, or ''."""
        return " · ".join(filter(None, [f"shelf {self.staging}" if self.staging else "",
                                        f"tote {self.tote}" if self.tote else ""]))

    @property
    def short(self) -> int:
        return sum(line.short for line in self.lines)

    @property
    def held(self) -> int:
        return sum(line.held for line in self.lines)

    @property
    def ready(self) -> bool:
        return self.status in READY_STATUSES and self.held > 0


_ORDER_SQL = (
    "SELECT o.id, o.number, o.customer_name, o.status, o.pickup_code, o.staging, o.tote, "
    "COALESCE((SELECT e.pickup_by FROM live_floor_effects e WHERE e.order_id = o.id AND e.pickup_by IS NOT NULL "
    "ORDER BY e.device_seq DESC LIMIT 1), o.pickup_by) AS pickup_by FROM orders o WHERE o.fulfilment = 'pickup' "
)


def get_pickup(replica: Replica, order_id: str) -> PickupOrder | None:
    row = replica.query_one(_ORDER_SQL + "AND o.id = ?", (order_id,))
    return _order(replica, row) if row else None


def ready_pickups(replica: Replica) -> list[PickupOrder]:
    """Pickup orders with units waiting at the counter, the soonest to expire first."""
    rows = replica.query(_ORDER_SQL + f"AND o.status IN ({', '.join('?' * len(READY_STATUSES))}) "
                         "ORDER BY pickup_by, o.number", READY_STATUSES)
    return [order for order in (_order(replica, r) for r in rows) if order.ready]


def search_pickups(replica: Replica, words: str) -> list[PickupOrder]:
    """Ready orders whose number or customer name contains `words` (any case)."""
    needle = words.strip().lower()
    if not needle:
        return ready_pickups(replica)
    return [o for o in ready_pickups(replica) if needle in o.number.lower() or needle in o.customer_name.lower()]


def find_pickup(replica: Replica, raw: str) -> tuple[PickupOrder, bool]:
    """The ready order a scan or typed text names, and whether its pickup code was
    checked by it (a customer's QR). Raises Refused with what to do."""
    text = raw.strip()
    if not text:
        raise Refused("Nothing was scanned. Scan the customer's QR code, or type the order number or name.")
    meaning = read_scan(text)
    if isinstance(meaning, PickupCode):
        order = _by_number(replica, meaning.order_number)
        _check_code(order, meaning.code)
        return _ready(order), True
    if isinstance(meaning, OrderNumber):
        return _ready(_by_number(replica, meaning.order_number)), False
    row = replica.query_one("SELECT id FROM orders WHERE fulfilment = 'pickup' AND number = ? COLLATE NOCASE", (text,))
    found_order = get_pickup(replica, row["id"]) if row is not None else None
    if found_order is not None:
        return _ready(found_order), False
    found = search_pickups(replica, text)
    if len(found) == 1:
        return found[0], False
    if found:
        raise Refused(f"{len(found)} ready orders match {text[:40]!r}. Tap the right one, or scan the customer's QR code.")
    raise UnknownBarcode(f"No ready pickup matches {text[:40]!r}. Check the order number, or ask for the QR code.")


class PickupSession:
    """One customer at the counter with one order. Nothing is recorded until the handover."""

    def __init__(self, replica: Replica, order_id: str, actor: str, code_verified: bool = False):
        self.replica = replica
        self.order_id = order_id
        self.actor = actor
        self.code_verified = code_verified

    @property
    def order(self) -> PickupOrder:
        order = get_pickup(self.replica, self.order_id)
        if order is None:
            raise Refused("This order is no longer on this device. Go back to the pickup list.")
        return order

    def prompt(self) -> str:
        order = self.order
        if not order.ready:
            return f"Order {order.number} is {_STATUS_WORDS.get(order.status, order.status.replace('_', ' '))}."
        if not self.code_verified:
            return f"Ask {order.customer_name or 'the customer'} for the pickup code, or scan the QR on their phone."
        return f"Code OK. Hand over the {order.held} unit{'s' if order.held != 1 else ''}; mark any the customer refuses."

    def verify(self, raw: str) -> Feedback:
        """Check a typed code or a scanned `PICKUP:` QR against the order; a mismatch changes nothing."""
        text = raw.strip()
        try:
            if not text:
                raise WrongPickupCode("Nothing was entered. Type the code the customer reads out, or scan their QR.")
            meaning = read_scan(text)
            order = self.order
            if isinstance(meaning, PickupCode):
                if meaning.order_number.upper() != order.number.upper():
                    raise WrongPickupCode(f"That QR code is for order {meaning.order_number}, not {order.number}. Ask for the right one.")
                text = meaning.code
            _check_code(order, text)
        except Refused as exc:
            return Feedback(False, str(exc), "code")
        self.code_verified = True
        return Feedback(True, f"Pickup code OK for {order.number}. Hand over the units.", "hand_over")

    def hand_over(self, take: dict[int, int] | None = None, refused: dict[int, tuple[int, RefusalReason]] | None = None) -> Feedback:
        """Hand over `take` units per line (default: everything held, less refusals) and
        record `refused` units per line with a reason. One op; refusals change nothing."""
        try:
            order = self._handover_checks()
            lines, refusals = self._plan(order, take, refused or {})
        except Refused as exc:
            return Feedback(False, str(exc), "hand_over" if self.code_verified else "code")
        payload = {"order_id": order.id, "code_verified": self.code_verified,
                   "lines": [{"line_no": n, "qty": q} for n, q in lines],
                   "refused": [{"line_no": n, "qty": q, "reason": r.value} for n, (q, r) in refusals]}
        floor = tuple(FloorEffect(order.id, n, handed_over=q) for n, q in lines) + \
            tuple(FloorEffect(order.id, n, refused=q) for n, (q, _r) in refusals)
        with self.replica.transaction() as conn:
            record(conn, "pickup.handed_over", payload, self.actor, floor=floor)
        given = sum(q for _n, q in lines)
        back = sum(q for _n, (q, _r) in refusals)
        words = f"Handed over {given} unit{'s' if given != 1 else ''} of {order.number}."
        damaged = sum(q for _n, (q, r) in refusals if r == RefusalReason.DAMAGED)
        if back - damaged:
            words += f" {back - damaged} refused: put {'it' if back - damaged == 1 else 'them'} on the put-back shelf."
        if damaged:
            words += f" {damaged} damaged: take {'it' if damaged == 1 else 'them'} to damage/quarantine, not the shelf."
        left = self.order.held
        return Feedback(True, words + (f" {left} still waiting for later." if left else ""), "done" if not left else "hand_over")

    def _handover_checks(self) -> PickupOrder:
        order = self.order
        if not order.ready:
            raise Refused(f"Order {order.number} is {_STATUS_WORDS.get(order.status, order.status)}.")
        if not self.code_verified:
            raise WrongPickupCode("Check the pickup code first: scan the QR on the customer's phone or type the code.")
        return order

    def _plan(self, order: PickupOrder, take: dict[int, int] | None, refused: dict[int, tuple[int, RefusalReason]]):
        held = {line.line_no: line for line in order.lines}
        for line_no in list(refused) + list(take or {}):
            if line_no not in held:
                raise Refused(f"Order {order.number} has no line {line_no}.")
        if take is None:
            take = {n: line.held - refused.get(n, (0, None))[0] for n, line in held.items()}
        for n, line in held.items():
            asked = take.get(n, 0) + refused.get(n, (0, None))[0]
            if take.get(n, 0) < 0 or asked > line.held:
                raise BadQuantity(f"Only {line.held} × {line.name} wait for this customer; you chose {asked}.")
        lines = [(n, q) for n, q in sorted(take.items()) if q > 0]
        refusals = [(n, (q, r)) for n, (q, r) in sorted(refused.items()) if q > 0]
        if not lines and not refusals:
            raise BadQuantity("Choose at least one unit to hand over or to refuse.")
        return lines, refusals


def extend_pickup(replica: Replica, order_id: str, until: datetime, actor: str, role: str | None = None,
                  now: datetime | None = None) -> Feedback:
    """Ask the hub to keep an order waiting until `until`; supervisors only."""
    try:
        if role_of(replica, role) != "supervisor":
            raise Refused("Only a supervisor can extend a pickup. Ask one to sign in.")
        order = get_pickup(replica, order_id)
        if order is None or not order.ready:
            raise Refused("This order is not waiting for pickup; there is nothing to extend.")
        until = until if until.tzinfo else until.astimezone()
        if until <= (now or datetime.now(timezone.utc)) or (order.pickup_by and until <= datetime.fromisoformat(order.pickup_by)):
            raise BadQuantity("Choose a date later than the current pickup-by date.")
    except Refused as exc:
        return Feedback(False, str(exc), "extend")
    stamp = until.astimezone(timezone.utc).isoformat()
    with replica.transaction() as conn:
        record(conn, "pickup.extended", {"order_id": order_id, "pickup_by": stamp}, actor,
               floor=(FloorEffect(order_id, pickup_by=stamp),))
    return Feedback(True, f"Order {order.number} now waits until {until:%a %d %b %H:%M}.", "extend")


def _order(replica: Replica, row) -> PickupOrder:
    lines = replica.query(
        "SELECT l.line_no, l.sku, COALESCE(i.name, l.sku) AS name, l.qty, l.qty_picked AS picked, "
        "l.qty_handed_over AS handed_over, l.qty_refused AS refused, l.qty_short AS short FROM floor_lines_now l "
        "LEFT JOIN items i ON i.sku = l.sku WHERE l.order_id = ? ORDER BY l.line_no",
        (row["id"],),
    )
    order = PickupOrder(row["id"], row["number"], row["customer_name"], row["status"], row["pickup_code"],
                        row["pickup_by"], row["staging"], tuple(PickupLine(**dict(r)) for r in lines), row["tote"])
    if order.status in READY_STATUSES and order.held == 0 and any(line.handed_over for line in order.lines):
        return PickupOrder(**{**order.__dict__, "status": "handed_over"})  # this device handed it over; the hub will say so
    return order


def _by_number(replica: Replica, number: str) -> PickupOrder:
    row = replica.query_one("SELECT id FROM orders WHERE fulfilment = 'pickup' AND number = ? COLLATE NOCASE", (number,))
    if row is None:
        raise UnknownBarcode(f"No pickup order {number[:40]} is on this device. Check the number, or sync and try again.")
    order = get_pickup(replica, row["id"])
    if order is None:
        raise UnknownBarcode(f"No pickup order {number[:40]} is on this device. Check the number, or sync and try again.")
    return order


def _check_code(order: PickupOrder, code: str) -> None:
    if not order.pickup_code:
        raise WrongPickupCode(f"Order {order.number} has no pickup code yet. Sync now, then try again.")
    if code.strip().upper() != order.pickup_code.upper():
        raise WrongPickupCode(f"That code does not match order {order.number}. Ask the customer to read it again, letter by letter.")


def _ready(order: PickupOrder) -> PickupOrder:
    if not order.ready:
        raise Refused(f"Order {order.number} is {_STATUS_WORDS.get(order.status, order.status.replace('_', ' '))}.")
    return order
