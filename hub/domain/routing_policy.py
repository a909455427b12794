"""The routing policy as data: ordered rules per fulfilment type, each with filters
(which locations may take the order), sorts (which of them is best) and split
settings, and what happens when no rule finds a location. Set by the logged hub
command `routing.policy_set`; each set is a new version. Pure: no I/O."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Filters", "Split", "Rule", "RoutingPolicy", "DEFAULT_POLICY", "SORTS", "FULFILMENTS"]

FULFILMENTS = ("ship", "pickup", "quick")
SORTS = ("kind", "distance", "stock_balance", "workload", "rank", "shipping_cost")
Kind = Literal["store", "warehouse", "dark_store"]
# shipping_cost: the carrier price of the order's weight from the location to the
# customer, by the rate table in force (sync.carriers.choose); ship orders with an address
Sort = Literal["kind", "distance", "stock_balance", "workload", "rank", "shipping_cost"]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Filters(_Strict):
    """Which locations may take an order. A filter left at its default lets everyone by."""

    open_now: bool = False  # open at routing time by its hours (locations without hours are always open)
    capacity: bool = False  # fewer orders routed to it today than its daily capacity
    max_distance_km: float | None = Field(default=None, gt=0, le=20_000)  # needs both coordinates
    synced_within_min: int | None = Field(default=None, ge=1, le=10_080)  # a device of it synced that recently
    keep_units: int = Field(default=0, ge=0, le=1_000_000)  # units per SKU kept back beyond the location's safety stock
    keep_by_channel: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict, max_length=100)  # the same, per sales channel (overrides keep_units)


class Split(_Strict):
    """Whether an order may ship from several locations when none holds every line, and
    whether the lines a channel grouped stay together."""

    allow: bool = False
    max_shipments: int = Field(default=2, ge=2, le=10)
    # lines the channel labelled to ship together (`lines[].ship_with`) go from one location,
    # in a split and in a partial shipment alike; off: each line on its own, as before groups
    keep_groups: bool = True


def _kind_first() -> list[Sort]:
    return ["kind"]


WhenNone = Literal["park", "cancel", "partial"]


def _park_all() -> dict[Literal["ship", "pickup", "quick"], WhenNone]:
    return {"ship": "park", "pickup": "park", "quick": "park"}


class Rule(_Strict):
    """One step of the policy: tried in order for the fulfilment types it names."""

    name: Name
    fulfilment: list[Literal["ship", "pickup", "quick"]] = Field(min_length=1, max_length=3)
    kinds: list[Kind] = Field(min_length=1, max_length=3)  # location kinds allowed, best first (the `kind` sort)
    filters: Filters = Filters()
    sorts: list[Sort] = Field(default_factory=_kind_first, max_length=5)
    split: Split = Split()


class RoutingPolicy(_Strict):
    """Rules tried in order; `when_none` per fulfilment, when no rule takes the whole
    order: park it awaiting stock, cancel it, or `partial` (send the lines some location
    can fill now, and park the rest as a linked backorder). A parked order still unrouted
    `cancel_parked_after_h` hours past its promise is cancelled by the next rebroker pass."""

    rules: list[Rule] = Field(min_length=1, max_length=50)
    when_none: dict[Literal["ship", "pickup", "quick"], WhenNone] = Field(default_factory=_park_all)
    cancel_parked_after_h: int | None = Field(default=None, ge=0, le=8_760)

    @model_validator(mode="after")
    def _every_fulfilment_has_a_rule(self) -> "RoutingPolicy":
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rules: each rule needs its own name")
        missing = [f for f in FULFILMENTS if not any(f in r.fulfilment for r in self.rules)]
        if missing:
            raise ValueError(f"rules: no rule routes {', '.join(missing)} orders")
        return self


# Routes well with no configuration: quick orders to the nearest open dark store or
# store, pickups to the store the customer chose, shipments from a warehouse first and
# from two locations when no one holds everything. Locations without coordinates or
# hours pass the filters that need them, so a bare network routes by kind, then code.
DEFAULT_POLICY = RoutingPolicy(rules=[
    Rule(name="quick-nearby", fulfilment=["quick"], kinds=["dark_store", "store"],
         filters=Filters(open_now=True, capacity=True, max_distance_km=15), sorts=["kind", "distance", "workload"]),
    Rule(name="pickup-at-store", fulfilment=["pickup"], kinds=["store"], sorts=["distance"]),
    Rule(name="ship-warehouse-first", fulfilment=["ship"], kinds=["warehouse", "store", "dark_store"],
         filters=Filters(capacity=True), sorts=["kind", "distance", "stock_balance"],
         split=Split(allow=True, max_shipments=2)),
])
