"""`hub serve` logs one JSON line per request: method, path, status, duration and
who called, named as the API names callers (never by the token)."""

from __future__ import annotations

import json
import logging

import pytest

pytestmark = pytest.mark.anyio


async def test_each_request_is_one_json_line_naming_the_caller_not_its_token(hub, tmp_path, caplog):
    from hub.api.request_log import configure_logging

    configure_logging("info")
    logging.getLogger("backroom").propagate = True  # let caplog see it
    device = await hub.device(tmp_path / "d")
    with caplog.at_level(logging.INFO, logger="backroom.requests"):
        await device.sync()
        async with hub.admin() as admin:
            await admin.get("/v1/orders")
            await admin.get("/v1/orders/nope")
    lines = [r for r in caplog.records if r.name == "backroom.requests"]
    seen = {(r.args["method"], r.args["path"].split("?")[0], r.args["status"]) for r in lines}
    assert ("POST", "/v1/devices/health", 204) in seen and ("GET", "/v1/orders/nope", 404) in seen
    callers = {r.args["caller"] for r in lines}
    assert any(c.startswith("device:") for c in callers) and any(c.startswith("admin:") for c in callers)
    assert hub.admin_token not in " ".join(json.dumps(r.args) for r in lines)
    assert all(r.args["ms"] >= 0 for r in lines)
