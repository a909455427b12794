"""The demo store that `make demo` runs: a catalogue with real-looking EAN-13s,
bins along a pick path, received stock, and a few open orders."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

from hub.actions import accept_order
from hub.log import run_hub_command
from hub.store.db import Database
from hub.store.tx import Tx
from sync.models import OrderIn

__all__ = ["DEMO_LOCATION", "DARK_STORE", "DARK_STORE_RANGE", "DEMO_ITEMS", "DEMO_OPERATORS", "seed_demo", "ean13"]

DEMO_LOCATION = "DEMO-1"

# (sku, name, unit weight g, ean-13 body without check digit)
DEMO_ITEMS = [
    ("MILK-1L", "Whole milk 1 L", 1030, "400638133393"),
    ("OATS-500", "Rolled oats 500 g", 510, "400638133394"),
    ("COFFEE-250", "Ground coffee 250 g", 260, "400638133395"),
    ("TEA-GRN-20", "Green tea, 20 bags", 45, "400638133396"),
    ("PASTA-FUS", "Fusilli 500 g", 505, "400638133397"),
    ("TOM-CAN", "Chopped tomatoes 400 g", 420, "400638133398"),
    ("OLIVE-OIL", "Olive oil 750 ml", 820, "400638133399"),
    ("RICE-BAS", "Basmati rice 1 kg", 1010, "400638133400"),
    ("SOAP-BAR", "Hand soap bar", 110, "400638133401"),
    ("BAT-AA-4", "AA batteries, 4-pack", 96, "400638133402"),
    ("TOWEL-PPR", "Paper towels, 2 rolls", 300, "400638133403"),
    ("CHOC-DARK", "Dark chocolate 100 g", 105, "400638133404"),
    ("PASTA-PEN", "Penne 500 g", 505, "400638133405"),
]

# What substitution compares (sku → category, size, unit, price in cents): Penne may
# stand in for Fusilli (same category and size, price within 20 %), and W-1002's
# Fusilli line allows a substitute, so the demo shows substitution at pick.
DEMO_FACTS = {
    "MILK-1L": ("dairy", 1, "l", 119), "OATS-500": ("cereals", 500, "g", 149), "COFFEE-250": ("coffee", 250, "g", 549),
    "TEA-GRN-20": ("tea", 20, "bags", 229), "PASTA-FUS": ("pasta", 500, "g", 129), "TOM-CAN": ("canned", 400, "g", 89),
    "OLIVE-OIL": ("oil", 750, "ml", 899), "RICE-BAS": ("rice", 1000, "g", 299), "SOAP-BAR": ("household", 1, "pc", 149),
    "BAT-AA-4": ("household", 4, "pc", 499), "TOWEL-PPR": ("household", 2, "rolls", 259),
    "CHOC-DARK": ("sweets", 100, "g", 179), "PASTA-PEN": ("pasta", 500, "g", 139),
}

DARK_STORE = "DEMO-DS"
# (sku, units on hand at the dark store, escrow floor per terminal)
DARK_STORE_RANGE = [("MILK-1L", 12, 5), ("CHOC-DARK", 10, 4), ("COFFEE-250", 6, 2)]

# (operator id, name, role, PIN): demo badges are BADGE:<id>
DEMO_OPERATORS = [
    ("P1", "Pat Picker", "picker", "1111"),
    ("K1", "Kim Packer", "packer", "2222"),
    ("A1", "Alex Associate", "associate", "3333"),
    ("S1", "Sam Supervisor", "supervisor", "999999"),
]

# (bin code, pick-path seq)
DEMO_BINS = [(f"A-{aisle:02d}-{level}", aisle * 10 + level) for aisle in (1, 2, 3) for level in (1, 2)]


def ean13(body: str) -> str:
    """Append the EAN-13 check digit to a 12-digit body."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def seed_demo(db: Database, now: datetime | None = None) -> dict[str, int]:
    """Load the demo store once; a second call changes nothing. Returns counts."""
    now = now or datetime.now(timezone.utc)
    with db.write() as conn:
        if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": DEMO_LOCATION}).first():
            return {"items": 0, "bins": 0, "orders": 0}
        _seed_catalogue(conn)
        _seed_locations(conn)
        _seed_stock(conn)
        _seed_operators(conn)
        _seed_carriers(conn)
        orders = _seed_orders(conn, now)
    return {"items": len(DEMO_ITEMS), "bins": len(DEMO_BINS), "orders": orders}


def _seed_catalogue(conn: Tx) -> None:
    for sku, name, weight, body in DEMO_ITEMS:
        category, size_qty, size_unit, price = DEMO_FACTS[sku]
        run_hub_command(conn, "catalogue.item_upserted", {
            "sku": sku, "name": name, "unit_weight_g": weight, "barcodes": [ean13(body)], "category": category,
            "size_qty": size_qty, "size_unit": size_unit, "price_cents": price})


