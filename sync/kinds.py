"""The op table: every kind a device may send, its payload model, and whether it is
a fact (never rejected when well-formed) or a request (may be refused).

Kinds are named for what happened, in the past tense (`pick.confirmed`), or for what
is asked (`reservation.requested`). Adding a kind means adding a payload model here
and a handler on the hub.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Callable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from sync.errors import MalformedPayload, UnknownOpKind, UnsupportedSchema
from sync.escrow_evidence import AllotmentEvidence

__all__ = [
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "SUPPORT_WINDOW",
    "Nature",
    "ShortReason",
    "PickConfirmed",
    "PickShorted",
    "PickClaimed",
    "PickReleased",
    "HandedOverLine",
    "PickupHandedOver",
    "CountRecorded",
    "StagingSet",
    "Condition",
    "Disposition",
    "ReturnedLine",
    "ReturnReceived",
    "RefundRequested",
    "RequestedLine",
    "ReservationRequested",
    "AllotmentReleased",
    "RefusalReason",
    "RefusedLine",
    "CountReason",
    "PickupExtended",
    "StockMoved",
    "TaskDone",
    "OrderRejected",
    "PackedLine",
    "CartonClosed",
    "HandedToCarrier",
    "OpKind",
    "KINDS",
    "kind_of",
    "parse_payload",
    "upcast",
    "UPCASTS",
    "PRINTABLE",
    "Code",
    "Text",
    "Qty",
    "LineNo",
    "When",
    # receiving
    "GoodsReceived",
    # substitution at pick
    "PickSubstituted",
]

# Version 2: order.staging_set names its field `place` (was `staging`).
SCHEMA_VERSION = 2
# The hub reads ops written by the current app and the two app releases before it
# (docs/sync.md, "Schema versions"): the versions from SCHEMA_VERSION - SUPPORT_WINDOW
# on, each with an upcast path to the current one. Version 1 is the first there was.
SUPPORT_WINDOW = 2
SUPPORTED_SCHEMA_VERSIONS = frozenset(range(max(1, SCHEMA_VERSION - SUPPORT_WINDOW), SCHEMA_VERSION + 1))


class Nature(str, Enum):
    FACT = "fact"
    REQUEST = "request"


class ShortReason(str, Enum):
    EMPTY_BIN = "empty_bin"
    DAMAGED = "damaged"
    NOT_FOUND = "not_found"


# Domain bounds for every field a device sends: strings of printable characters only
# (no NUL, no control characters: PostgreSQL refuses NUL in text, and nothing on the
# floor types one), quantities a shelf can hold, times within this century.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=PRINTABLE)]  # ids, SKUs, bins
Text = Annotated[str, Field(max_length=200, pattern=PRINTABLE)]  # words a person typed or reads
Qty = Annotated[int, Field(gt=0, le=100_000)]
LineNo = Annotated[int, Field(ge=1, le=1_000)]


def _this_century(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("give a time zone")
    if not 2000 <= when.year <= 2100:
        raise ValueError("a time between the years 2000 and 2100")
    return when


When = Annotated[datetime, AfterValidator(_this_century)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PickConfirmed(_Payload):
    """Units of an order line taken from a bin."""

    order_id: Code
    line_no: LineNo
    bin: Code
    sku: Code
    qty: Qty
    tote: Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)] | None = None  # batch picking: the order's tote


class PickShorted(_Payload):
    """Units of an order line the picker could not find, with why.
    `bin` is None when no bin was assigned (nothing on hand at routing time)."""

    order_id: Code
    line_no: LineNo
    bin: Code | None = None
    sku: Code
    qty: Qty
    reason: ShortReason


class HandedOverLine(_Payload):
    line_no: LineNo
    qty: Qty


class RefusalReason(str, Enum):
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_WANTED = "not_wanted"
    MISSING = "missing"


class RefusedLine(_Payload):
    """Units of a pickup line the customer did not take, and why; they go back on a shelf."""

    line_no: LineNo
    qty: Qty
    reason: RefusalReason


class PickupHandedOver(_Payload):
    """Units of a pickup order given to the customer, and units refused at the counter.
    `refused` is optional, so ops written before it existed still parse."""

    order_id: Code
    lines: list[HandedOverLine] = Field(default_factory=list, max_length=1_000)
    code_verified: bool
    refused: list[RefusedLine] = Field(default_factory=list, max_length=1_000)

    @model_validator(mode="after")
    def _something_happened(self) -> "PickupHandedOver":
        if not self.lines and not self.refused:
            raise ValueError("a handover needs at least one line handed over or refused")
        return self


class CountReason(str, Enum):
    DAMAGED = "damaged"
    LOST = "lost"
    FOUND = "found"
    MISPLACED = "misplaced"
    MISCOUNTED_BEFORE = "miscounted_before"


class CountRecorded(_Payload):
    """A blind count of one SKU in one bin, as of the op's HLC time."""

    bin: Code
    sku: Code
    counted: int = Field(ge=0, le=1_000_000)
    reason: CountReason | None = None  # why the shelf differs, when the counter knows


