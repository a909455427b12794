"""Load generator for the hub figures, run in its own process:
`python -m benchmarks.loadgen push|pull SPEC.json` prints one JSON line.

push: every simulated device pushes its pre-built batches in device order, one
request in flight per device, at most `concurrency` requests in flight in all,
until the ops run out or `seconds` pass. Latency is measured from send to answer
(waiting for a free slot is not counted). pull: one device reads the whole feed
page by page, as a bootstrapping device does, without applying it."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx


async def _device(client: httpx.AsyncClient, token: str, bodies: list[bytes], slots: asyncio.Semaphore,
                  deadline: float, out: dict) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in bodies:
        if time.perf_counter() > deadline:
            return
        # A failed push is sent again, as a device would: what the hub had applied comes back `duplicate`.
        while time.perf_counter() < deadline:
            async with slots:
                if time.perf_counter() > deadline:
                    return
                started = time.perf_counter()
                try:
                    response = await client.post("/v1/ops", content=body, headers=headers)
                except httpx.HTTPError as exc:
                    response = None
                    out["last_error"] = f"{exc.__class__.__name__}: {exc}"
                out["latency"].append(time.perf_counter() - started)
            if response is not None and response.status_code == 200:
                break
            out["errors"] += 1
            if response is not None:
                out["last_error"] = f"{response.status_code} {response.text[:200]}"
            await asyncio.sleep(0.05)
        else:
            return
        for result in response.json()["results"]:
            out[result["status"]] = out.get(result["status"], 0) + 1


async def push(spec: dict) -> dict:
    slots = asyncio.Semaphore(spec["concurrency"])
    out: dict = {"latency": [], "errors": 0}
    limits = httpx.Limits(max_connections=spec["concurrency"], max_keepalive_connections=spec["concurrency"])
    async with httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=60.0) as client:
        started = time.perf_counter()
        deadline = started + spec["seconds"]
        bodies = [[json.dumps({"ops": batch}).encode() for batch in device["batches"]] for device in spec["devices"]]
        await asyncio.gather(*(_device(client, d["token"], b, slots, deadline, out)
                               for d, b in zip(spec["devices"], bodies)))
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
