"""The simulated network between devices and the hub: an httpx transport per
device that drops requests, loses responses after the hub acted, duplicates and
delays requests (re-delivered later, out of order), and cuts partitioned
devices off. All choices come from one seeded RNG."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

__all__ = ["Faults", "Network"]


@dataclass
class Faults:
    drop_request: float = 0.08
    lose_response: float = 0.08
    duplicate: float = 0.08


@dataclass
class _Delayed:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Network:
    rng: random.Random
    faults: Faults
    hub_transport: httpx.AsyncBaseTransport | None = None
    partitioned: set[str] = field(default_factory=set)
    in_flight: list[_Delayed] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def transport(self, device_name: str) -> "DeviceLink":
        return DeviceLink(self, device_name)

    def note(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    async def deliver_delayed(self, how_many: int = 1) -> int:
        """Deliver some delayed copies to the hub now; their answers are lost."""
        delivered = 0
        while self.in_flight and delivered < how_many and self.hub_transport is not None:
            late = self.in_flight.pop(self.rng.randrange(len(self.in_flight)))
            request = httpx.Request(late.method, late.url, headers=late.headers, content=late.body)
            response = await self.hub_transport.handle_async_request(request)
            await response.aread()
            delivered += 1
            self.note("delayed_delivered")
        return delivered


class DeviceLink(httpx.AsyncBaseTransport):
    """One device's connection to the hub through the network."""

    def __init__(self, network: Network, device_name: str):
        self.network = network
        self.device_name = device_name

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        net = self.network
        if self.device_name in net.partitioned or net.hub_transport is None:
            net.note("partitioned")
            raise httpx.ConnectError("no route to hub", request=request)
        if net.rng.random() < net.faults.drop_request:
            net.note("request_dropped")
            raise httpx.ConnectError("request dropped", request=request)
        body = await request.aread()
        if request.method == "POST" and request.url.path == "/v1/ops" and net.rng.random() < net.faults.duplicate:
            net.in_flight.append(_Delayed(request.method, str(request.url), dict(request.headers), body))
            net.note("duplicated")
        response = await net.hub_transport.handle_async_request(
            httpx.Request(request.method, request.url, headers=request.headers, content=body)
        )
        content = await response.aread()
        if net.rng.random() < net.faults.lose_response:
            net.note("response_lost")
            raise httpx.ReadError("connection reset before the answer arrived", request=request)
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)
