"""Applying a pulled page in bulk ends in the same replica state as applying its
changes one by one, in order: repeated keys, deletions and every entity included."""

from __future__ import annotations

import random

import pytest

from edge_app.local.hub_state import apply_change, apply_changes
from edge_app.local.replica import Replica
from sync.models import Change

_TABLES = ("items", "barcodes", "bins", "orders", "order_lines", "stock", "tasks", "allotments", "operators")


def _data(rnd: random.Random, entity: str, key: str):
    if rnd.random() < 0.15 and entity != "stock":
        return None
    n = rnd.randint(0, 9)
    if entity == "item":
        return {"sku": key, "name": f"item {n}", "unit_weight_g": n, "barcodes": [f"{key}-{b}" for b in range(n % 3)]}
    if entity == "bin":
        return {"code": key, "seq": n}
    if entity == "stock":
        return {"location": "S", "bin": key.split("|")[0], "sku": key.split("|")[1], "on_hand": n}
    if entity == "order":
        return {"id": key, "number": key, "channel": "web", "fulfilment": "ship", "promised_by": "t",
                "customer_name": "c", "location": "S", "status": "released", "created_at": "t",
                "lines": [{"line_no": i, "sku": f"k{i}", "qty": n + 1, "pick_bin": "b", "qty_picked": 0, "qty_short": 0}
                          for i in range(1, n % 4 + 2)]}
    return {"id": int(key), "kind": "put_back", "for_role": "picker", "sentence": f"task {n}", "details": {}, "status": "open"}


def _page(seed: int) -> list[Change]:
    rnd = random.Random(seed)
    keys = {"item": ["k1", "k2", "k3"], "bin": ["b1", "b2"], "stock": ["b1|k1", "b2|k1", "b1|k2"], "order": ["o1", "o2"],
            "task": ["1", "2"]}
    changes = []
    for seq in range(1, 60):
        entity = rnd.choice(list(keys))
        key = rnd.choice(keys[entity])
        changes.append(Change(seq=seq, entity=entity, key=key, data=_data(rnd, entity, key)))
    return changes


def _dump(replica: Replica) -> dict[str, list]:
    return {t: sorted(tuple(r) for r in replica.query(f"SELECT * FROM {t}")) for t in _TABLES}


@pytest.mark.parametrize("seed", range(8))
def test_a_page_applied_in_bulk_equals_its_changes_applied_one_by_one(tmp_path, seed):
    one_by_one, bulk = Replica(tmp_path / "a"), Replica(tmp_path / "b")
    changes = _page(seed)
    with one_by_one.transaction() as conn:
        for change in changes:
            apply_change(conn, change)
    with bulk.transaction() as conn:
        apply_changes(conn, changes)
    assert _dump(bulk) == _dump(one_by_one)