def _seed_locations(conn: Tx) -> None:
    run_hub_command(conn, "location.added", {"code": DEMO_LOCATION, "name": "Demo store", "kind": "store"})
    run_hub_command(conn, "location.added", {"code": DARK_STORE, "name": "Demo dark store", "kind": "dark_store"})
    for code, seq in DEMO_BINS:
        run_hub_command(conn, "bin.added", {"location": DEMO_LOCATION, "code": code, "seq": seq})


def _seed_stock(conn: Tx) -> None:
    for i, (sku, *_rest) in enumerate(DEMO_ITEMS):
        bin_code = DEMO_BINS[i % len(DEMO_BINS)][0]
        run_hub_command(conn, "stock.received", {"location": DEMO_LOCATION, "bin": bin_code, "sku": sku, "qty": 20 + i})
    # The dark store sells a few fast movers; its terminals may sell them offline.
    for i, (sku, _ds_qty, _floor) in enumerate(DARK_STORE_RANGE):
        run_hub_command(conn, "bin.added", {"location": DARK_STORE, "code": f"DS-{i + 1:02d}", "seq": i + 1})
    for i, (sku, ds_qty, floor) in enumerate(DARK_STORE_RANGE):
        run_hub_command(conn, "stock.received", {"location": DARK_STORE, "bin": f"DS-{i + 1:02d}", "sku": sku, "qty": ds_qty})
        run_hub_command(conn, "stock.policy_set", {"location": DARK_STORE, "sku": sku, "safety_stock": 1, "escrow_floor": floor})


def _seed_operators(conn: Tx) -> None:
    for operator in DEMO_OPERATORS:
        run_hub_command(conn, "operator.upserted", dict(_demo_operator(*operator)))


@lru_cache(maxsize=None)
def _demo_operator(operator_id: str, name: str, role: str, pin: str) -> tuple[tuple[str, str], ...]:
    # Hashing a PIN takes scrypt's ~50 ms on purpose; a process that seeds many demo
    # stores (the simulator, the tests) hashes each demo PIN once.
    from hub.commands import operator_payload

    return tuple(operator_payload(operator_id, name, role, DEMO_LOCATION, pin).items())


def _seed_carriers(conn: Tx) -> None:
    """A rate table, so ship orders get a carrier, service and tracking number with no set-up."""
    from hub.carrier_actions import load_rates
    from hub.carrier_demo import DEMO_RATES

    load_rates(conn, DEMO_RATES, "demo rate table", "seed", dry_run=False)


# carriers: where the demo's ship orders go and whom the carrier may call (order number → ship_to, contact)
DEMO_SHIP_TO = {
    "W-1002": ({"lines": ["Leopoldstrasse 12"], "postal_code": "80802", "country": "DE"}, {"phone": "+49 89 1234567"}),
    "M-2001": ({"lines": ["Torstrasse 101", "Hinterhaus, 3. OG"], "postal_code": "10119", "country": "DE"},
               {"phone": "+49 30 7654321", "email": "chen.wei@example.com"}),
}


SUBSTITUTES_ALLOWED = {("W-1002", "PASTA-FUS")}  # (order number, sku): the customer accepts a like-for-like item


def _seed_orders(conn: Tx, now: datetime) -> int:
    demo = [
        ("W-1001", "webshop", "pickup", "Ana Lopez", [("MILK-1L", 2), ("COFFEE-250", 1), ("CHOC-DARK", 3)]),
        ("W-1002", "webshop", "ship", "Ben Okafor", [("OLIVE-OIL", 1), ("PASTA-FUS", 2)]),
        ("M-2001", "marketplace", "ship", "Chen Wei", [("BAT-AA-4", 2), ("SOAP-BAR", 4), ("TEA-GRN-20", 1)]),
        ("Q-3001", "quickapp", "pickup", "Dana Noor", [("RICE-BAS", 1), ("TOM-CAN", 3)]),
    ]
    for number, channel, fulfilment, customer, lines in demo:
        order = OrderIn(
            number=number,
            channel=channel,
            fulfilment=fulfilment,
            promised_by=now + timedelta(hours=4),
            customer_name=customer,
            location=DEMO_LOCATION,
            lines=[{"sku": s, "qty": q, "substitutes_allowed": (number, s) in SUBSTITUTES_ALLOWED} for s, q in lines],
            ship_to=DEMO_SHIP_TO[number][0] if number in DEMO_SHIP_TO else None,
            contact=DEMO_SHIP_TO[number][1] if number in DEMO_SHIP_TO else None,
        )
        accept_order(conn, order, now.isoformat())
    return len(demo)
