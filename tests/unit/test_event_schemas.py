"""The event schemas published under docs/events/ are what hub.events.types generates
(`backroom hub events schemas` rewrites them), and every type has one."""

from __future__ import annotations

import json
from pathlib import Path

from hub.events.schemas import schemas
from hub.events.types import event_models

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


def test_the_committed_event_schemas_match_the_models():
    wanted = schemas()
    committed = {p.name: json.loads(p.read_text()) for p in DOCS.glob("*.json")}
    assert sorted(committed) == sorted(wanted), "run: backroom hub events schemas"
    for name, schema in wanted.items():
        assert committed[name] == json.loads(json.dumps(schema)), f"{name} is stale: run backroom hub events schemas"


def test_what_customer_messaging_subscribes_to_is_published():
    assert {"backroom.pickup.ready", "backroom.order.delayed", "backroom.order.shipped"} <= set(event_models())
    index = json.loads((DOCS / "index.json").read_text())["events"]
    assert index["backroom.pickup.ready"]["schema"] == "backroom.pickup.ready.json"
