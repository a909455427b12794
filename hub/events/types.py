"""The event types the hub publishes and the shape of each one's `data`, as pydantic
models: the outbox builds plain dicts (no validation on the write path), a test
checks them against these models, and `backroom hub events schemas` writes their JSON
Schemas to docs/events/.

Kinds of events:
- order lifecycle: `backroom.order.<status>` each time an order's status changes
  (accepted when it first exists, routed when released to a location, picked, short,
  packed, shipped, handed_over, cancelled, expired, …), and `backroom.pickup.ready`
  when a pickup order is ready at the counter;
- floor facts: `backroom.stock.changed` (every movement of the ledger a floor op or a
  receipt makes), `backroom.stock.counted`, `backroom.pick.shorted`,
  `backroom.return.received`, `backroom.task.recorded`, `backroom.conflict.recorded`;
- foresight: `backroom.risk.raised`, `backroom.risk.cleared`, `backroom.order.delayed`,
  `backroom.device.offline`, `backroom.device.online`, `backroom.anomaly.raised`,
  `backroom.anomaly.cleared`;
- every other applied op kind as `backroom.<kind>` with the op's payload (secrets left out)."""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from hub.handlers import HANDLERS
from sync.kinds import KINDS

__all__ = ["SOURCE", "SPEC_VERSION", "CloudEvent", "OrderLine", "OrderEvent", "PickupReady", "StockChanged",
           "StockCounted", "PickShorted", "ReturnReceived", "TaskRecorded", "ConflictRecorded", "RiskEvent", "DeviceEvent",
           "AnomalyEvent",
           "ORDER_STATUS_TYPES", "SPECIFIC_KINDS", "SECRET_FIELDS", "order_type", "generic_type", "event_models"]

SOURCE = "/backroom/hub"
SPEC_VERSION = "1.0"


class CloudEvent(BaseModel):
    """The envelope every event travels in (CloudEvents 1.0, JSON format), with two
    extension attributes: `position` (the outbox position, for replay from any point)
    and `location` (the location the event concerns, when it has one)."""

    model_config = ConfigDict(extra="forbid")
    specversion: Literal["1.0"]
    id: str = Field(description="<op_id>:<n>: the same event always has the same id; de-duplicate by it")
    source: str
    type: str
    subject: str | None = None
    time: str
    datacontenttype: Literal["application/json"]
    position: int = Field(ge=1, description="the event's place in the hub's outbox, increasing")
    location: str | None = None
    data: dict[str, Any]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderLine(_Data):
    line_no: int
    sku: str
    qty: int


class OrderEvent(_Data):
    """An order's status changed (`backroom.order.<status>`); `accepted` carries its lines."""

    order_id: str
    number: str
    channel: str
    fulfilment: str
    location: str | None
    status: str
    previous_status: str | None
    promised_by: str
    lines: list[OrderLine] | None = None


class PickupReady(_Data):
    """A pickup order is ready at the counter: what a customer-messaging system tells the customer."""

    order_id: str
    number: str
    location: str | None
    customer_name: str
    status: str
    promised_by: str


class StockChanged(_Data):
    """One movement of the stock ledger: `delta` units at (location, bin, sku)."""

    location: str
    bin: str
    sku: str
    delta: int
    reason: str
    order_id: str | None = None


class StockCounted(_Data):
    location: str
    bin: str
    sku: str
    counted: int
    reason: str | None = None


class PickShorted(_Data):
    location: str | None
    order_id: str
    line_no: int
    sku: str
    bin: str | None
    qty: int
    reason: str


class ReturnReceived(_Data):
    return_id: str
    order_id: str | None
    location: str | None
    lines: list[dict[str, Any]]


class TaskRecorded(_Data):
    """Follow-up work a collision created for a person (a compensation)."""

    task_id: int | None
    kind: str
    sentence: str
    location: str | None
    order_id: str | None
    op_kind: str


class ConflictRecorded(_Data):
    conflict_id: int
    rule: str
    outcome: str
    location: str | None
    device_id: str
    op_kind: str


class RiskEvent(_Data):
    """An open order's SLA risk changed (raised, cleared) or it will miss its promise (delayed)."""

    order_id: str
    location: str | None
    level: str
    reason: str
    assessed_at: str


