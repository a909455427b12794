"""The conflict rules: pure functions of (state, op) → decision.

Each rule takes only what it needs as plain values and returns what to do: how
much of the op takes effect, which compensations (tasks for people) it creates,
and a conflict record when the op collided with hub state. No I/O, no clock
reads, no randomness: replaying the log must reach the same decisions.
Facts always stand; only requests are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "unknown_sku_fact",
    "Task",
    "Conflict",
    "Decision",
    "LineState",
    "CLOSED_FOR_PICKING",
    "settle_pick",
    "settle_short",
    "settle_cancel",
    "settle_handover",
    "settle_count",
    "settle_attribute",
    "settle_return",
    "settle_refund",
    "settle_claim",
    "CLAIM_TTL_MS",
    "PICKING_STATUSES",
    # returns from any channel
    "settle_return_elsewhere",
    "units_out",
]

# Order statuses in which an order is still being picked.
PICKING_STATUSES = frozenset({"released", "picking"})
# A claim nobody renewed for this long (by the claims' own HLC times) may be taken over:
# the handheld went flat or its picker walked away.
CLAIM_TTL_MS = 30 * 60 * 1000
# Order statuses in which units picked are no longer wanted.
CLOSED_FOR_PICKING = frozenset({"cancelled", "handed_over", "shipped", "expired"})


@dataclass(frozen=True)
class Task:
    """Follow-up work for a person: put back, recount, refund review, reroute."""

    kind: str
    sentence: str
    for_role: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    """A record of a collision: the rule that decided it, its inputs, its outcome."""

    rule: str
    inputs: dict[str, Any]
    outcome: str


@dataclass(frozen=True)
class Decision:
    """What an op does. `refusal` (a reason code) only ever comes from requests."""

    apply_qty: int = 0
    tasks: tuple[Task, ...] = ()
    conflict: Conflict | None = None
    refusal: str | None = None
    message: str = ""


@dataclass(frozen=True)
class LineState:
    """An order line as the hub holds it now."""

    qty: int
    picked: int = 0
    short: int = 0
    handed_over: int = 0
    returned: int = 0
    refunded: int = 0

    @property
    def open_qty(self) -> int:
        return max(self.qty - self.picked - self.short, 0)


def settle_pick(line: LineState, order_status: str, qty: int, sku: str, bin_code: str) -> Decision:
    """Picked units physically left the bin: the pick always stands.

    Rule `cancel_vs_offline_pick`: on a closed order nothing fills; all units go back.
    Rule `over_pick`: units beyond what the line still needs go back."""
    if order_status in CLOSED_FOR_PICKING:
        return Decision(
            apply_qty=0,
            tasks=(_put_back(sku, bin_code, qty, f"the order is {order_status}"),),
            conflict=Conflict("cancel_vs_offline_pick", {"order_status": order_status, "picked": qty}, f"pick stands; {qty} to put back"),
        )
    fill = min(qty, line.open_qty)
    excess = qty - fill
    if not excess:
        return Decision(apply_qty=fill)
    return Decision(
        apply_qty=fill,
        tasks=(_put_back(sku, bin_code, excess, "the line was already filled by another pick"),),
        conflict=Conflict("over_pick", {"line_open": line.open_qty, "picked": qty}, f"{fill} filled the line; {excess} to put back"),
    )


def settle_short(line: LineState, order_status: str, qty: int, reason: str, bin_on_hand: int, sku: str, bin_code: str | None) -> Decision:
    """A short pick is a fact: the units were not there to take.

    Rule `short_after_pick_from_bin`: an empty-bin short while the ledger still shows
    units in that bin (others picked from it meanwhile, or the count is wrong) asks
    for a recount. Every short that leaves the line open asks for a reroute."""
    if order_status in CLOSED_FOR_PICKING:
        return Decision(apply_qty=0)
    missing = min(qty, line.open_qty)
    tasks: list[Task] = []
    conflict = None
    if missing and reason == "empty_bin" and bin_code and bin_on_hand > 0:
        # A recount is blind: its sentence and details never carry the books' quantity
        # (the conflict record keeps it, for the console).
        tasks.append(_task("recount", "supervisor", f"Recount {sku} in bin {bin_code}: it was reported empty but the books say there is stock.", sku=sku, bin=bin_code))
        conflict = Conflict("short_after_pick_from_bin", {"bin_on_hand": bin_on_hand, "short": missing}, "short stands; bin recount requested")
    if missing:
        tasks.append(_task("reroute", "supervisor", f"{missing} × {sku} short: find it elsewhere or split the order.", sku=sku, qty=missing))
    return Decision(apply_qty=missing, tasks=tuple(tasks), conflict=conflict)


def settle_cancel(order_status: str, picked_by_line: dict[int, tuple[str, str | None, int]]) -> Decision:
    """A cancellation is a request. Refused once the goods have left the store;
    otherwise it stands, and units already picked go back (rule `cancel_after_pick`)."""
    if order_status in ("handed_over", "shipped"):
        return Decision(refusal="already_handed_over", message=f"the order is already {order_status.replace('_', ' ')}")
    if order_status == "cancelled":
        return Decision(refusal="already_cancelled", message="the order is already cancelled")
    tasks = tuple(
        _put_back(sku, bin_code, qty, "the order was cancelled")
        for _line_no, (sku, bin_code, qty) in sorted(picked_by_line.items())
        if qty > 0
    )
    conflict = Conflict("cancel_after_pick", {"picked_units": sum(q for _s, _b, q in picked_by_line.values())}, "cancellation stands; picked units to put back") if tasks else None
    return Decision(tasks=tasks, conflict=conflict)


def settle_handover(order_status: str, qty: int) -> Decision:
    """A handover is a fact: the customer has the goods.

    Rule `handover_vs_cancel`: if the hub cancelled the order meanwhile, the handover
    stands, the cancellation fails, and someone reviews the refund."""
    if order_status == "cancelled":
        return Decision(
            apply_qty=qty,
            tasks=(_task("refund_review", "supervisor", f"Order was cancelled but {qty} units were handed over: check the refund."),),
            conflict=Conflict("handover_vs_cancel", {"order_status": order_status, "handed_over": qty}, "handover stands; cancellation fails; refund review"),
        )
    return Decision(apply_qty=qty)


def settle_count(counted: int, expected_at_count: int, threshold: int, sku: str, bin_code: str) -> Decision:
    """Rule `count_reconciliation`: a count is a snapshot at its own time T.
    The adjustment is counted − expected at T; movements after T stay on top.
    A variance beyond the threshold also asks for a recount."""
    variance = counted - expected_at_count
    tasks: tuple[Task, ...] = ()
    if abs(variance) > threshold:
        tasks = (_task("recount", "supervisor", f"Recount {sku} in bin {bin_code}: the count was far from the books.", sku=sku, bin=bin_code),)
    conflict = Conflict("count_reconciliation", {"counted": counted, "expected_at_count": expected_at_count}, f"adjusted by {variance:+d}") if variance else None
    return Decision(apply_qty=variance, tasks=tasks, conflict=conflict)


def settle_attribute(current: tuple[Any, str] | None, proposed: tuple[Any, str]) -> Decision:
    """Rule `last_writer_wins`: of two edits of one attribute the later HLC wins;
    the loser is recorded, never silently dropped. `apply_qty` is 1 if `proposed` wins."""
    if current is None or proposed[1] > current[1]:
        conflict = None
        if current is not None and current[0] != proposed[0]:
            conflict = Conflict("last_writer_wins", {"kept": proposed[0], "lost": current[0]}, "later edit wins; earlier value recorded")
        return Decision(apply_qty=1, conflict=conflict)
    return Decision(apply_qty=0, conflict=Conflict("last_writer_wins", {"kept": current[0], "lost": proposed[0]}, "earlier edit arrived late and lost"))


def settle_return(line: LineState, qty: int, sku: str) -> Decision:
    """A return is a fact: the units are back in the store.

    Rule `return_after_refund`: returned units beyond what is still unrefunded and
    sold mean money already went back: someone reviews the refund."""
    sold = line.picked
    if line.refunded + qty <= sold and line.returned + qty <= sold:
        return Decision(apply_qty=qty)
    return Decision(
        apply_qty=qty,
        tasks=(_task("refund_review", "supervisor", f"{qty} × {sku} returned on a line already refunded ({line.refunded} of {sold}): check before refunding again.", sku=sku, qty=qty),),
        conflict=Conflict("return_after_refund", {"sold": sold, "returned": line.returned, "refunded": line.refunded, "returning": qty}, "return stands; refund review"),
    )


def settle_refund(line: LineState, qty: int) -> Decision:
    """A refund is a request: refused beyond what was returned and not yet refunded."""
    refundable = line.returned - line.refunded
    if qty > refundable:
        return Decision(refusal="nothing_to_refund", message=f"only {max(refundable, 0)} returned units are not refunded yet")
    return Decision(apply_qty=qty)


def _task(kind: str, for_role: str, sentence: str, **details: Any) -> Task:
    return Task(kind=kind, sentence=sentence, for_role=for_role, details=details)


def _put_back(sku: str, bin_code: str | None, qty: int, why: str) -> Task:
    where = f"bin {bin_code}" if bin_code else "its bin"
    return _task("put_back", "picker", f"Put {qty} × {sku} back in {where}: {why}.", sku=sku, bin=bin_code, qty=qty)


def settle_claim(order_status: str, number: str, held: tuple[str, str, int] | None, device_id: str, at_ms: int) -> Decision:
    """Rule `pick_claim`: a handheld asks to pick an order (a request). `held` is the
    current claim as (device, actor, claimed at ms) or None. Granted when nobody holds
    it, when this device does (a renewal), or when the other claim is older than
    CLAIM_TTL_MS; refused while another handheld's claim is fresh."""
    if order_status not in PICKING_STATUSES:
        return Decision(refusal="not_pickable", message=f"order {number} is {order_status.replace('_', ' ')}; there is nothing to pick")
    if held is None or held[0] == device_id:
        return Decision(apply_qty=1, message=f"order {number} is yours to pick")
    other, actor, since = held
    if at_ms - since >= CLAIM_TTL_MS:
        return Decision(apply_qty=1, message=f"order {number} is yours to pick",
                        conflict=Conflict("pick_claim", {"previous_device": other, "previous_actor": actor},
                                          "stale claim taken over"))
    return Decision(refusal="claimed_elsewhere",
                    message=f"order {number} is being picked by {actor} on another handheld")


