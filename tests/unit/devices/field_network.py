"""A seeded simulation of a handheld's scan field talking to the app over a network.

The handheld: a wedge scanner (and sometimes a person) types into a text field; every
key sends the field's whole value up. The app: a ``FieldReader`` gets those values and,
on a 0.2 s timer, flushes and may clear the field, which lands on the handheld a
down-latency later. Latencies are drawn per message, so messages overtake each other;
clears can be lost; outages drop whatever is in transit in either direction, and the
app is told (Flet's ``page.on_disconnect``).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from devices.scan_field import FieldReader
from devices.wedge import Burst

CODES = (
    "5901234123457", "4006381333931", "036000291452", "96385074", "TOTE:T0042", "BIN:A-01-1",
    "BIN:A-01-12", "ORD:SO-100234", "]C1010950110153000317261231~10AB12~21S-9", "PICKUP:SO-7:7Q4K9M",
)


@dataclass(frozen=True)
class Network:
    """One-way latency ranges (s), and what can go missing."""

    up: tuple[float, float]
    down: tuple[float, float]
    lost_clears: float = 0.0  # chance a clear never reaches the handheld
    outages_per_hour: float = 0.0
    outage_length: tuple[float, float] = (0.5, 5.0)
    in_order: bool = False  # one TCP stream (Flet's WebSocket): nothing overtakes


@dataclass
class Run:
    """What was scanned, and what the app handed on."""

    scanned: list[str] = field(default_factory=list)
    bursts: list[Burst] = field(default_factory=list)
    clears: int = 0
    landed: int = 0

    @property
    def read(self) -> list[str]:
        return [b.text for b in self.bursts if b.complete]

    @property
    def refused(self) -> list[Burst]:
        return [b for b in self.bursts if not b.complete]


def simulate(
    reader: FieldReader, network: Network, scans: int, seed: int, *,
    typing_first: float = 0.0, pause: tuple[float, float] = (0.4, 2.0), prefix: str = "",
) -> Run:
    """Scan ``scans`` codes, a share ``typing_first`` of them after a person typed two digits
    and no Enter, then paused ``pause`` seconds. A quarter of scans repeat the previous code."""
    rng = random.Random(seed)
    sim = _Sim(reader, network, rng)
    t = 1.0
    for _ in range(scans):
        code = sim.run.scanned[-1] if sim.run.scanned and rng.random() < 0.25 else rng.choice(CODES)
        if rng.random() < typing_first:
            t = sim.type_slowly(str(rng.randrange(10, 99)), t) + rng.uniform(*pause)
        sim.run.scanned.append(code)
        t = sim.type_fast(prefix + code + "\n", t) + rng.uniform(0.05, 2.5)
    sim.finish(t, t + 30.0)
    return sim.run


class _Sim:
    def __init__(self, reader: FieldReader, network: Network, rng: random.Random) -> None:
        self.reader, self.network, self.rng = reader, network, rng
        self.run = Run()
        self.queue: list[tuple[float, int, str, str]] = []
        self.count = 0
        self.outages: list[tuple[float, float]] = []
        self.last_arrival: dict[tuple[float, float], float] = {}

    def type_fast(self, text: str, t: float) -> float:
        """A scanner: 2-6 ms between keys."""
        for char in text:
            self._push(t, "key", char)
            t += self.rng.uniform(0.002, 0.006)
        return t

    def type_slowly(self, text: str, t: float) -> float:
        """A person: 150-400 ms between keys."""
        for char in text:
            self._push(t, "key", char)
            t += self.rng.uniform(0.15, 0.4)
        return t

    def finish(self, last_scan: float, end: float) -> None:
        # No outage in the last 10 s of scanning: the last scans' keys must reach the app
        # for them to count, and nothing types after them to carry them later.
        self._plan_outages(last_scan - 10.0)
        tick = 0.0
        while tick < end:
            self._push(tick, "tick", "")
            tick += 0.2
        self._play()

    def _plan_outages(self, until: float) -> None:
        rate = self.network.outages_per_hour / 3600
        t = 0.0
        while rate and (t := t + self.rng.expovariate(rate)) < until:
            self.outages.append((t, t + self.rng.uniform(*self.network.outage_length)))
            self._push(t, "lost", "")

    def _push(self, at: float, kind: str, data: str) -> None:
        self.count += 1
        heapq.heappush(self.queue, (at, self.count, kind, data))

    def _through(self, sent: float, latency: tuple[float, float]) -> float | None:
        arrives = sent + self.rng.uniform(*latency)
        if self.network.in_order:
            arrives = self.last_arrival[latency] = max(arrives, self.last_arrival.get(latency, 0.0))
        if any(a <= arrives and sent <= b for a, b in self.outages):
            return None
        return arrives

    def _play(self) -> None:
        value = self.reader.initial_value
        while self.queue:
            at, _, kind, data = heapq.heappop(self.queue)
            if kind == "key":
                value += data
                if (arrives := self._through(at, self.network.up)) is not None:
                    self._push(arrives, "arrive", value)
            elif kind == "arrive":
                self.run.bursts += self.reader.on_change(data, at)
            elif kind == "land":
                value, self.run.landed = data, self.run.landed + 1
            elif kind == "lost":
                self.reader.connection_lost(at)
            else:
                self._tick(at)

    def _tick(self, at: float) -> None:
        self.run.bursts += self.reader.flush(at)
        mark = self.reader.clear_value(at)
        if mark is None:
            return
        self.run.clears += 1
        lands = self._through(at, self.network.down)
        if lands is not None and self.rng.random() >= self.network.lost_clears:
            self._push(lands, "land", mark)


def in_order_subset(read: list[str], scanned: list[str]) -> bool:
    """True when ``read`` is ``scanned`` with some scans left out: none added, none twice, none moved."""
    remaining = iter(scanned)
    return all(any(code == other for other in remaining) for code in read)
