"""JSON Schemas of the events, generated from hub.events.types: one file per event type
(`<type>.json`: the CloudEvent with its `data`), the envelope alone (`cloudevent.json`)
and an index. `backroom hub events schemas` writes them to docs/events/; a test keeps
the committed files equal to what this module generates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.events.types import CloudEvent, event_models

__all__ = ["schemas", "write_schemas"]

_BASE = "https://backroom.example/schemas/events/"


def schemas() -> dict[str, dict[str, Any]]:
    """File name → schema, for every event type, the envelope and the index."""
    envelope = CloudEvent.model_json_schema()
    out: dict[str, dict[str, Any]] = {"cloudevent.json": {"$id": _BASE + "cloudevent.json", **envelope}}
    index = {}
    for event_type, model in sorted(event_models().items()):
        data = model.model_json_schema()
        defs = data.pop("$defs", {})
        schema = {**envelope, "$id": _BASE + f"{event_type}.json", "title": event_type,
                  "properties": {**envelope["properties"], "type": {"const": event_type, "type": "string"}, "data": data}}
        if defs:
            schema["$defs"] = defs
        out[f"{event_type}.json"] = schema
        index[event_type] = {"schema": f"{event_type}.json", "data": model.__name__,
                             "description": (model.__doc__ or "").strip().split("\n")[0]}
    out["index.json"] = {"$id": _BASE + "index.json", "events": index}
    return out


def write_schemas(folder: Path) -> list[str]:
    """Write every schema to `folder` (stale files of other names are removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = schemas()
    for old in folder.glob("*.json"):
        if old.name not in wanted:
            old.unlink()
    for name, schema in wanted.items():
        (folder / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return sorted(wanted)
