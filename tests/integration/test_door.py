"""Limits at the door (issue 17, finding 7): a body's size and the caller's token are
checked before a byte of the body is read, and a client that keeps failing to
authenticate or enrol is told to wait (429, Retry-After). And the hub's OpenAPI
document and its /docs pages, which need no internet."""

from __future__ import annotations

import re

import httpx
import pytest

from hub.api.docs import ERROR_ANSWERS
from tests.integration.conftest import HUB_URL

pytestmark = pytest.mark.anyio


async def call_raw(app, path: str, headers: dict[str, str], client=("10.1.2.3", 5000)) -> tuple[int, dict, int]:
    """Call the app as a server would; returns (status, headers, how many times the body was read)."""
    reads, answer = 0, {}

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "https",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "client": client,
             "server": ("hub.test", 443), "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    await app(scope, receive, send)
    return answer["status"], answer["headers"], reads


async def test_a_huge_or_unauthenticated_body_is_refused_before_it_is_read(hub, tmp_path):
    device = await hub.device(tmp_path / "d")
    token = {"authorization": f"Bearer {device.replica.get_meta('token')}"}
    huge = {"content-length": str(40 * 1024 * 1024), "content-type": "application/json"}
    status, _h, reads = await call_raw(hub.app, "/v1/ops", huge)
    assert (status, reads) == (413, 0)
    status, _h, reads = await call_raw(hub.app, "/v1/orders", {"content-length": str(2 * 1024 * 1024), **token})
    assert (status, reads) == (413, 0)
    status, headers, reads = await call_raw(hub.app, "/v1/ops", {"content-length": "2", "authorization": "Bearer forged"})
    assert (status, reads, headers.get("www-authenticate")) == (401, 0, "Bearer")
    status, _h, reads = await call_raw(hub.app, "/v1/ops", {"content-length": "2", **token})
    assert status == 422 and reads == 1  # a known device's body is read, and found wanting


async def test_repeated_failed_authentication_or_enrolment_gets_429_with_retry_after(hub):
    bad = httpx.AsyncClient(base_url=HUB_URL, transport=httpx.ASGITransport(app=hub.app, client=("10.9.9.9", 1)),
                            headers={"Authorization": "Bearer guess"})
    other = httpx.AsyncClient(base_url=HUB_URL, transport=httpx.ASGITransport(app=hub.app, client=("10.8.8.8", 1)),
                              headers={"Authorization": f"Bearer {hub.admin_token}"})
    async with bad, other:
        tries = [(await bad.get("/v1/orders")).status_code for _ in range(10)]
        stopped = await bad.get("/v1/orders")
        codes = [(await other.post("/v1/devices/enroll", json={"code": f"NOPE-{n:04d}"})).status_code for n in range(10)]
        enrol_stopped = await other.post("/v1/devices/enroll", json={"code": hub.code()})
    assert tries == [401] * 10 and codes == [401] * 10
    assert stopped.status_code == 429 and 1 <= int(stopped.headers["retry-after"]) <= 60
    assert enrol_stopped.status_code == 429  # even a good code waits: the client guessed too often


async def test_openapi_declares_the_bearer_scheme_and_every_error_answer(hub):
    async with hub.admin() as admin:
        schema = (await admin.get("/openapi.json")).json()
        refused = await admin.post("/v1/orders", json={"number": ""})
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": schema["components"]["securitySchemes"]["bearer"]["description"]}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                assert set(ERROR_ANSWERS) - {"403"} <= set(operation["responses"]), (method, path)
                assert (operation.get("security") == [{"bearer": []}]) == (path != "/v1/devices/enroll"), (method, path)
    body = refused.json()
    assert refused.status_code == 422 and isinstance(body["detail"], str) and isinstance(body["errors"], list)
    assert schema["paths"]["/v1/orders"]["post"]["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Refusal"}


async def test_the_docs_pages_load_everything_from_the_hub_itself(hub):
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport) as anyone:
        for page in ("/docs", "/redoc"):
            html = (await anyone.get(page)).text
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", html)
            found = [u for pair in urls for u in pair if u]
            assert found and all(u.startswith("/") for u in found), (page, found)  # nothing from a CDN
            for url in found:
                assert (await anyone.get(url)).status_code == 200, url
