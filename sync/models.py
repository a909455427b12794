"""Wire models: what devices push, what the hub answers, what devices pull,
and how orders arrive at the hub."""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sync.kinds import PRINTABLE, Code, Text, When

__all__ = [
    "Op",
    "OpStatus",
    "Compensation",
    "OpResult",
    "PushRequest",
    "PushResponse",
    "Change",
    "PullResponse",
    "Fulfilment",
    "OrderLineIn",
    "OrderIn",
    "Address",
    "Contact",
    "SyncHealth",
    "CancelRequest",
    "EnrollRequest",
    "Enrollment",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Op(_Strict):
    """One thing a person did on a device; immutable once written to the outbox."""

    op_id: str = Field(min_length=8, max_length=64, pattern=PRINTABLE)
    device_id: Code
    device_seq: int = Field(ge=1, le=2**62)
    kind: Code
    payload: dict[str, Any]
    actor: Code
    hlc: str = Field(min_length=1, max_length=128, pattern=PRINTABLE)
    # Any version the op log's column holds: one this side does not read is refused for
    # that op alone (unsupported_schema_version), never for the whole push.
    schema_version: int = Field(ge=-(2**31), le=2**31 - 1)
    # Evidence that the actor signed in on this device (sync.proofs); None for a
    # device's own ops and badge-only sign-ins.
    proof: str | None = None

    @field_validator("proof", mode="before")
    @classmethod
    def _proof_shape(cls, value: Any) -> Any:
        """A proof not shaped as one is kept as "invalid": it fails the hub's check like
        any wrong proof, instead of failing the whole push (and wedging the queue)."""
        if value is None or (isinstance(value, str) and re.fullmatch(r"v1\.[0-9a-f]{1,64}\.[0-9a-f]{64}", value)):
            return value
        return "invalid"


class OpStatus(str, Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Compensation(_Strict):
    """Follow-up work a collision created: a task for a person."""

    kind: str
    sentence: str
    details: dict[str, Any] = Field(default_factory=dict)


class OpResult(_Strict):
    """The hub's answer to one op. `change_seq`: the feed position that reflects it."""

    op_id: str
    device_seq: int
    status: OpStatus
    reason_code: str | None = None
    message: str | None = None
    compensations: list[Compensation] = Field(default_factory=list)
    change_seq: int = 0


class PushRequest(_Strict):
    ops: list[Op] = Field(max_length=1000)


class PushResponse(_Strict):
    results: list[OpResult]


class Change(_Strict):
    """One row of the hub's change feed: the new state of an entity, or None if gone."""

    seq: int
    # item, bin, order, stock, task, allotment, operator, carrier_rates (hub.feed); any
    # name is read, so a hub that publishes a new entity never stops an older app's pull:
    # the app skips what it does not know (edge_app.local.hub_state.apply_changes)
    entity: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,31}$")]
    key: str
    data: dict[str, Any] | None


class PullResponse(_Strict):
    changes: list[Change]
    cursor: int
    more: bool
    # With more to come, the feed position the device's state reflects once it applied
    # this page (the feed is compacted: hub.feed.pull); None: the cursor.
    settled: int | None = None
    tag: str = ""  # the cursor's fingerprint: sent back with it, so a restored hub sees it is not its own
    hlc: str | None = None  # the hub's clock, so a device's next op sorts after what it saw


class Fulfilment(str, Enum):
    SHIP = "ship"
    PICKUP = "pickup"
    QUICK = "quick"


class OrderLineIn(_Strict):
    sku: Code
    qty: int = Field(gt=0, le=10_000)
    substitutes_allowed: bool = False  # routing: the picker may offer a substitute for this line
    # routing: lines with the same label (a set, a bundle, a gift) ship from one location
    ship_with: str | None = Field(default=None, max_length=64)

    @field_validator("ship_with")
    @classmethod
    def _a_group_label(cls, label: str | None) -> str | None:
        if label is not None and not _GROUP_LABEL.fullmatch(label):
            raise ValueError("a group label is 1 to 64 printable characters, without spaces at either end")
        return label


_GROUP_LABEL = re.compile(r"[^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?")


# -- routing: where an order goes and whom to tell -------------------------------------
AddressLine = Annotated[str, Field(min_length=1, max_length=100, pattern=PRINTABLE)]


class Address(_Strict):
    """A ship-to address: lines, postal code, ISO 3166 country, coordinates if known."""

    lines: list[AddressLine] = Field(min_length=1, max_length=4)
    postal_code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> "Address":
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        return self


class Contact(_Strict):
    """Whom to notify about the order: an e-mail address, a phone number, or both."""

    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 ()-]{4,24}$")

    @model_validator(mode="after")
    def _reachable(self) -> "Contact":
        if self.email is None and self.phone is None:
            raise ValueError("a contact needs an email or a phone")
        return self


class OrderIn(_Strict):
    """An order as a sales channel posts it."""

    number: Code
    channel: Code
    fulfilment: Fulfilment
    promised_by: When
    customer_name: Text = ""
    location: Code | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    # routing: where it goes, whom to tell, which parked orders are routed first (higher first)
    ship_to: Address | None = None
    contact: Contact | None = None
    priority: int = Field(default=0, ge=0, le=9)

    @model_validator(mode="after")
    def _pickup_has_no_ship_to(self) -> "OrderIn":
        if self.fulfilment == Fulfilment.PICKUP and self.ship_to is not None:
            raise ValueError("ship_to: a pickup order is collected at its location, it has no ship-to address")
        return self


class SyncHealth(_Strict):
    """What a device reports about its own sync after each round."""

    outbox_depth: int = Field(ge=0, le=10**9)
    oldest_pending_age_s: float | None = Field(default=None, ge=0, le=10**10)
    last_sync_at: Text | None = None
    escrow_headroom: dict[Code, Annotated[int, Field(ge=-(10**9), le=10**9)]] = Field(default_factory=dict, max_length=10_000)
    rejected: int = Field(default=0, ge=0, le=10**9)
    app_version: Code | None = None  # which build the device runs: the fleet page shows stragglers


class CancelRequest(_Strict):
    reason: Text = ""


class EnrollRequest(_Strict):
    code: str = Field(min_length=4, max_length=64, pattern=PRINTABLE)
    name: str = Field(default="", max_length=64, pattern=PRINTABLE)  # ops carry it as their actor (64)


class Enrollment(_Strict):
    device_id: str
    token: str
    location: str
    role: str
