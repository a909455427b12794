"""Wire models: what devices push, what the hub answers, what devices pull,
and how orders arrive at the hub."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    "SyncHealth",
    "CancelRequest",
    "EnrollRequest",
    "Enrollment",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Op(_Strict):
    """One thing a person did on a device; immutable once written to the outbox."""

    op_id: str = Field(min_length=8, max_length=64)
    device_id: str = Field(min_length=1, max_length=64)
    device_seq: int = Field(ge=1)
    kind: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any]
    actor: str = Field(min_length=1, max_length=64)
    hlc: str = Field(min_length=1, max_length=128)
    schema_version: int = Field(ge=1)


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
    entity: Literal["item", "bin", "order", "stock", "task", "allotment", "operator"]
    key: str
    data: dict[str, Any] | None


class PullResponse(_Strict):
    changes: list[Change]
    cursor: int
    more: bool
    hlc: str | None = None  # the hub's clock, so a device's next op sorts after what it saw


class Fulfilment(str, Enum):
    SHIP = "ship"
    PICKUP = "pickup"
    QUICK = "quick"


class OrderLineIn(_Strict):
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=10_000)


class OrderIn(_Strict):
    """An order as a sales channel posts it."""

    number: str = Field(min_length=1, max_length=64)
    channel: str = Field(min_length=1, max_length=64)
    fulfilment: Fulfilment
    promised_by: datetime
    customer_name: str = Field(default="", max_length=200)
    location: str | None = Field(default=None, max_length=64)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class SyncHealth(_Strict):
    """What a device reports about its own sync after each round."""

    outbox_depth: int = Field(ge=0)
    oldest_pending_age_s: float | None = None
    last_sync_at: str | None = None
    escrow_headroom: dict[str, int] = Field(default_factory=dict)
    rejected: int = Field(default=0, ge=0)


class CancelRequest(_Strict):
    reason: str = Field(default="", max_length=200)


class EnrollRequest(_Strict):
    code: str = Field(min_length=4, max_length=64)
    name: str = Field(default="", max_length=100)


class Enrollment(_Strict):
    device_id: str
    token: str
    location: str
    role: str