class DeviceEvent(_Data):
    """A device went offline (not seen for a while) or came back online."""

    device_id: str
    location: str
    online: bool
    unsent_ops: int
    last_seen_at: str | None
    at: str


class AnomalyEvent(_Data):
    """The hub found an anomaly (raised, with its evidence) or no longer finds it (cleared)."""

    key: str
    kind: str
    location: str | None
    subject: str
    evidence: str
    numbers: dict[str, Any]
    at: str


# Order statuses and the event type each change to it publishes.
ORDER_STATUS_TYPES = {
    "released": "backroom.order.routed", "awaiting_stock": "backroom.order.awaiting_stock",
    "picking": "backroom.order.picking", "picked": "backroom.order.picked", "short": "backroom.order.short",
    "packing": "backroom.order.packing", "packed": "backroom.order.packed", "shipped": "backroom.order.shipped",
    "handed_over": "backroom.order.handed_over", "partly_handed_over": "backroom.order.partly_handed_over",
    "refused": "backroom.order.refused", "cancelled": "backroom.order.cancelled", "expired": "backroom.order.expired",
}

# Op kinds whose events are the specific ones above (hub.events.outbox), not `backroom.<kind>`.
SPECIFIC_KINDS = frozenset({
    "order.accepted", "order.cancelled", "pickup.expired", "reservation.requested", "shipment.handed_to_carrier",
    "pickup.handed_over", "pick.confirmed", "pick.shorted", "stock.received", "stock.moved", "count.recorded",
    "return.received", "order.risk_assessed", "device.status_set",
}) | frozenset({
    # anomalies
    "anomaly.raised", "anomaly.cleared",
})

# Payload fields never published.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {"operator.upserted": ("pin_hash", "salt")}
# carriers: a rate table can be megabytes (past a NATS message's limit); its event says a
# version was loaded (the note), and GET /v1/admin/carriers/rates has the table
SECRET_FIELDS["carriers.rates_set"] = ("table",)


def order_type(status: str) -> str:
    return ORDER_STATUS_TYPES.get(status, f"backroom.order.{status}")


def generic_type(kind: str) -> str:
    return f"backroom.{kind}"


def event_models() -> dict[str, type[BaseModel]]:
    """Every event type → the model of its data."""
    models: dict[str, type[BaseModel]] = {"backroom.order.accepted": OrderEvent}
    models.update({t: OrderEvent for t in ORDER_STATUS_TYPES.values()})
    models.update({
        "backroom.pickup.ready": PickupReady, "backroom.stock.changed": StockChanged,
        "backroom.stock.counted": StockCounted, "backroom.pick.shorted": PickShorted,
        "backroom.return.received": ReturnReceived, "backroom.task.recorded": TaskRecorded,
        "backroom.conflict.recorded": ConflictRecorded, "backroom.risk.raised": RiskEvent,
        "backroom.risk.cleared": RiskEvent, "backroom.order.delayed": RiskEvent,
        "backroom.device.offline": DeviceEvent, "backroom.device.online": DeviceEvent,
    })
    models.update({"backroom.anomaly.raised": AnomalyEvent, "backroom.anomaly.cleared": AnomalyEvent})  # anomalies
    for kind in sorted(HANDLERS):
        if kind not in SPECIFIC_KINDS:
            models[generic_type(kind)] = _generic_model(kind)
    return models


def _generic_model(kind: str) -> type[BaseModel]:
    payload = _payload_model(kind)
    hidden = SECRET_FIELDS.get(kind, ())
    if hidden:
        fields = {n: (f.annotation, f) for n, f in payload.model_fields.items() if n not in hidden}
        payload = create_model(payload.__name__ + "Public", __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload]
    name = "".join(part.capitalize() for part in kind.replace("_", ".").split(".")) + "Event"
    return create_model(name, __config__=ConfigDict(extra="forbid"), location=(str | None, ...), payload=(payload, ...))


def _payload_model(kind: str) -> type[BaseModel]:
    if kind in KINDS:
        return KINDS[kind].payload
    parse = HANDLERS[kind].parse  # a hub command: hub.handlers.hub_payload(model)
    model = inspect.getclosurevars(parse).nonlocals.get("model") if parse else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise LookupError(f"no payload model for {kind}")
    return model
