"""Hub commands: the ops only the hub itself issues (from the API, the CLI, the
console or its own sweeps), with their payload models. They go through the same
log and handlers as device ops; `device_id` is `hub`.

A device can never send one of these kinds: sync.authority lists them as the hub's
alone, and the hub refuses them from a device before any handler runs."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sync.authority import PRIVILEGED_ROLES
from sync.carriers import RateTable  # pure models, no I/O
from sync.kinds import PRINTABLE, Code, Text, When
from sync.models import OrderIn
from sync.proofs import KDF, operator_key

__all__ = [
    "LOCATION_KINDS",
    "ItemUpserted",
    "LocationAdded",
    "BinAdded",
    "StockReceived",
    "OrderAccepted",
    "OrderCancelled",
    "PolicySet",
    "AllotmentGranted",
    "AllotmentReclaimed",
    "OperatorUpserted",
    "OperatorDisabled",
    "OperatorRemoved",
    "PickupExpired",
    "TaskAssigned",
    "TaskClosed",
    "ConflictResolved",
    "OpReviewed",
    "OPERATOR_ROLES",
    "hash_pin",
    "operator_payload",
    "pin_rule",
    # set-up
    "LocationUpdated", "ItemsImported", "BinsImported", "StockAdjusted", "ADJUST_REASONS", "StockSnapshotImported",
    "TransferShipped", "TransferReceived", "IMPORT_BATCH",
    # routing
    "LocationProfileSet",
    "RoutingPolicySet",
    "OrderReleased",
    "OrderReassigned",
    "OrdersRebrokered",
    # substitution at pick
    "SubstitutesSet",
    # sync: a swapped handheld's work handed over
    "WorkHandedOver",
]

Count = Annotated[int, Field(ge=0, le=1_000_000)]
Units = Annotated[int, Field(gt=0, le=1_000_000)]

LOCATION_KINDS = ("store", "warehouse", "dark_store")


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- the shape of the network ------------------------------------------------------
class ItemUpserted(_Command):
    """Add an item to the catalogue, or change its name, weight or barcodes."""

    sku: Code
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
    unit_weight_g: int | None = Field(default=None, ge=0, le=1_000_000)
    barcodes: list[Code] = Field(default_factory=list, max_length=100)
    # set-up: dimensions and flags (optional, so items logged before them replay as they were)
    length_mm: int | None = Field(default=None, ge=0, le=100_000)
    width_mm: int | None = Field(default=None, ge=0, le=100_000)
    height_mm: int | None = Field(default=None, ge=0, le=100_000)
    hazmat: bool = False
    min_age: int | None = Field(default=None, ge=1, le=99)  # sold only to people this old or older
    # substitution at pick: what the substitute rule compares (optional, as above)
    category: Annotated[str, Field(min_length=1, max_length=64, pattern=PRINTABLE)] | None = None
    size_qty: int | None = Field(default=None, gt=0, le=1_000_000)  # e.g. 500 (with size_unit "g")
    size_unit: Annotated[str, Field(min_length=1, max_length=8, pattern=r"^[A-Za-z]+$")] | None = None
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)


# set-up: a day's opening hours, "08:00-20:00" (a day missing is a day closed)
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Span = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")]
OpeningHours = dict[Day, Annotated[list[Span], Field(max_length=4)]]


class LocationAdded(_Command):
    """A store, warehouse or dark store joins the network."""

    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
    kind: str = Field(pattern="^(store|warehouse|dark_store)$")
    # set-up: where it is and how much it takes (optional, see hub.domain.network)
    address: Annotated[str, Field(max_length=300, pattern=PRINTABLE)] | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    time_zone: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+/-]{0,63}$")] | None = None
    opening_hours: OpeningHours | None = None
    daily_capacity: int | None = Field(default=None, ge=0, le=1_000_000)


class BinAdded(_Command):
    """A bin at a location, with its place on the pick path."""

    location: Code
    code: Code
    seq: int = Field(ge=0, le=10**9)
    zone: Code | None = None  # set-up: the zone the bin lies in (aisle, chiller, cage …)


class StockReceived(_Command):
    """Units received into a bin."""

    location: Code
    bin: Code
    sku: Code
    qty: Units


# -- orders -------------------------------------------------------------------------
class OrderAccepted(_Command):
    """A channel's order, with the id and time the hub gave it."""

    id: Code
    created_at: Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)]
    order: OrderIn
    # A random code the hub drew for a pickup order; logged, so a replay gets the same one.
    # Orders accepted before it existed have a code derived from their id.
    pickup_code: Annotated[str, Field(pattern="^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6,12}$")] | None = None
    # routing: when each location's devices last synced, if the policy filters on it (logged: replays alike)
    synced: dict[Code, When] | None = None


