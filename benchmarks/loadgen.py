"""Load generator for the hub figures, run in its own process:
`python -m benchmarks.loadgen push|pull SPEC.json` prints one JSON line.

push: every simulated device pushes its pre-built batches in device order, one
request in flight per device, at most `concurrency` requests in flight in all,
until the ops run out or `seconds` pass. Latency is measured from send to answer
(waiting for a free slot is not counted). pull: one device reads the whole feed
page by page, as a bootstrapping device does, without applying it.

The push side speaks HTTP/1.1 over plain asyncio streams, one keep-alive
connection per slot: with httpx the generator used more CPU than the hub it
measured (0.86 of a core at 110 requests/s), and on a 2-core machine every cycle
it burns is taken from the hub."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from urllib.parse import urlsplit

import httpx

RETRY_PAUSE_S = 0.05


class _Device:
    __slots__ = ("requests", "next")

    def __init__(self, requests: list[bytes]):
        self.requests = requests
        self.next = 0


def _requests(host: str, token: str, batches: list[list[dict]]) -> list[bytes]:
    out = []
    for batch in batches:
        body = json.dumps({"ops": batch}).encode()
        head = (f"POST /v1/ops HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        out.append(head.encode() + body)
    return out


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "transfer-encoding":
            raise ValueError("chunked answers are not expected from /v1/ops")
    if length is None:
        raise ValueError("answer without Content-Length")
    return status, await reader.readexactly(length)


class _Slot:
    """One keep-alive connection, sending the next ready device's next batch."""

    def __init__(self, host: str, port: int, ready: deque, out: dict, deadline: float):
        self.host, self.port = host, port
        self.ready, self.out, self.deadline = ready, out, deadline
        self.reader = self.writer = None

    async def run(self) -> None:
        while self.ready and time.perf_counter() < self.deadline:
            device = self.ready.popleft()
            if await self._send(device.requests[device.next]):
                device.next += 1
            else:
                await asyncio.sleep(RETRY_PAUSE_S)  # a failed push is sent again, as a device would
            if device.next < len(device.requests):
                self.ready.append(device)
        if self.writer is not None:
            self.writer.close()

    async def _send(self, request: bytes) -> bool:
        out = self.out
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            started = time.perf_counter()
            self.writer.write(request)
            status, body = await _read_response(self.reader)
            out["latency"].append(time.perf_counter() - started)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            out["errors"] += 1
            out["last_error"] = f"{exc.__class__.__name__}: {exc}"
            if self.writer is not None:
                self.writer.close()
            self.reader = self.writer = None
            return False
        if status != 200:
            out["errors"] += 1
            out["last_error"] = f"{status} {body[:200]!r}"
            return False
        for result in json.loads(body)["results"]:
            out[result["status"]] = out.get(result["status"], 0) + 1
        return True


async def push(spec: dict) -> dict:
    url = urlsplit(spec["url"])
    host = f"{url.hostname}:{url.port}"
    ready = deque(_Device(_requests(host, d["token"], d["batches"])) for d in spec["devices"] if d["batches"])
    out: dict = {"latency": [], "errors": 0}
    # A device is never in two slots at once: it goes back to the queue only once answered.
    slots = min(spec["concurrency"], len(ready))
    started = time.perf_counter()
    deadline = started + spec["seconds"]
    await asyncio.gather(*(_Slot(url.hostname, url.port, ready, out, deadline).run() for _ in range(slots)))
    out["seconds"] = time.perf_counter() - started
    return out


async def pull(spec: dict) -> dict:
    headers = {"Authorization": f"Bearer {spec['token']}"}
    changes, pages, since = 0, 0, 0
    async with httpx.AsyncClient(base_url=spec["url"], headers=headers, timeout=60.0) as client:
        started = time.perf_counter()
        while True:
            response = await client.get("/v1/changes", params={"since": since, "limit": spec["page"]})
            page = json.loads(response.content)
            changes += len(page["changes"])
            pages += 1
            since = page["cursor"]
            if not page["more"]:
                break
        return {"changes": changes, "pages": pages, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        spec = json.load(f)
    result = asyncio.run(push(spec) if mode == "push" else pull(spec))
    print(json.dumps(result))
