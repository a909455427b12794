"""Load generator for the hub figures, run in its own process:
`python -m benchmarks.loadgen push|pull SPEC.json` prints one JSON line.

push: every simulated device pushes its pre-built batches in device order, one
request in flight per device, until the ops run out or `seconds` pass: back to
back with at most `concurrency` requests in flight in all (saturation), or paced
so that all devices together offer `rate` ops/s (latency at that rate; `behind`
lists how late pushes went out when answers came slower than the pace). Before
the clock starts, every device connects and makes an empty push (a floor
mid-shift, not a connect storm). Latency is measured from send to answer;
`sent` says when each push went, in seconds from the start. pull: one device reads the whole feed page by
page, as a bootstrapping device does, without applying it.

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
# uvicorn closes a connection idle for 5 s; a device's HTTP client opens a new one
# rather than write into a closed one, and so does this (a paced device can idle 10 s).
IDLE_REOPEN_S = 4.0


class _Device:
    """A device's pushes, ready to send, and how many it has had answered."""

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


class _Connection:
    """One keep-alive connection: sends a push, counts the answers, times it."""

    def __init__(self, host: str, port: int, out: dict):
        self.host, self.port, self.out = host, port, out
        self.reader = self.writer = None
        self.last_answer = 0.0

    async def send(self, request: bytes) -> bool:
        out = self.out
        try:
            if self.writer is not None and time.perf_counter() - self.last_answer > IDLE_REOPEN_S:
                self.close()
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            started = time.perf_counter()
            self.writer.write(request)
            status, body = await _read_response(self.reader)
            self.last_answer = time.perf_counter()
            out["latency"].append(self.last_answer - started)
            out["sent"].append(started)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            out["errors"] += 1
            out["last_error"] = f"{exc.__class__.__name__}: {exc}"
            self.close()
            return False
        if status != 200:
            out["errors"] += 1
            out["last_error"] = f"{status} {body[:200]!r}"
            return False
        for result in json.loads(body)["results"]:
            out[result["status"]] = out.get(result["status"], 0) + 1
        return True

    async def send_until_answered(self, request: bytes, deadline: float) -> bool:
        # A failed push is sent again, as a device would: what the hub had applied comes back `duplicate`.
        while time.perf_counter() < deadline:
            if await self.send(request):
                return True
            await asyncio.sleep(RETRY_PAUSE_S)
        return False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _slot(connection: _Connection, ready: deque, deadline: float) -> None:
    """Back to back: the next ready device's next batch, as soon as the last is answered."""
    while ready and time.perf_counter() < deadline:
        device = ready.popleft()
        if not await connection.send_until_answered(device.requests[device.next], deadline):
            break
        device.next += 1
        if device.next < len(device.requests):
            ready.append(device)  # a device is never in two slots at once
    connection.close()


async def _paced(connection: _Connection, device: _Device, first: float, period: float, deadline: float,
                 out: dict) -> None:
    """A device pushing a batch every `period` seconds from `first` (devices start
    staggered); if an answer comes late, the next batch goes as soon as it comes
    (one push in flight per device)."""
    for k, request in enumerate(device.requests):
        due = first + k * period
        if due > deadline:
            break
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            out["behind"].append(-wait)
        if not await connection.send_until_answered(request, deadline):
            break
    connection.close()


async def _connect(connections: list[_Connection], empty_pushes: list[bytes]) -> None:
    """Before the clock starts, every connection is open and every device known to
    the hub (an empty push each, a few at a time), as on a floor mid-shift: the
    figures are for pushes, not for 500 devices connecting in the same second."""
    out = connections[0].out
    gate = asyncio.Semaphore(50)

    async def one(connection: _Connection, requests: list[bytes]) -> None:
        async with gate:
            for request in requests:  # one at a time: a connection has one push in flight
                await connection.send(request)

    await asyncio.gather(*(one(c, empty_pushes[n::len(connections)]) for n, c in enumerate(connections)))
    out["latency"].clear()
    out["sent"].clear()
    if out["errors"]:
        raise RuntimeError(f"{out['errors']} devices could not connect: {out.get('last_error')}")


async def push(spec: dict) -> dict:
    """Closed loop (`concurrency` pushes in flight) or, with `rate`, paced: every
    device pushes its batches evenly spread so that all of them offer `rate` ops/s."""
    url = urlsplit(spec["url"])
    host = f"{url.hostname}:{url.port}"
    with_batches = [d for d in spec["devices"] if d["batches"]]
    devices = [_Device(_requests(host, d["token"], d["batches"])) for d in with_batches]
    out: dict = {"latency": [], "sent": [], "behind": [], "errors": 0}
    paced = bool(spec.get("rate"))
    slots = len(devices) if paced else min(spec["concurrency"], len(devices))
    connections = [_Connection(url.hostname, url.port, out) for _ in range(slots)]
    await _connect(connections, [_requests(host, d["token"], [[]])[0] for d in with_batches])
    started = time.perf_counter()
    deadline = started + spec["seconds"]
    if paced:
        # Every device spreads its batches over the same span, so the offer stays at `rate` to the end.
        span = sum(len(b) for d in spec["devices"] for b in d["batches"]) / spec["rate"]
        await asyncio.gather(*(
            _paced(connection, d, started + n / len(devices) * span / len(d.requests), span / len(d.requests),
                   deadline, out)
            for n, (connection, d) in enumerate(zip(connections, devices))))
    else:
        ready = deque(devices)
        await asyncio.gather(*(_slot(connection, ready, deadline) for connection in connections))
    out["seconds"] = time.perf_counter() - started
    out["sent"] = [t - started for t in out["sent"]]
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
