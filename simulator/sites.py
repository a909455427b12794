"""The network a schedule routes across: the demo store and dark store (where the
devices work) plus a warehouse and a second store that routing may choose, each with
a profile (coordinates, a daily capacity), a little stock, and the routing policies a
schedule switches between. Customers live near one of the stores."""

from __future__ import annotations

from hub.domain.routing_policy import DEFAULT_POLICY, Filters, Rule, RoutingPolicy, Split
from hub.log import run_hub_command
from hub.seed import DARK_STORE, DEMO_LOCATION
from hub.store.tx import Tx

__all__ = ["WAREHOUSE", "SECOND_STORE", "SITES", "NETWORK_ITEMS", "CUSTOMERS", "POLICIES", "add_sites"]

WAREHOUSE = "SIM-WH"
SECOND_STORE = "SIM-ST2"

# code → (name, kind, lat, lon, daily capacity): a small capacity fills within a schedule,
# so the capacity filter decides too.
SITES = {
    DEMO_LOCATION: ("Demo store", "store", 52.373, 4.892, None),
    DARK_STORE: ("Demo dark store", "dark_store", 52.360, 4.905, None),
    WAREHOUSE: ("Sim warehouse", "warehouse", 51.924, 4.478, 12),
    SECOND_STORE: ("Sim second store", "store", 52.090, 5.121, 6),
}

# Items only the warehouse or the second store stocks: an order with one of them and a
# store item ships from two places (a split), or parks when they run out.
NETWORK_ITEMS = {"SIM-CRATE": ("Storage crate (warehouse only)", 2400), "SIM-GIFT": ("Gift box (second store only)", 350)}

# What the two new locations hold (sku, qty): scarce on purpose, so orders park and wait.
_STOCK = {
    WAREHOUSE: [("SIM-CRATE", 6), ("OATS-500", 6), ("PASTA-FUS", 5), ("OLIVE-OIL", 4), ("RICE-BAS", 4), ("MILK-1L", 3)],
    SECOND_STORE: [("SIM-GIFT", 4), ("SOAP-BAR", 3), ("BAT-AA-4", 3), ("TEA-GRN-20", 2), ("CHOC-DARK", 2), ("COFFEE-250", 2)],
}

# Ship-to coordinates: near the demo store (Amsterdam) and near the second store (Utrecht).
CUSTOMERS = [("1011 AB", 52.370, 4.900), ("1017 CD", 52.362, 4.883), ("3511 EF", 52.091, 5.118)]

# Policies a schedule switches to (a `routing.policy_set` step); the default is version 0.
POLICIES = {
    "no-splits": RoutingPolicy(rules=[
        Rule(name="quick-any", fulfilment=["quick"], kinds=["dark_store", "store"], sorts=["distance"]),
        Rule(name="pickup-store", fulfilment=["pickup"], kinds=["store"], sorts=["distance"]),
        Rule(name="ship-nearest", fulfilment=["ship"], kinds=["store", "warehouse", "dark_store"],
             filters=Filters(capacity=True, keep_units=1), sorts=["distance", "workload"]),
    ]),
    "split-three": RoutingPolicy(rules=[
        Rule(name="quick-nearby", fulfilment=["quick"], kinds=["dark_store", "store"],
             filters=Filters(max_distance_km=15), sorts=["kind", "distance"]),
        Rule(name="pickup-store", fulfilment=["pickup"], kinds=["store"], sorts=["rank", "distance"]),
        Rule(name="ship-balanced", fulfilment=["ship"], kinds=["warehouse", "store"], sorts=["stock_balance"],
             split=Split(allow=True, max_shipments=3)),
    ]),
    "default": DEFAULT_POLICY,
}


def add_sites(conn: Tx) -> None:
    """Profile the demo locations and add the warehouse and second store with their stock."""
    for sku, (name, weight) in NETWORK_ITEMS.items():
        run_hub_command(conn, "catalogue.item_upserted", {"sku": sku, "name": name, "unit_weight_g": weight, "barcodes": []})
    for code, (name, kind, lat, lon, capacity) in SITES.items():
        if code in _STOCK:
            run_hub_command(conn, "location.added", {"code": code, "name": name, "kind": kind})
            for i, (sku, qty) in enumerate(_STOCK[code], start=1):
                run_hub_command(conn, "bin.added", {"location": code, "code": f"{code}-B{i}", "seq": i})
                run_hub_command(conn, "stock.received", {"location": code, "bin": f"{code}-B{i}", "sku": sku, "qty": qty})
        run_hub_command(conn, "location.profile_set", {"code": code, "lat": lat, "lon": lon, "daily_capacity": capacity})