class OrderCancelled(_Command):
    """A channel or an admin cancels an order."""

    order_id: Code
    reason: Text = ""


Note = Annotated[str, Field(min_length=1, max_length=500, pattern=PRINTABLE)]
RowId = Annotated[int, Field(ge=1, le=2**62)]


class TaskAssigned(_Command):
    """An administrator gives an open task to a person (an operator id or a name)."""

    task_id: RowId
    to: Code


class TaskClosed(_Command):
    """An administrator closes an open task from the console (no stock moves with it)."""

    task_id: RowId
    note: Note


class ConflictResolved(_Command):
    """An administrator has looked at a conflict record and says what was done."""

    conflict_id: RowId
    note: Note
    at: When
    by: Code


class OpReviewed(_Command):
    """An administrator has looked at a refused op and says what was done."""

    op_id: Code
    note: Note
    at: When
    by: Code


class PickupExpired(_Command):
    """A ready pickup order nobody collected by its pickup-by time."""

    order_id: Code
    at: When


# -- stock policy and escrow ----------------------------------------------------------
class PolicySet(_Command):
    """Safety stock and the escrow floor of a (location, SKU)."""

    location: Code
    sku: Code
    safety_stock: Count
    escrow_floor: Count


class AllotmentGranted(_Command):
    """Units of a (location, SKU) leased to one terminal to promise offline."""

    device_id: Code
    location: Code
    sku: Code
    qty: Count  # 0 renews the lease or changes the target only
    target: Count
    expires_at: Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)]


class AllotmentReclaimed(_Command):
    """A lease expired past its grace period: its units go back to the pool."""

    device_id: Code
    sku: Code
    qty: Units


# -- people ---------------------------------------------------------------------------
class OperatorUpserted(_Command):
    """Add an operator, or change one's name, role or PIN (hashed, salted)."""

    operator_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=PRINTABLE)]
    role: str = Field(pattern="^(picker|packer|associate|supervisor)$")
    location: Code
    pin_hash: str = Field(pattern=r"^scrypt\$\d{1,7}\$\d{1,2}\$\d{1,2}\$[0-9a-f]{64}$")
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")


class OperatorDisabled(_Command):
    """An operator may no longer sign in (left, badge lost); devices forget them.
    Adding them again (`operator.upserted`, a new PIN) lets them back."""

    operator_id: Code
    reason: Text = ""


class OperatorRemoved(_Command):
    """An operator is gone for good: removed from the hub and from every device."""

    operator_id: Code


OPERATOR_ROLES = ("picker", "packer", "associate", "supervisor")


def pin_rule(role: str) -> tuple[int, int]:
    """(fewest, most) digits of a PIN for `role`: privileged roles need longer PINs,
    so the few bits a device keeps leave thousands of candidates, not a handful."""
    return (6, 12) if role in PRIVILEGED_ROLES else (4, 12)


def hash_pin(pin: str, salt: str) -> str:
    """`scrypt$N$r$p$hex`: the operator key, scrypt(PIN, per-operator salt)."""
    return f"{KDF}${operator_key(pin, salt).hex()}"


def operator_payload(operator_id: str, name: str, role: str, location: str, pin: str) -> dict[str, str]:
    """The `operator.upserted` payload for a typed PIN: a fresh salt, the PIN hashed.
    Raises ValueError for a PIN of the wrong length for the role (see pin_rule)."""
    fewest, most = pin_rule(role)
    if not (pin.isdigit() and fewest <= len(pin) <= most):
        raise ValueError(f"a {role}'s PIN is {fewest} to {most} digits")
    salt = secrets.token_hex(16)
    return {"operator_id": operator_id, "name": name, "role": role, "location": location,
            "pin_hash": hash_pin(pin, salt), "salt": salt}


