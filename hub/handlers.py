"""The handler table: every op kind the hub applies → its handler, how its payload
is parsed, and what the handler needs loaded. One screen, no registration by
import: adding a kind means adding a row here (and its payload model: device
kinds in sync.kinds, hub commands in hub.commands), and who may send it in
sync.authority (the hub refuses a kind that has no rule there).

- `parse`: hub commands parse with their model here; device kinds parse through
  `sync.kinds.parse_payload`, which also upcasts older schema versions.
- `held`: the handler works on state held in the transaction (hub.domain.pick_state);
  before any other kind runs, what is held is written back to its tables.
- `prefetch(tx, payloads)`: what the handler will read, loaded in bulk for a whole
  group commit from the group's raw (not yet validated) payloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from hub import commands
from hub.domain import (
    brokering,
    catalogue,
    escrow,
    exceptions,
    operators,
    orders,
    packing,
    picking,
    pickups,
    receiving,
    returns,
    stock,
    tasks,
)
from hub.domain import network  # set-up
from hub.domain import risk  # events and foresight
from hub.domain import substitution  # substitution at pick
from hub.domain import device_swap  # sync: a swapped handheld
from hub.domain import anomalies  # anomalies
from hub.domain import carriers  # carriers
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.errors import MalformedPayload
from sync.models import Op

__all__ = ["Handler", "HANDLERS", "hub_payload"]

Apply = Callable[[Tx, Context, Op, Any], Outcome]


def hub_payload(model: type[BaseModel]) -> Callable[[dict[str, Any]], Any]:
    """A payload parser for a hub command; bad payloads raise MalformedPayload."""

    def parse(payload: dict[str, Any]) -> Any:
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise MalformedPayload(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from exc

    return parse


@dataclass(frozen=True)
class Handler:
    apply: Apply
    parse: Callable[[dict[str, Any]], Any] | None = None  # None: a device kind (sync.kinds)
    held: bool = False
    prefetch: Callable[[Tx, list[dict[str, Any]]], None] | None = None


def _hub(apply: Apply, model: type[BaseModel]) -> Handler:
    return Handler(apply, hub_payload(model))


HANDLERS: dict[str, Handler] = {
    # -- device ops: facts and requests from the floor --------------------------------
    "pick.confirmed": Handler(picking.pick_confirmed, held=True, prefetch=picking.hold_picked_orders),
    "pick.shorted": Handler(picking.pick_shorted),
    "pick.claimed": Handler(picking.pick_claimed),
    "pick.released": Handler(picking.pick_released),
    "pack.carton_closed": Handler(packing.carton_closed),
    "shipment.handed_to_carrier": Handler(packing.handed_to_carrier),
    "pickup.handed_over": Handler(pickups.pickup_handed_over),
    "pickup.extended": Handler(pickups.pickup_extended),
    "order.staging_set": Handler(pickups.staging_set),
    "return.received": Handler(returns.return_received),
    "refund.requested": Handler(returns.refund_requested),
    "count.recorded": Handler(stock.count_recorded),
    "stock.moved": Handler(stock.stock_moved),
    "task.done": Handler(tasks.task_done),
    "reservation.requested": Handler(escrow.reservation_requested),
    "allotment.released": Handler(escrow.allotment_released),
    # -- hub commands -------------------------------------------------------------------
    "catalogue.item_upserted": _hub(catalogue.item_upserted, commands.ItemUpserted),
    "location.added": _hub(catalogue.location_added, commands.LocationAdded),
    "bin.added": _hub(catalogue.bin_added, commands.BinAdded),
    "stock.received": _hub(stock.stock_received, commands.StockReceived),
    "stock.policy_set": _hub(escrow.policy_set, commands.PolicySet),
    "allotment.granted": _hub(escrow.allotment_granted, commands.AllotmentGranted),
    "allotment.reclaimed": _hub(escrow.allotment_reclaimed, commands.AllotmentReclaimed),
    "order.accepted": _hub(orders.order_accepted, commands.OrderAccepted),
    "order.cancelled": _hub(orders.order_cancelled, commands.OrderCancelled),
    "pickup.expired": _hub(pickups.pickup_expired, commands.PickupExpired),
    "operator.upserted": _hub(operators.operator_upserted, commands.OperatorUpserted),
    "task.assigned": _hub(exceptions.task_assigned, commands.TaskAssigned),
    "task.closed": _hub(exceptions.task_closed, commands.TaskClosed),
    "conflict.resolved": _hub(exceptions.conflict_resolved, commands.ConflictResolved),
    "op.reviewed": _hub(exceptions.op_reviewed, commands.OpReviewed),
    "operator.disabled": _hub(operators.operator_disabled, commands.OperatorDisabled),
    "operator.removed": _hub(operators.operator_removed, commands.OperatorRemoved),
    # -- set-up: locations changed, imports in batches, adjustments, transfers ----------
    "location.updated": _hub(network.location_updated, commands.LocationUpdated),
    "catalogue.items_imported": _hub(network.items_imported, commands.ItemsImported),
    "bins.imported": _hub(network.bins_imported, commands.BinsImported),
    "stock.adjusted": _hub(network.stock_adjusted, commands.StockAdjusted),
    "stock.snapshot_imported": _hub(network.stock_snapshot_imported, commands.StockSnapshotImported),
    "transfer.shipped": _hub(network.transfer_shipped, commands.TransferShipped),
    "transfer.received": _hub(network.transfer_received, commands.TransferReceived),
    # -- events and foresight -----------------------------------------------------------
    "order.risk_assessed": _hub(risk.risk_assessed, commands.RiskAssessed),
    "device.status_set": _hub(risk.device_status_set, commands.DeviceStatusSet),
    # -- receiving ------------------------------------------------------------------------
    "goods.received": Handler(receiving.goods_received),
}

# -- routing: its commands and floor op, and the ops after which parked orders are routed
# again (stock came in) or a remainder is routed (a short). Kept in one block, as rows.
HANDLERS.update({
    "order.rejected": Handler(brokering.order_rejected),
    "location.profile_set": _hub(brokering.location_profile_set, commands.LocationProfileSet),
    "routing.policy_set": _hub(brokering.policy_set, commands.RoutingPolicySet),
    "order.released": _hub(brokering.order_released, commands.OrderReleased),
    "order.reassigned": _hub(brokering.order_reassigned, commands.OrderReassigned),
    "routing.rebrokered": _hub(brokering.rebrokered, commands.OrdersRebrokered),
    "stock.received": _hub(brokering.rebrokering(stock.stock_received), commands.StockReceived),
    "count.recorded": Handler(brokering.rebrokering(stock.count_recorded)),
    "return.received": Handler(brokering.rebrokering(returns.return_received)),
    "pick.shorted": Handler(brokering.remainder_after_short(picking.pick_shorted)),
    "location.added": _hub(brokering.forgetting_sites(catalogue.location_added), commands.LocationAdded),
    "location.updated": _hub(brokering.forgetting_sites(network.location_updated), commands.LocationUpdated),
})

# -- substitution at pick: substitute rules as catalogue data, and a substitute picked for a line
HANDLERS.update({
    "catalogue.substitutes_set": _hub(substitution.substitutes_set, commands.SubstitutesSet),
    "pick.substituted": Handler(substitution.pick_substituted),
})

# -- sync: a swapped handheld's unfinished work handed over (hub.hand_over) ------------
HANDLERS.update({
    "device.work_handed_over": _hub(device_swap.work_handed_over, commands.WorkHandedOver),
})

# -- anomalies: raised and cleared by hub.insight.anomalies, the policy acting on them
HANDLERS.update({
    "anomaly.raised": _hub(anomalies.anomaly_raised, commands.AnomalyRaised),
    "anomaly.cleared": _hub(anomalies.anomaly_cleared, commands.AnomalyCleared),
    "anomaly.policy_set": _hub(anomalies.anomaly_policy_set, commands.AnomalyPolicySet),
})

# -- carriers: rate tables by version (the choice and tracking ride on pack.carton_closed)
HANDLERS.update({
    "carriers.rates_set": _hub(carriers.rates_set, commands.CarrierRatesSet),
})
