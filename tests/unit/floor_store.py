"""A small store in a device replica, for the floor workflows' unit tests: three
items, three bins, operators with PINs, and orders in whatever status a test needs."""

from __future__ import annotations

from edge_app.local.hub_state import apply_change
from edge_app.local.replica import Replica
from hub.commands import OperatorUpserted, operator_payload
from hub.domain.operators import device_view
from sync.models import Change

MILK, COFFEE, SOAP, CHOC = "4006381333931", "4006381333955", "4006381334013", "4006381334044"
ITEMS = [("MILK-1L", "Whole milk 1 L", MILK, 1030), ("COFFEE-250", "Ground coffee", COFFEE, 260),
         ("SOAP-BAR", "Soap bar", SOAP, 110), ("CHOC-DARK", "Dark chocolate", CHOC, 105)]
BINS = [("A-01-1", 11), ("A-02-1", 21), ("A-03-1", 31)]
BIN_OF = {"MILK-1L": "A-01-1", "COFFEE-250": "A-02-1", "SOAP-BAR": "A-03-1", "CHOC-DARK": "A-03-1"}
OPERATORS = [("P1", "Pat", "picker", "1111"), ("K1", "Kim", "packer", "2222"), ("S1", "Sam", "supervisor", "999999")]

_seq = iter(range(1, 10**6))


def put(replica: Replica, entity: str, key: str, data: dict | None) -> None:
    with replica.transaction() as conn:
        apply_change(conn, Change(seq=next(_seq), entity=entity, key=key, data=data))


def store(path) -> Replica:
    r = Replica(path)
    r.set_meta("device_id", "dev-1")
    r.set_meta("location", "S1")
    for sku, name, code, weight in ITEMS:
        put(r, "item", sku, {"sku": sku, "name": name, "unit_weight_g": weight, "barcodes": [code]})
    for code, seq in BINS:
        put(r, "bin", code, {"code": code, "seq": seq})
    for sku, bin_code in BIN_OF.items():
        put(r, "stock", f"{bin_code}|{sku}", {"location": "S1", "bin": bin_code, "sku": sku, "on_hand": 20})
    for operator_id, name, role, pin in OPERATORS:
        data = operator_payload(operator_id, name, role, "S1", pin)
        put(r, "operator", operator_id, device_view(OperatorUpserted.model_validate(data)))  # as the hub sends it
    return r


def order(replica: Replica, order_id: str, number: str, lines: list[tuple[str, int]], status: str = "released",
          fulfilment: str = "ship", picked: bool = False, tote: str | None = None) -> None:
    put(replica, "order", order_id, {
        "id": order_id, "number": number, "channel": "web", "fulfilment": fulfilment,
        "promised_by": f"2026-11-24T1{len(number) % 10}:00:00+00:00", "customer_name": f"Customer {number}",
        "location": "S1", "status": status, "created_at": "2026-11-24T06:00:00+00:00", "staging": None, "tote": tote,
        "lines": [{"line_no": i, "sku": sku, "qty": qty, "pick_bin": BIN_OF[sku], "qty_picked": qty if picked else 0,
                   "qty_short": 0, "short_reason": None, "qty_packed": 0} for i, (sku, qty) in enumerate(lines, start=1)],
    })


def ops(replica: Replica, kind: str | None = None) -> list:
    import json

    rows = replica.query("SELECT kind, payload, actor FROM outbox ORDER BY device_seq")
    return [(r["kind"], json.loads(r["payload"]), r["actor"]) for r in rows if kind in (None, r["kind"])]
