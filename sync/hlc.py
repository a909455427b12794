"""Hybrid logical clock: timestamps that sort like wall time and never go backwards.

A timestamp is `wall_ms:counter:node`, fixed width, so plain string comparison
orders them. The clock takes its wall time from the caller: the rules in `sync/`
never read a clock themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Timestamp", "HybridClock", "is_hlc"]

_WALL_DIGITS = 15
_COUNTER_DIGITS = 6
_SHAPE = re.compile(rf"[0-9]{{{_WALL_DIGITS}}}:[0-9]{{{_COUNTER_DIGITS}}}:[^:\x00-\x1f\x7f]{{1,64}}")


def is_hlc(text: str) -> bool:
    """Whether `text` is what `Timestamp.encode()` writes: fixed-width wall time and
    counter, then a node name. Anything else would sort wrongly against real stamps."""
    return _SHAPE.fullmatch(text) is not None


@dataclass(frozen=True, order=True)
class Timestamp:
    """One HLC reading; orders by (wall_ms, counter, node)."""

    wall_ms: int
    counter: int
    node: str

    def encode(self) -> str:
        return f"{self.wall_ms:0{_WALL_DIGITS}d}:{self.counter:0{_COUNTER_DIGITS}d}:{self.node}"

    @classmethod
    def decode(cls, text: str) -> "Timestamp":
        """Parse `encode()` output; raises ValueError naming the bad text."""
        try:
            wall, counter, node = text.split(":", 2)
            return cls(int(wall), int(counter), node)
        except ValueError as exc:
            raise ValueError(f"not an HLC timestamp: {text!r}") from exc


class HybridClock:
    """A node's HLC. `now(wall_ms)` for a local event, `observe(ts, wall_ms)` on receipt."""

    def __init__(self, node: str, last: Timestamp | None = None):
        self.node = node
        self.last = last or Timestamp(0, 0, node)

    def now(self, wall_ms: int) -> Timestamp:
        if wall_ms > self.last.wall_ms:
            self.last = Timestamp(wall_ms, 0, self.node)
        else:
            self.last = Timestamp(self.last.wall_ms, self.last.counter + 1, self.node)
        return self.last

    def observe(self, remote: Timestamp, wall_ms: int) -> Timestamp:
        wall = max(wall_ms, self.last.wall_ms, remote.wall_ms)
        if wall == self.last.wall_ms == remote.wall_ms:
            counter = max(self.last.counter, remote.counter) + 1
        elif wall == self.last.wall_ms:
            counter = self.last.counter + 1
        elif wall == remote.wall_ms:
            counter = remote.counter + 1
        else:
            counter = 0
        self.last = Timestamp(wall, counter, self.node)
        return self.last