# -- set-up: changing locations, imports in batches, adjustments and transfers --------
IMPORT_BATCH = 5000  # rows per logged import command (one transaction each: its commit is most of a small batch's time)
ADJUST_REASONS = ("damaged", "lost", "found", "expired", "theft", "correction", "snapshot", "other")


class LocationUpdated(_Command):
    """Change a location's name, kind, address, coordinates, time zone, opening hours or
    daily capacity: only the fields given change (null clears an optional one)."""

    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)] | None = None
    kind: str | None = Field(default=None, pattern="^(store|warehouse|dark_store)$")
    address: Annotated[str, Field(max_length=300, pattern=PRINTABLE)] | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    time_zone: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+/-]{0,63}$")] | None = None
    opening_hours: OpeningHours | None = None
    daily_capacity: int | None = Field(default=None, ge=0, le=1_000_000)


class ItemsImported(_Command):
    """One batch of a catalogue import: each item as `catalogue.item_upserted` has it."""

    items: list[ItemUpserted] = Field(min_length=1, max_length=IMPORT_BATCH)


class BinsImported(_Command):
    """One batch of a bins import."""

    bins: list[BinAdded] = Field(min_length=1, max_length=IMPORT_BATCH)


class StockAdjusted(_Command):
    """Units found, lost, damaged … in a bin, with the reason: a delta, never a figure."""

    location: Code
    bin: Code
    sku: Code
    qty: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(pattern=f"^({'|'.join(ADJUST_REASONS)})$")
    note: Text = ""


class SnapshotRow(_Command):
    bin: Code
    sku: Code
    on_hand: Count


class StockSnapshotImported(_Command):
    """A batch of a stock snapshot at one location: each (bin, SKU) is set to its figure
    by a movement of the difference (reason `snapshot`), so the ledger explains it and a
    second run of the same file moves nothing."""

    location: Code
    rows: list[SnapshotRow] = Field(min_length=1, max_length=IMPORT_BATCH)


class TransferLine(_Command):
    bin: Code
    sku: Code
    qty: Units


class TransferShipped(_Command):
    """Units leave one location's bins for another location: in transit until received."""

    transfer_id: Code
    from_location: Code
    to_location: Code
    lines: list[TransferLine] = Field(min_length=1, max_length=500)


class TransferReceived(_Command):
    """A transfer in transit arrives and is put into a bin at its destination."""

    transfer_id: Code
    bin: Code
# -- events and foresight ----------------------------------------------------------
class RiskAssessed(_Command):
    """An open order's SLA risk changed (hub.insight.risk): the level, why in words, and when."""

    order_id: Code
    location: Code | None = None
    level: str = Field(pattern="^(ok|at_risk|late)$")
    reason: Annotated[str, Field(max_length=500, pattern=PRINTABLE)]
    at: When


class DeviceStatusSet(_Command):
    """A device went offline (not seen for a while) or came back (hub.insight.devices)."""

    device_id: Code
    location: Code
    online: bool
    unsent_ops: int = Field(ge=0, le=10**9)
    last_seen_at: Annotated[str, Field(max_length=40, pattern=PRINTABLE)] | None = None
    at: When


__all__ += ["RiskAssessed", "DeviceStatusSet"]


# -- routing ----------------------------------------------------------------------------
from hub.domain.routing_policy import RoutingPolicy  # noqa: E402  (pure models, no I/O)

HoursSpan = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$")]
ProfileDay = Annotated[str, Field(pattern="^(mon|tue|wed|thu|fri|sat|sun)$")]


class LocationProfileSet(_Command):
    """Where a location is, when it is open (local time, its UTC offset), how many
    orders a day it can take and its rank for the `rank` sort: what routing reads."""

    code: Code
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    tz_offset_min: int = Field(default=0, ge=-720, le=840)
    hours: dict[ProfileDay, HoursSpan] | None = None  # None: always open; a day left out: closed that day
    daily_capacity: int | None = Field(default=None, ge=0, le=1_000_000)
    rank: int = Field(default=0, ge=0, le=1_000_000)


class RoutingPolicySet(_Command):
    """A new version of the routing policy."""

    policy: RoutingPolicy
    note: Text = ""


class OrderReleased(_Command):
    """An administrator sends a parked order (awaiting stock, pickup rejected) back
    through routing; `forget_rejections` lets locations that rejected it take it again."""

    order_id: Code
    at: When
    forget_rejections: bool = False