class StagingSet(_Payload):
    """Where a ready order waits for its customer or carrier: a shelf, a locker,
    a curbside bay (an editable attribute)."""

    order_id: Code
    place: Code


class Condition(str, Enum):
    NEW = "new"
    OPENED = "opened"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"


class Disposition(str, Enum):
    RESTOCK = "restock"
    DAMAGE = "damage"
    RETURN_TO_VENDOR = "return_to_vendor"
    QUARANTINE = "quarantine"


class ReturnedLine(_Payload):
    line_no: LineNo | None = None  # None for a return without a receipt
    sku: Code
    qty: Qty
    condition: Condition
    disposition: Disposition
    bin: Code | None = None  # where restocked units went


class ReturnReceived(_Payload):
    """Units a customer brought back, graded and put somewhere."""

    return_id: Code
    order_id: Code | None = None
    lines: list[ReturnedLine] = Field(min_length=1, max_length=500)
    # returns from any channel: the signed return code scanned for an order this device
    # does not hold (sync.return_codes); the hub refuses the op when it is not genuine
    return_code: Annotated[str, Field(min_length=1, max_length=1800, pattern=PRINTABLE)] | None = None


class RefundRequested(_Payload):
    """Ask for money back for returned units of an order line."""

    order_id: Code
    line_no: LineNo
    qty: Qty
    return_id: Code | None = None  # returns from any channel: the return it pays back (refused with it)


class RequestedLine(_Payload):
    sku: Code
    qty: int = Field(gt=0, le=10_000)


class ReservationRequested(_Payload):
    """An order taken at a terminal, asking the hub to hold its units.
    `from_allotment` says the device confirmed it offline from its escrow."""

    order_id: Annotated[str, Field(min_length=8, max_length=64, pattern=PRINTABLE)]
    number: Code
    fulfilment: str = Field(pattern="^(ship|pickup|quick)$")
    promised_by: When
    customer_name: Text = ""
    lines: list[RequestedLine] = Field(min_length=1, max_length=500)
    from_allotment: bool
    # The hub's signed word for what it had granted this device of each SKU drawn on
    # (sync.escrow_evidence), so a hub restored from an older backup can honour the
    # order. Optional: ops of apps that do not send it are applied as before.
    allotment_evidence: list[AllotmentEvidence] | None = Field(default=None, max_length=500)


class AllotmentReleased(_Payload):
    """Escrow units a device gives back unused (lease expired, or above target)."""

    sku: Code
    qty: Qty


# -- packing ------------------------------------------------------------------------
class PackedLine(_Payload):
    line_no: LineNo
    sku: Code
    qty: Qty


class CartonClosed(_Payload):
    """A carton of an order packed, weighed and closed; `carton_id` is its SSCC."""

    order_id: Code
    carton_id: Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)]
    carton_type: Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)]
    weight_g: int = Field(gt=0, le=1_000_000)
    contents: list[PackedLine] = Field(min_length=1, max_length=500)
    # carriers: the service printed on the label, chosen on the device by sync.carriers from
    # the rate table version it held (absent: no address or no table; the hub chooses)
    carrier: Code | None = None
    service: Code | None = None
    tracking: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]{18}$")] | None = None
    rates_version: int | None = Field(default=None, ge=1, le=10**9)


class HandedToCarrier(_Payload):
    """An order's closed cartons given to the carrier."""

    order_id: Code
    carrier: Annotated[str, Field(min_length=1, max_length=60, pattern=PRINTABLE)]
    cartons: list[Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)]] = Field(min_length=1, max_length=100)


class PickClaimed(_Payload):
    """A handheld opens an order to pick it: it asks to be the one picking it. The hub
    refuses while another handheld's claim is fresh (see sync.rules.settle_claim)."""

    order_id: Code


class PickReleased(_Payload):
    """The handheld leaves an order unfinished: its claim ends, another may pick it."""

    order_id: Code


# -- pickups, returns, stock moves, tasks ------------------------------------------
class PickupExtended(_Payload):
    """A supervisor asks to keep a pickup order waiting until `pickup_by` (ISO 8601)."""

    order_id: Code
    pickup_by: When


class StockMoved(_Payload):
    """Units carried from one bin to another at the device's location."""

    from_bin: Code
    to_bin: Code
    sku: Code
    qty: Qty


class TaskDone(_Payload):
    """A person finished a task (put back, recount, refund review, reroute).
    `kind` and `sentence` name the task as the device saw it, so a replay that
    numbers tasks differently still closes the same one."""

    task_id: int = Field(ge=1, le=2**31 - 1)
    kind: Annotated[str, Field(min_length=1, max_length=32, pattern=PRINTABLE)]
    sentence: Annotated[str, Field(min_length=1, max_length=500, pattern=PRINTABLE)]
    note: Text = ""
    bin: Code | None = None  # where put-back units went, if not the task's bin


# -- receiving ------------------------------------------------------------------------
def _date_this_century(day: date) -> date:
    if not 2000 <= day.year <= 2100:
        raise ValueError("a date between the years 2000 and 2100")
    return day