# -- sync: facts naming an SKU the catalogue does not hold -----------------------------
def unknown_sku_fact(decision: Decision, sku: str, bin_code: str, known: bool) -> Decision:
    """Rule `unknown_sku`: a fact (a count, a move) names an SKU the hub's catalogue
    does not hold. The fact stands, as facts do (units were there); a catalogue review
    task asks a supervisor to add the item or correct the op, and the collision is
    recorded (unless the decision records one of its own)."""
    if known or decision.refusal:
        return decision
    task = Task("catalogue_review", f"SKU {sku} was counted or moved in bin {bin_code} but is not in the catalogue: "
                "add the item or correct the stock.", "supervisor", {"sku": sku, "bin": bin_code})
    conflict = decision.conflict or Conflict("unknown_sku", {"sku": sku, "bin": bin_code}, "fact stands; catalogue review")
    return replace(decision, tasks=(*decision.tasks, task), conflict=conflict)


# -- returns from any channel ------------------------------------------------------------


def units_out(fulfilment: str, status: str, packed: int, handed_over: int) -> int:
    """Units of a line that reached the customer: handed over (pickup), or packed into
    the cartons of an order that went to the carrier (ship); none before that."""
    if fulfilment == "pickup":
        return handed_over
    return packed if status == "shipped" else 0


def settle_return_elsewhere(line: LineState, sold: int, qty: int, sku: str) -> Decision:
    """A return of another location's order: the store that takes it cannot see what
    that order's customer was given, only the hub can, so the hub holds it to that
    like a request: units beyond `sold` (units_out), less those back already, are
    refused (`already_returned` once some came back, else `more_than_sold`); the person
    is told and may take them as a supervisor's return without a receipt."""
    left = max(sold - line.returned, 0)
    if qty <= left:
        return Decision(apply_qty=qty)
    if line.returned:
        return Decision(refusal="already_returned",
                        message=f"{line.returned} of {sold} × {sku} came back already; {left} more can, not {qty}")
    if not sold:
        return Decision(refusal="more_than_sold", message=f"no {sku} of this order has reached its customer yet")
    return Decision(refusal="more_than_sold", message=f"only {sold} × {sku} reached the customer, not {qty}")