class OrderReassigned(_Command):
    """An administrator moves an order nobody has picked from yet to a location of their choosing."""

    order_id: Code
    location: Code
    at: When
    note: Text = ""


class OrdersRebrokered(_Command):
    """Route parked orders again (a scheduled pass), highest priority and oldest first.
    `synced`: when each location's devices last synced, for the policy's sync filter."""

    at: When
    limit: int = Field(default=10_000, ge=1, le=1_000_000)
    synced: dict[Code, When] | None = None


# -- substitution at pick ---------------------------------------------------------------
class SubstitutesSet(_Command):
    """An item's substitute rule: the SKUs that may stand in for it, best first, and
    whether items of the same category and size within `price_band_pct` may too."""

    sku: Code
    substitutes: list[Code] = Field(default_factory=list, max_length=50)
    by_rule: bool = True
    price_band_pct: int = Field(default=20, ge=0, le=100)


# -- sync: a swapped handheld ----------------------------------------------------------
class WorkHandedOver(_Command):
    """An administrator hands a replaced handheld's unfinished work (its pick claims,
    its allotments, the open tasks given to it) to the device that replaces it, at the
    same location. The old device is revoked in the same transaction (hub.hand_over)."""

    from_device: Code
    to_device: Code
    location: Code


# -- anomalies ----------------------------------------------------------------------------

ANOMALY_KINDS = ("bin_accuracy", "books_wrong", "short_spike", "stuck_order", "device_queue", "device_refusals",
                 "device_clock")  # hub.insight.detectors.KINDS
_AnomalyKind = Annotated[str, Field(pattern=f"^({'|'.join(ANOMALY_KINDS)})$")]
_AnomalyKey = Annotated[str, Field(min_length=3, max_length=240, pattern=PRINTABLE)]


class AnomalyRaised(_Command):
    """The hub found an anomaly (hub.insight.anomalies): what, where, and the evidence."""

    key: _AnomalyKey
    kind: _AnomalyKind
    location: Code | None = None
    subject: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
    evidence: Annotated[str, Field(min_length=1, max_length=2000, pattern=PRINTABLE)]
    numbers: dict[str, Any] = Field(default_factory=dict)
    at: When


class AnomalyCleared(_Command):
    """An open anomaly is no longer found."""

    key: _AnomalyKey
    location: Code | None = None  # the anomaly's, so its event reaches that location's subscribers
    at: When


class AnomalyRule(_Command):
    """When an anomaly of `kind` is raised, do `action`: `recount` raises a recount task
    for its bin (bin kinds only; for bin_accuracy only when accuracy is below `below`),
    `raise_safety_stock` raises the safety stock of its SKU where it was short by `by`."""

    kind: _AnomalyKind
    action: Literal["recount", "raise_safety_stock"]
    below: float | None = Field(default=None, gt=0, le=1)
    by: int | None = Field(default=None, ge=1, le=10_000)

    @model_validator(mode="after")
    def _fits(self) -> "AnomalyRule":
        if self.action == "recount" and self.kind not in ("bin_accuracy", "books_wrong"):
            raise ValueError(f"a recount needs a bin: {self.kind} anomalies have none")
        if self.action == "raise_safety_stock" and self.kind not in ("short_spike", "bin_accuracy", "books_wrong"):
            raise ValueError(f"raising safety stock needs a SKU: {self.kind} anomalies have none")
        if self.action == "raise_safety_stock" and self.by is None:
            raise ValueError("by: raising safety stock needs how many units")
        if self.below is not None and self.kind != "bin_accuracy":
            raise ValueError("below: only bin accuracy has a level to be below")
        return self


class AnomalyPolicySet(_Command):
    """A new version of the anomaly policy (an empty list: anomalies are only shown)."""

    rules: list[AnomalyRule] = Field(default_factory=list, max_length=50)
    note: Text = ""


__all__ += ["ANOMALY_KINDS", "AnomalyRaised", "AnomalyCleared", "AnomalyRule", "AnomalyPolicySet"]


# -- carriers ---------------------------------------------------------------------------
class CarrierRatesSet(_Command):
    """A new version of the carrier rate table (services, zones, rates), loaded whole."""

    table: RateTable
    note: Text = ""


__all__ += ["CarrierRatesSet"]