class GoodsReceived(_Payload):
    """Units that arrived (a delivery, a transfer) put into a bin at the device's location.
    `gtin`, `batch` and `expiry` come from the item's GS1 barcode when it carries them;
    `reference` is what the goods came with (a delivery note, a transfer number)."""

    bin: Code
    sku: Code
    qty: Qty
    gtin: Annotated[str, Field(pattern=r"^[0-9]{8,14}$")] | None = None
    batch: Annotated[str, Field(min_length=1, max_length=20, pattern=PRINTABLE)] | None = None
    expiry: Annotated[date, AfterValidator(_date_this_century)] | None = None
    reference: Annotated[str, Field(max_length=64, pattern=PRINTABLE)] = ""
class OrderRejected(_Payload):
    """A store says it cannot fill an order (or one line of it), and why: the hub
    routes it elsewhere by the policy; a pickup order waits for an administrator."""

    order_id: Code
    line_no: LineNo | None = None  # None: the whole order
    reason: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]


# -- substitution at pick -------------------------------------------------------------
class PickSubstituted(_Payload):
    """Units of another item (`substitute_sku`, scanned and verified) taken from `bin`
    for an order line that allows substitutes, in place of `sku`. A request: the hub
    refuses it when the line does not allow substitutes or the item may not stand in.
    `from_allotment`: a terminal covered it from its escrow allotment (offline)."""

    order_id: Code
    line_no: LineNo
    sku: Code
    substitute_sku: Code
    bin: Code
    qty: Qty
    tote: Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)] | None = None
    from_allotment: bool = False


class OpKind(BaseModel):
    name: str
    nature: Nature
    payload: type[_Payload]


KINDS: dict[str, OpKind] = {
    k.name: k
    for k in (
        OpKind(name="pick.confirmed", nature=Nature.FACT, payload=PickConfirmed),
        OpKind(name="pick.shorted", nature=Nature.FACT, payload=PickShorted),
        OpKind(name="pick.claimed", nature=Nature.REQUEST, payload=PickClaimed),
        OpKind(name="pick.released", nature=Nature.REQUEST, payload=PickReleased),
        OpKind(name="pickup.handed_over", nature=Nature.FACT, payload=PickupHandedOver),
        OpKind(name="count.recorded", nature=Nature.FACT, payload=CountRecorded),
        OpKind(name="order.staging_set", nature=Nature.FACT, payload=StagingSet),
        OpKind(name="return.received", nature=Nature.FACT, payload=ReturnReceived),
        OpKind(name="refund.requested", nature=Nature.REQUEST, payload=RefundRequested),
        OpKind(name="reservation.requested", nature=Nature.REQUEST, payload=ReservationRequested),
        OpKind(name="allotment.released", nature=Nature.FACT, payload=AllotmentReleased),
        OpKind(name="pickup.extended", nature=Nature.REQUEST, payload=PickupExtended),
        OpKind(name="stock.moved", nature=Nature.FACT, payload=StockMoved),
        OpKind(name="task.done", nature=Nature.FACT, payload=TaskDone),
        OpKind(name="pack.carton_closed", nature=Nature.FACT, payload=CartonClosed),
        OpKind(name="shipment.handed_to_carrier", nature=Nature.FACT, payload=HandedToCarrier),
        # receiving
        OpKind(name="goods.received", nature=Nature.FACT, payload=GoodsReceived),
        # routing
        OpKind(name="order.rejected", nature=Nature.REQUEST, payload=OrderRejected),
        # substitution at pick
        OpKind(name="pick.substituted", nature=Nature.REQUEST, payload=PickSubstituted),
    )
}


def kind_of(name: str) -> OpKind:
    """The op kind called `name`; raises UnknownOpKind."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownOpKind(f"unknown op kind {name!r}") from None


def _staging_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    upgraded = {k: v for k, v in payload.items() if k != "staging"}
    if "staging" in payload:
        upgraded["place"] = payload["staging"]
    return upgraded


# (kind, version) → how a payload written under that version reads under the next.
# Ops queued on a device before an app upgrade keep their version and payload;
# they are upcast when read, so the log stays exactly what the device wrote.
UPCASTS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("order.staging_set", 1): _staging_v1_to_v2,
}


def upcast(name: str, schema_version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the current schema version reads it."""
    for version in range(schema_version, SCHEMA_VERSION):
        step = UPCASTS.get((name, version))
        if step is not None:
            payload = step(payload)
    return payload


def parse_payload(name: str, schema_version: int, payload: dict[str, Any]) -> _Payload:
    """Validate an op's payload against its kind, upcasting older schema versions.

    Raises UnknownOpKind, UnsupportedSchema, or MalformedPayload naming the field.
    """
    kind = kind_of(name)
    if schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise UnsupportedSchema(f"schema version {schema_version} is not supported (this side reads {sorted(SUPPORTED_SCHEMA_VERSIONS)})")
    try:
        return kind.payload.model_validate(upcast(name, schema_version, payload))
    except ValidationError as exc:
        raise MalformedPayload(_first_problem(exc)) from exc


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "payload"
    return f"payload.{field}: {err['msg']}"
